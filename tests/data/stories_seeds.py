"""Hand-written story seeds for the labelled story-grouping corpus (written for pantau).

Each general seed: (key, day of November 2025, city, [titles], [lead sentences], [more]).
``{hari}`` and ``{tgl}`` are filled with the Indonesian weekday and "d/m" of the day.
"""

from __future__ import annotations

GENERAL: list[tuple[str, int, str, list[str], list[str], list[str]]] = [
    (
        "beras-sphp",
        3,
        "Jakarta",
        [
            "Bulog percepat penyaluran beras SPHP ke pasar tradisional",
            "Bulog Genjot Distribusi Beras SPHP Jelang Akhir Tahun",
            "Stok Beras Aman, Bulog Sebar SPHP ke Pasar",
        ],
        [
            "Perum Bulog mempercepat penyaluran beras Stabilisasi Pasokan dan Harga Pangan (SPHP) ke pasar tradisional di seluruh provinsi untuk menahan kenaikan harga menjelang akhir tahun.",
            "Direktur Utama Perum Bulog mengatakan di Jakarta, {hari} ({tgl}), stok beras yang dikuasai perusahaan saat ini mencapai 3,8 juta ton dan tersebar di gudang-gudang daerah.",
            "Penyaluran dilakukan melalui pengecer, koperasi desa, serta gerai pangan milik pemerintah daerah.",
        ],
        [
            "Menurut dia, harga beras medium di sejumlah pasar sudah mulai turun setelah operasi pasar digelar dua pekan terakhir.",
            "Bulog juga menggandeng satuan tugas pangan kepolisian untuk mengawasi agar beras SPHP tidak dikemas ulang sebagai beras premium.",
        ],
    ),
    (
        "gempa-sukabumi",
        4,
        "Bandung",
        [
            "Gempa magnitudo 5,2 guncang Sukabumi, puluhan rumah rusak",
            "Gempa M5,2 Guncang Sukabumi, Warga Berhamburan Keluar Rumah",
            "Puluhan Rumah Rusak Usai Gempa Sukabumi",
        ],
        [
            "Gempa bumi berkekuatan magnitudo 5,2 mengguncang wilayah Kabupaten Sukabumi, Jawa Barat, pada {hari} pagi dan merusak puluhan rumah warga di tiga kecamatan.",
            "Badan Meteorologi, Klimatologi, dan Geofisika mencatat pusat gempa berada di laut pada kedalaman 18 kilometer, sekitar 42 kilometer barat daya Palabuhanratu.",
            "Gempa tersebut tidak berpotensi tsunami, namun guncangannya dirasakan hingga Kota Bogor dan Cianjur.",
        ],
        [
            "Badan Penanggulangan Bencana Daerah setempat masih mendata kerusakan dan mendirikan tenda darurat bagi warga yang rumahnya tidak layak huni.",
            "Sejauh ini tidak ada laporan korban jiwa, tetapi lima warga mengalami luka ringan akibat tertimpa genteng.",
        ],
    ),
    (
        "kai-tiket-nataru",
        5,
        "Jakarta",
        [
            "KAI buka penjualan tiket kereta untuk libur Natal dan Tahun Baru",
            "Tiket Kereta Nataru Sudah Bisa Dipesan, Ini Jadwalnya",
            "Mudik Nataru, KAI Siapkan Ratusan Ribu Kursi Tambahan",
        ],
        [
            "PT Kereta Api Indonesia (Persero) membuka penjualan tiket kereta jarak jauh untuk masa angkutan Natal dan Tahun Baru mulai {hari} ini melalui aplikasi dan loket stasiun.",
            "Vice President Public Relations KAI menyebutkan perseroan menyiapkan lebih dari 3,1 juta kursi selama periode 18 Desember hingga 4 Januari.",
            "Jumlah itu naik sekitar 7 persen dibandingkan masa angkutan yang sama tahun lalu.",
        ],
        [
            "Penumpang diimbau memesan tiket lebih awal karena tanggal keberangkatan favorit biasanya cepat habis.",
            "KAI juga mengoperasikan kereta tambahan pada relasi Jakarta-Yogyakarta, Jakarta-Surabaya, dan Bandung-Malang.",
        ],
    ),
    (
        "timnas-u23",
        6,
        "Jakarta",
        [
            "Timnas U-23 tekuk Vietnam 2-1 di laga uji coba",
            "Gol Menit Akhir Bawa Garuda Muda Kalahkan Vietnam",
            "Indonesia U-23 Menang Dramatis atas Vietnam",
        ],
        [
            "Tim nasional Indonesia U-23 mengalahkan Vietnam dengan skor 2-1 dalam laga uji coba internasional di Stadion Madya, Senayan, Jakarta, {hari} malam.",
            "Gol kemenangan Garuda Muda dicetak oleh penyerang sayap pada menit ke-88 setelah memanfaatkan umpan silang dari sisi kanan.",
            "Vietnam sempat menyamakan kedudukan lewat titik penalti pada awal babak kedua.",
        ],
        [
            "Pelatih tim nasional mengatakan hasil ini menjadi modal penting menjelang kualifikasi Piala Asia U-23.",
            "Kedua tim dijadwalkan kembali bertemu dalam uji coba kedua tiga hari lagi di tempat yang sama.",
        ],
    ),
    (
        "banjir-bekasi",
        7,
        "Bekasi",
        [
            "Banjir rendam ribuan rumah di Bekasi setelah hujan semalaman",
            "Hujan Deras Semalaman, Ribuan Rumah di Bekasi Terendam",
            "Kali Bekasi Meluap, Warga Dievakuasi Pakai Perahu Karet",
        ],
        [
            "Banjir merendam sedikitnya 2.400 rumah di delapan kelurahan di Kota Bekasi, Jawa Barat, setelah hujan deras mengguyur wilayah itu sejak {hari} malam.",
            "Ketinggian air di permukiman dekat bantaran Kali Bekasi mencapai 1,5 meter sehingga petugas gabungan mengevakuasi warga menggunakan perahu karet.",
            "Pemerintah kota membuka enam posko pengungsian di gedung sekolah dan masjid.",
        ],
        [
            "Kepala BPBD Kota Bekasi mengatakan debit air di bendung Bekasi sempat mencapai status siaga satu pada dini hari.",
            "Warga diminta tetap waspada karena prakiraan cuaca menunjukkan hujan lebat masih berpotensi terjadi hingga akhir pekan.",
        ],
    ),
    (
        "ojk-pinjol",
        8,
        "Jakarta",
        [
            "OJK cabut izin usaha satu perusahaan pinjaman daring",
            "Langgar Aturan, Izin Usaha Pinjol Ini Dicabut OJK",
            "OJK Tutup Satu Platform Pinjaman Online",
        ],
        [
            "Otoritas Jasa Keuangan mencabut izin usaha sebuah perusahaan penyelenggara layanan pendanaan bersama berbasis teknologi informasi karena tidak memenuhi ketentuan ekuitas minimum.",
            "Kepala Eksekutif Pengawas Lembaga Pembiayaan OJK mengatakan di Jakarta, {hari}, perusahaan tersebut juga gagal memperbaiki rasio kredit macet yang terus memburuk.",
            "Dengan pencabutan izin ini, perusahaan wajib menyelesaikan hak dan kewajiban kepada pemberi dana serta penerima dana.",
        ],
        [
            "OJK meminta masyarakat untuk memastikan legalitas penyelenggara sebelum meminjam atau menanamkan dana.",
            "Hingga akhir Oktober, jumlah penyelenggara pendanaan bersama yang berizin tercatat 96 perusahaan.",
        ],
    ),
    (
        "haji-kuota",
        9,
        "Jakarta",
        [
            "Kemenag umumkan kuota haji Indonesia 2026 sebanyak 221 ribu jamaah",
            "Kuota Haji 2026 Ditetapkan, Ini Rinciannya",
            "Indonesia Dapat Kuota Haji 221 Ribu untuk Musim 2026",
        ],
        [
            "Kementerian Agama mengumumkan kuota haji Indonesia untuk musim haji 2026 sebanyak 221.000 jamaah yang terdiri atas jamaah haji reguler dan haji khusus.",
            "Direktur Jenderal Penyelenggaraan Haji dan Umrah menyampaikan di Jakarta, {hari} ({tgl}), pembagian kuota ke provinsi akan ditetapkan melalui keputusan menteri pekan depan.",
            "Calon jamaah lanjut usia kembali mendapat prioritas keberangkatan seperti tahun sebelumnya.",
        ],
        [
            "Pemerintah juga tengah membahas besaran biaya perjalanan ibadah haji bersama Komisi VIII DPR.",
            "Pelunasan biaya haji direncanakan dibuka pada awal tahun depan.",
        ],
    ),
    (
        "rusia-china-latihan",
        10,
        "Moskow",
        [
            "Rusia dan China gelar latihan laut bersama di Pasifik",
            "Rusia-China Kompak Latihan Militer, Kiev Buka Pintu bagi Pasukan Asing",
            "Latihan Gabungan Rusia-China Dimulai di Laut Jepang",
        ],
        [
            "Angkatan laut Rusia dan China memulai latihan bersama di perairan Pasifik bagian barat yang melibatkan kapal perusak, kapal selam dan pesawat patroli maritim.",
            "Kementerian Pertahanan Rusia menyatakan latihan yang berlangsung selama lima hari itu bertujuan meningkatkan kemampuan kedua negara menghadapi ancaman di laut.",
            "Pada saat yang sama, parlemen Ukraina menyetujui undang-undang yang mengizinkan pasukan asing ikut serta dalam latihan militer multinasional di wilayahnya.",
        ],
        [
            "Pengamat menilai kedua peristiwa itu menunjukkan semakin tajamnya persaingan blok militer di kawasan.",
            "Beijing menyebut latihan bersama dengan Moskow tidak ditujukan kepada negara ketiga mana pun.",
        ],
    ),
    (
        "kereta-cepat",
        11,
        "Bandung",
        [
            "Penumpang kereta cepat Whoosh tembus 10 juta orang",
            "Whoosh Catat 10 Juta Penumpang Sejak Beroperasi",
            "Sepuluh Juta Penumpang Sudah Naik Kereta Cepat",
        ],
        [
            "Jumlah penumpang kereta cepat Jakarta-Bandung Whoosh menembus 10 juta orang sejak mulai beroperasi secara komersial hampir dua tahun lalu.",
            "General Manager Corporate Secretary PT Kereta Cepat Indonesia China mengatakan di Bandung, {hari}, rata-rata okupansi harian saat ini mencapai 18.000 penumpang.",
            "Lonjakan penumpang paling tinggi terjadi pada akhir pekan dan masa libur sekolah.",
        ],
        [
            "Perusahaan berencana menambah frekuensi perjalanan menjadi 62 kali per hari mulai bulan depan.",
            "Integrasi dengan kereta pengumpan di Stasiun Padalarang juga akan diperluas.",
        ],
    ),
    (
        "dbd-jabar",
        12,
        "Bandung",
        [
            "Kasus demam berdarah di Jawa Barat naik menjelang musim hujan",
            "Waspada DBD, Kasus di Jabar Melonjak",
            "Dinkes Jabar Minta Warga Gencarkan 3M Plus",
        ],
        [
            "Dinas Kesehatan Provinsi Jawa Barat mencatat kenaikan kasus demam berdarah dengue dalam empat pekan terakhir seiring mulai turunnya hujan di sebagian besar kabupaten dan kota.",
            "Kepala dinas mengatakan di Bandung, {hari}, kasus terbanyak ditemukan di Kabupaten Bandung, Kota Bekasi dan Kabupaten Bogor.",
            "Warga diminta menggiatkan gerakan menguras, menutup dan mendaur ulang barang bekas untuk memutus siklus nyamuk.",
        ],
        [],
    ),
    (
        "ekspor-cpo",
        13,
        "Jakarta",
        [
            "Ekspor minyak sawit Indonesia September naik 12 persen",
            "Ekspor CPO Melonjak pada September",
            "GAPKI: Permintaan India Dorong Ekspor Sawit",
        ],
        [
            "Ekspor minyak sawit mentah dan produk turunannya dari Indonesia pada September naik 12 persen dibandingkan bulan sebelumnya menjadi 2,9 juta ton.",
            "Gabungan Pengusaha Kelapa Sawit Indonesia menyebutkan di Jakarta, {hari}, kenaikan terutama didorong permintaan dari India dan China menjelang musim festival.",
            "Stok minyak sawit di dalam negeri pada akhir September turun menjadi 2,5 juta ton.",
        ],
        [
            "Produksi diperkirakan mulai melambat pada kuartal terakhir karena faktor musiman.",
            "Harga referensi CPO untuk periode berikutnya juga diperkirakan naik.",
        ],
    ),
    (
        "kebakaran-pasar",
        14,
        "Medan",
        [
            "Kebakaran hanguskan ratusan kios di pasar tradisional Medan",
            "Ratusan Kios Pasar di Medan Ludes Terbakar",
            "Api Lalap Pasar Tradisional, Pedagang Merugi",
        ],
        [
            "Kebakaran hebat melanda sebuah pasar tradisional di Kota Medan, Sumatera Utara, pada {hari} dini hari dan menghanguskan sekitar 300 kios pedagang.",
            "Sebanyak 18 unit mobil pemadam kebakaran dikerahkan dan api baru bisa dipadamkan setelah sekitar lima jam.",
            "Dugaan sementara, api berasal dari korsleting listrik di salah satu kios pakaian.",
        ],
        [
            "Pemerintah kota berjanji menyiapkan lokasi penampungan sementara agar pedagang bisa kembali berjualan.",
            "Polisi masih menyelidiki penyebab pasti kebakaran tersebut.",
        ],
    ),
    (
        "inflasi-okt",
        3,
        "Jakarta",
        [
            "BPS: inflasi tahunan Oktober 2025 capai 2,86 persen",
            "Inflasi Oktober Naik, Emas Perhiasan Jadi Penyumbang Utama",
            "Harga Emas Perhiasan Kerek Inflasi Oktober",
        ],
        [
            "Badan Pusat Statistik mencatat inflasi tahunan Indonesia pada Oktober 2025 mencapai 2,86 persen, lebih tinggi dibandingkan bulan sebelumnya.",
            "Deputi Bidang Statistik Distribusi dan Jasa BPS mengatakan dalam rilis di Jakarta, {hari}, kelompok perawatan pribadi yang dipengaruhi kenaikan harga emas perhiasan menjadi penyumbang terbesar.",
            "Secara bulanan, inflasi tercatat 0,28 persen.",
        ],
        [
            "Inflasi inti tahunan tercatat 2,36 persen, sedangkan harga bergejolak masih relatif terkendali.",
            "BPS juga mencatat komoditas cabai merah memberi andil deflasi pada bulan tersebut.",
        ],
    ),
    (
        "pemilu-daerah-dpr",
        15,
        "Jakarta",
        [
            "DPR mulai bahas revisi undang-undang pemilu",
            "Revisi UU Pemilu Masuk Pembahasan, Ini Poin-Poinnya",
            "Komisi II DPR Gelar Rapat Perdana Revisi UU Pemilu",
        ],
        [
            "Komisi II DPR RI mulai membahas revisi Undang-Undang Pemilu dalam rapat kerja bersama pemerintah dan penyelenggara pemilu di Kompleks Parlemen, Senayan, Jakarta, {hari}.",
            "Ketua Komisi II mengatakan pembahasan akan menyesuaikan putusan Mahkamah Konstitusi terkait pemisahan jadwal pemilu nasional dan pemilu daerah.",
            "DPR menargetkan revisi rampung sebelum tahapan pemilu berikutnya dimulai.",
        ],
        [
            "Sejumlah fraksi meminta ambang batas parlemen ikut dievaluasi.",
            "Penyelenggara pemilu meminta kepastian anggaran untuk tahapan baru.",
        ],
    ),
    (
        "harimau-riau",
        16,
        "Pekanbaru",
        [
            "Harimau sumatera terkam sapi warga di Indragiri Hilir",
            "Teror Harimau di Inhil, Sapi Warga Jadi Korban",
            "BBKSDA Riau Pasang Kamera Jebak Usai Serangan Harimau",
        ],
        [
            "Seekor harimau sumatera dilaporkan menerkam sapi milik warga di sebuah desa di Kabupaten Indragiri Hilir, Riau, sehingga warga diminta tidak beraktivitas di kebun pada malam hari.",
            "Kepala Balai Besar Konservasi Sumber Daya Alam Riau mengatakan di Pekanbaru, {hari}, tim sudah memasang empat kamera jebak di sekitar lokasi.",
            "Petugas juga menyiapkan kandang jebak apabila harimau terus mendekati permukiman.",
        ],
        [],
    ),
    (
        "bi-rate",
        19,
        "Jakarta",
        [
            "BI pertahankan suku bunga acuan di level 4,75 persen",
            "BI Rate Ditahan 4,75 Persen, Ini Alasannya",
            "Bank Indonesia Tahan Suku Bunga untuk Jaga Rupiah",
        ],
        [
            "Rapat Dewan Gubernur Bank Indonesia memutuskan mempertahankan BI-Rate di level 4,75 persen untuk menjaga stabilitas nilai tukar rupiah di tengah ketidakpastian global.",
            "Gubernur Bank Indonesia mengatakan dalam konferensi pers di Jakarta, {hari} ({tgl}), suku bunga deposit facility juga tetap 3,75 persen dan lending facility 5,50 persen.",
            "Bank sentral menilai inflasi tetap terkendali dalam sasaran 2,5 plus minus 1 persen.",
        ],
        [
            "BI juga memperkuat intervensi di pasar valuta asing dan pembelian surat berharga negara di pasar sekunder.",
            "Pertumbuhan kredit perbankan diperkirakan berada di kisaran 8 hingga 11 persen pada akhir tahun.",
        ],
    ),
    (
        "mbg-keracunan",
        17,
        "Garut",
        [
            "Puluhan siswa di Garut diduga keracunan menu makan bergizi gratis",
            "Siswa di Garut Mual Usai Santap Makan Bergizi Gratis",
            "Dinkes Garut Periksa Sampel Menu MBG",
        ],
        [
            "Puluhan siswa sekolah dasar di Kabupaten Garut, Jawa Barat, dilarikan ke puskesmas setelah mengalami mual dan muntah usai menyantap menu program makan bergizi gratis di sekolah.",
            "Kepala Dinas Kesehatan Garut mengatakan, {hari}, sampel makanan sudah dikirim ke laboratorium kesehatan daerah untuk diperiksa.",
            "Sebagian besar siswa sudah diperbolehkan pulang setelah mendapat perawatan.",
        ],
        [
            "Badan Gizi Nasional menghentikan sementara operasional dapur penyedia makanan tersebut sambil menunggu hasil pemeriksaan.",
            "Pemerintah daerah meminta sekolah melaporkan setiap keluhan kesehatan siswa secepatnya.",
        ],
    ),
    (
        "ihsg-rekor",
        18,
        "Jakarta",
        [
            "IHSG ditutup menguat ke rekor tertinggi baru",
            "IHSG Cetak Rekor, Saham Bank Besar Jadi Penopang",
            "Bursa Saham Menghijau, IHSG Tembus Level Tertinggi",
        ],
        [
            "Indeks Harga Saham Gabungan di Bursa Efek Indonesia ditutup menguat 1,2 persen ke level tertinggi sepanjang masa pada perdagangan {hari} sore.",
            "Penguatan indeks terutama ditopang oleh saham-saham perbankan berkapitalisasi besar dan sektor energi.",
            "Investor asing mencatatkan pembelian bersih sebesar Rp1,1 triliun di seluruh pasar.",
        ],
        [
            "Analis menilai sentimen positif datang dari meredanya kekhawatiran terhadap kebijakan tarif Amerika Serikat.",
            "Nilai transaksi harian mencapai Rp18,6 triliun dengan frekuensi lebih dari 1,3 juta kali.",
        ],
    ),
    (
        "longsor-banjarnegara",
        18,
        "Banjarnegara",
        [
            "Longsor timbun rumah warga di Banjarnegara, tiga orang hilang",
            "Tanah Longsor di Banjarnegara, Tim SAR Cari Tiga Korban",
            "Banjarnegara Longsor, Pencarian Korban Terkendala Hujan",
        ],
        [
            "Tanah longsor menimbun tujuh rumah warga di sebuah desa di Kabupaten Banjarnegara, Jawa Tengah, setelah hujan deras mengguyur kawasan perbukitan itu selama dua hari.",
            "Kepala Kantor SAR Cilacap mengatakan, {hari}, tiga warga masih dinyatakan hilang dan tim gabungan terus melakukan pencarian dengan alat berat.",
            "Sebanyak 140 warga dari dusun terdampak dievakuasi ke balai desa.",
        ],
        [
            "Pencarian sempat dihentikan pada sore hari karena hujan kembali turun dan tanah masih labil.",
            "Pemerintah kabupaten menetapkan status tanggap darurat selama 14 hari.",
        ],
    ),
    (
        "garuda-rute",
        20,
        "Jakarta",
        [
            "Garuda Indonesia buka kembali rute Jakarta-Sydney",
            "Garuda Terbang Lagi ke Sydney Mulai Desember",
            "Rute Jakarta-Sydney Garuda Kembali Dibuka",
        ],
        [
            "Maskapai Garuda Indonesia membuka kembali penerbangan langsung rute Jakarta-Sydney mulai pertengahan Desember dengan frekuensi empat kali seminggu.",
            "Direktur Niaga Garuda Indonesia mengatakan di Tangerang, {hari}, rute tersebut akan dilayani pesawat berbadan lebar Airbus A330.",
            "Pembukaan rute ini untuk menangkap permintaan wisatawan dan pelajar pada musim liburan.",
        ],
        [],
    ),
    (
        "kpk-ott",
        21,
        "Jakarta",
        [
            "KPK tangkap kepala daerah dalam operasi tangkap tangan",
            "OTT KPK, Seorang Bupati Diamankan Bersama Uang Tunai",
            "KPK Benarkan Operasi Tangkap Tangan di Sumatera",
        ],
        [
            "Komisi Pemberantasan Korupsi menangkap seorang bupati di Sumatera beserta sejumlah pejabat dinas dalam operasi tangkap tangan terkait dugaan suap proyek jalan.",
            "Juru bicara KPK membenarkan penangkapan tersebut di Gedung Merah Putih KPK, Jakarta, {hari}, dan menyebut tim menyita uang tunai ratusan juta rupiah.",
            "Pihak-pihak yang ditangkap kini menjalani pemeriksaan intensif.",
        ],
        [
            "KPK memiliki waktu 1x24 jam untuk menentukan status hukum mereka.",
            "Pemerintah provinsi menyatakan menghormati proses hukum yang berjalan.",
        ],
    ),
    (
        "pupuk-subsidi",
        21,
        "Jakarta",
        [
            "Pemerintah tambah alokasi pupuk bersubsidi untuk musim tanam",
            "Alokasi Pupuk Subsidi Ditambah, Petani Diminta Tebus di Kios Resmi",
            "Kementan Pastikan Pupuk Subsidi Cukup Hingga Akhir Tahun",
        ],
        [
            "Pemerintah menambah alokasi pupuk bersubsidi sebanyak 700.000 ton untuk memenuhi kebutuhan petani pada musim tanam Oktober-Maret.",
            "Menteri Pertanian mengatakan di Jakarta, {hari}, penyaluran pupuk kini cukup dengan menunjukkan KTP di kios resmi tanpa syarat tambahan.",
            "Pengawasan diperketat agar pupuk tidak dijual di atas harga eceran tertinggi.",
        ],
        [],
    ),
    (
        "apbn-defisit",
        22,
        "Jakarta",
        [
            "Defisit APBN hingga Oktober capai 2,1 persen PDB",
            "Sri Mulyani: Defisit APBN Masih Terkendali",
            "Belanja Negara Melonjak, Defisit APBN Melebar",
        ],
        [
            "Kementerian Keuangan mencatat defisit Anggaran Pendapatan dan Belanja Negara hingga akhir Oktober 2025 mencapai Rp479,7 triliun atau 2,1 persen terhadap produk domestik bruto.",
            "Menteri Keuangan menyampaikan dalam konferensi pers APBN KiTa di Jakarta, {hari}, belanja negara tumbuh lebih cepat daripada pendapatan karena percepatan program prioritas.",
            "Pendapatan negara tercatat Rp2.113 triliun, sedangkan belanja negara mencapai Rp2.593 triliun.",
        ],
        [
            "Pemerintah memperkirakan defisit hingga akhir tahun tetap di bawah batas 3 persen.",
            "Pembiayaan utang hingga Oktober tercatat sesuai rencana.",
        ],
    ),
    (
        "zelensky-paris",
        22,
        "Paris",
        [
            "Zelensky bertemu Macron bahas jaminan keamanan Ukraina",
            "Zelensky ke Paris, Minta Tambahan Sistem Pertahanan Udara",
            "Macron Janjikan Dukungan Lanjutan untuk Ukraina",
        ],
        [
            "Presiden Ukraina Volodymyr Zelensky bertemu Presiden Prancis Emmanuel Macron di Istana Elysee, Paris, untuk membahas jaminan keamanan bagi Ukraina setelah perang berakhir.",
            "Dalam pernyataan bersama, kedua pemimpin sepakat mempercepat pengiriman sistem pertahanan udara dan pelatihan pilot Ukraina.",
            "Zelensky juga meminta negara-negara Eropa memperketat sanksi terhadap ekspor minyak Rusia.",
        ],
        [
            "Macron menegaskan Prancis siap memimpin koalisi negara yang bersedia mengirim pasukan penjaga perdamaian.",
            "Kremlin menanggapi pertemuan itu dengan menyebutnya sebagai upaya memperpanjang perang.",
        ],
    ),
    (
        "ptm-jakarta-ganjil",
        23,
        "Jakarta",
        [
            "Pemprov DKI perluas ruas jalan ganjil genap",
            "Ganjil Genap Jakarta Diperluas, Ini Daftar Ruasnya",
            "Mulai Bulan Depan, 5 Ruas Jalan Baru Berlaku Ganjil Genap",
        ],
        [
            "Pemerintah Provinsi DKI Jakarta memperluas penerapan pembatasan kendaraan dengan sistem ganjil genap ke lima ruas jalan baru mulai bulan depan.",
            "Kepala Dinas Perhubungan DKI Jakarta mengatakan di Balai Kota, {hari}, perluasan dilakukan karena volume kendaraan di ruas-ruas tersebut meningkat tajam.",
            "Selama dua pekan pertama, petugas hanya memberikan teguran kepada pelanggar.",
        ],
        [],
    ),
    (
        "ri-jepang-energi",
        24,
        "Tokyo",
        [
            "Indonesia dan Jepang teken kerja sama transisi energi senilai 2 miliar dolar",
            "RI-Jepang Sepakati Pendanaan Energi Bersih",
            "Jepang Kucurkan Pendanaan untuk Pensiun Dini PLTU",
        ],
        [
            "Indonesia dan Jepang menandatangani sejumlah nota kesepahaman kerja sama transisi energi senilai 2 miliar dolar AS di Tokyo, termasuk pendanaan pensiun dini pembangkit listrik tenaga uap.",
            "Menteri Energi dan Sumber Daya Mineral mengatakan, {hari}, kerja sama itu juga mencakup pengembangan panas bumi dan jaringan transmisi antarpulau.",
            "Pendanaan akan disalurkan melalui lembaga keuangan pembangunan kedua negara.",
        ],
        [
            "Pemerintah menargetkan porsi energi baru terbarukan dalam bauran energi nasional terus meningkat.",
            "Beberapa proyek diharapkan mulai konstruksi pada tahun depan.",
        ],
    ),
    (
        "wisman-bali",
        25,
        "Denpasar",
        [
            "Kunjungan wisman ke Bali hingga Oktober lampaui 5 juta orang",
            "Bali Kebanjiran Turis Asing, Tembus 5 Juta Kunjungan",
            "Australia Masih Dominasi Kunjungan Wisman ke Bali",
        ],
        [
            "Jumlah kunjungan wisatawan mancanegara ke Bali sejak Januari hingga Oktober 2025 mencapai 5,2 juta orang atau melampaui capaian sepanjang tahun lalu.",
            "Kepala Dinas Pariwisata Provinsi Bali mengatakan di Denpasar, {hari}, wisatawan asal Australia masih menjadi penyumbang terbanyak disusul India dan China.",
            "Pemerintah daerah kini fokus pada pemerataan kunjungan ke kabupaten di luar Badung.",
        ],
        [],
    ),
    (
        "bpjs-iuran",
        26,
        "Jakarta",
        [
            "Pemerintah pastikan iuran BPJS Kesehatan tidak naik tahun depan",
            "Iuran BPJS Kesehatan 2026 Tidak Naik",
            "Menkes: Belum Ada Rencana Kenaikan Iuran JKN",
        ],
        [
            "Pemerintah memastikan iuran peserta Jaminan Kesehatan Nasional yang dikelola BPJS Kesehatan tidak akan naik pada tahun depan meskipun beban klaim terus meningkat.",
            "Menteri Kesehatan menyampaikan hal itu seusai rapat kerja dengan Komisi IX DPR di Jakarta, {hari}.",
            "Pemerintah akan menutup selisih pembiayaan melalui efisiensi dan perbaikan tata kelola klaim rumah sakit.",
        ],
        [],
    ),
    (
        "liga1-persib",
        26,
        "Bandung",
        [
            "Persib kalahkan Persija 3-1 di Stadion GBLA",
            "Persib Menang Besar di Laga Klasik",
            "Maung Bandung Bungkam Macan Kemayoran",
        ],
        [
            "Persib Bandung mengalahkan Persija Jakarta dengan skor 3-1 dalam lanjutan Liga 1 di Stadion Gelora Bandung Lautan Api, {hari} malam.",
            "Dua gol Persib dicetak pada babak pertama melalui sundulan kepala dan tendangan bebas, sedangkan gol ketiga lahir dari serangan balik cepat.",
            "Kemenangan itu membawa Persib kembali ke puncak klasemen sementara.",
        ],
        [],
    ),
    (
        "vaksin-polio",
        27,
        "Jakarta",
        [
            "Kemenkes gelar imunisasi polio tambahan di enam provinsi",
            "Sub PIN Polio Digelar di Enam Provinsi",
            "Jutaan Anak Jadi Sasaran Imunisasi Polio",
        ],
        [
            "Kementerian Kesehatan menggelar pekan imunisasi polio tambahan di enam provinsi setelah ditemukan kasus lumpuh layuh akut pada anak.",
            "Direktur Pengelolaan Imunisasi mengatakan di Jakarta, {hari}, sasaran imunisasi mencapai 4,1 juta anak berusia nol hingga tujuh tahun.",
            "Orang tua diminta membawa anaknya ke posyandu atau puskesmas terdekat tanpa perlu memeriksa status imunisasi sebelumnya.",
        ],
        [],
    ),
    (
        "nikel-smelter",
        27,
        "Kendari",
        [
            "Smelter nikel baru di Konawe mulai produksi",
            "Smelter Nikel Konawe Beroperasi, Serap 3.000 Tenaga Kerja",
            "Hilirisasi Nikel Berlanjut, Smelter Baru Beroperasi",
        ],
        [
            "Sebuah fasilitas pemurnian nikel berteknologi tanur listrik putar di Kabupaten Konawe, Sulawesi Tenggara, mulai berproduksi dengan kapasitas 60.000 ton nikel dalam feronikel per tahun.",
            "Gubernur Sulawesi Tenggara mengatakan saat meresmikan fasilitas itu, {hari}, smelter tersebut menyerap sekitar 3.000 tenaga kerja lokal.",
            "Perusahaan juga berkomitmen membangun pembangkit tenaga surya untuk mengurangi emisi.",
        ],
        [],
    ),
    (
        "sekolah-rakyat",
        28,
        "Jakarta",
        [
            "Pemerintah tambah 100 sekolah rakyat tahun depan",
            "Sekolah Rakyat Bertambah, Target 100 Lokasi Baru",
            "Mensos Umumkan Perluasan Sekolah Rakyat",
        ],
        [
            "Pemerintah menargetkan pembukaan 100 sekolah rakyat baru pada tahun ajaran mendatang untuk menampung anak dari keluarga miskin ekstrem.",
            "Menteri Sosial mengatakan di Jakarta, {hari}, lokasi sekolah baru akan diprioritaskan di daerah dengan angka putus sekolah tertinggi.",
            "Seluruh siswa akan tinggal di asrama dengan biaya yang ditanggung negara.",
        ],
        [],
    ),
    (
        "tol-trans-sumatera",
        2,
        "Palembang",
        [
            "Ruas tol Palembang-Betung segera beroperasi penuh",
            "Tol Palembang-Betung Siap Dilalui Akhir Tahun",
            "Hutama Karya Kebut Tol Kapal Betung",
        ],
        [
            "Ruas jalan tol Palembang-Betung sepanjang 69 kilometer ditargetkan beroperasi penuh sebelum libur akhir tahun untuk memperlancar arus kendaraan di lintas timur Sumatera.",
            "Direktur Operasi Hutama Karya mengatakan di Palembang, {hari}, progres konstruksi sudah mencapai 96 persen.",
            "Ruas tersebut akan memangkas waktu tempuh Palembang ke Betung dari tiga jam menjadi sekitar 45 menit.",
        ],
        [],
    ),
    (
        "erupsi-lewotobi",
        2,
        "Larantuka",
        [
            "Gunung Lewotobi Laki-laki kembali erupsi, status tetap Awas",
            "Lewotobi Erupsi Lagi, Kolom Abu Capai 2.000 Meter",
            "Warga Diminta Jauhi Radius 7 Km dari Lewotobi",
        ],
        [
            "Gunung Lewotobi Laki-laki di Kabupaten Flores Timur, Nusa Tenggara Timur, kembali mengalami erupsi dengan tinggi kolom abu sekitar 2.000 meter di atas puncak.",
            "Pos Pengamatan Gunung Api mencatat erupsi terjadi pada {hari} pagi dan terekam seismograf dengan amplitudo maksimum 47 milimeter.",
            "Status gunung tetap berada pada level IV atau Awas dan warga diminta tidak beraktivitas dalam radius tujuh kilometer.",
        ],
        [
            "Bandara di Maumere sempat ditutup sementara akibat sebaran abu vulkanik.",
            "Ribuan warga masih bertahan di tempat pengungsian.",
        ],
    ),
    (
        "paspor-online",
        5,
        "Jakarta",
        [
            "Imigrasi luncurkan layanan paspor elektronik di 20 kantor baru",
            "Paspor Elektronik Kini Bisa Dibuat di 20 Kantor Imigrasi Baru",
            "Layanan E-Paspor Diperluas",
        ],
        [
            "Direktorat Jenderal Imigrasi memperluas layanan pembuatan paspor elektronik ke 20 kantor imigrasi baru sehingga kini tersedia di 145 kantor di seluruh Indonesia.",
            "Direktur Jenderal Imigrasi mengatakan di Jakarta, {hari}, pemohon tetap mendaftar melalui aplikasi sebelum datang untuk wawancara dan foto.",
            "Paspor elektronik memiliki cip yang menyimpan data biometrik pemegangnya.",
        ],
        [],
    ),
    (
        "gaza-bantuan",
        7,
        "Jakarta",
        [
            "Indonesia kirim bantuan kemanusiaan 100 ton untuk Gaza",
            "Pesawat TNI Angkut Bantuan 100 Ton ke Gaza",
            "Bantuan RI untuk Palestina Diberangkatkan dari Halim",
        ],
        [
            "Pemerintah Indonesia mengirimkan bantuan kemanusiaan seberat 100 ton berupa makanan, obat-obatan dan perlengkapan medis untuk warga Gaza melalui Mesir.",
            "Menteri Luar Negeri melepas pemberangkatan bantuan dari Pangkalan Udara Halim Perdanakusuma, Jakarta, {hari}.",
            "Bantuan akan diserahkan kepada Bulan Sabit Merah Mesir untuk disalurkan melalui perlintasan Rafah.",
        ],
        [],
    ),
    (
        "umkm-kur",
        8,
        "Surabaya",
        [
            "Penyaluran KUR hingga Oktober capai Rp220 triliun",
            "KUR Tersalur Rp220 Triliun, Sektor Produksi Mendominasi",
            "Realisasi KUR 2025 Sudah 78 Persen dari Target",
        ],
        [
            "Penyaluran Kredit Usaha Rakyat sejak Januari hingga Oktober 2025 mencapai Rp220 triliun kepada lebih dari 3,9 juta debitur usaha mikro, kecil dan menengah.",
            "Deputi Bidang Koordinasi Ekonomi Kerakyatan mengatakan di Surabaya, {hari}, sektor produksi menyerap lebih dari separuh penyaluran.",
            "Pemerintah meminta bank penyalur memperluas akses KUR bagi debitur baru.",
        ],
        [],
    ),
    (
        "satgas-judol",
        9,
        "Jakarta",
        [
            "Polri blokir ribuan rekening terkait judi daring",
            "Ribuan Rekening Judi Online Diblokir",
            "Satgas Judi Daring Bekukan Rekening Penampung",
        ],
        [
            "Kepolisian Negara Republik Indonesia bersama Pusat Pelaporan dan Analisis Transaksi Keuangan memblokir lebih dari 5.000 rekening yang diduga menampung dana judi daring.",
            "Kepala Badan Reserse Kriminal Polri mengatakan di Jakarta, {hari}, total dana yang dibekukan mencapai Rp2,3 triliun.",
            "Penyidik juga menetapkan 34 tersangka dari jaringan pengelola situs judi.",
        ],
        [],
    ),
    (
        "air-bersih-ntt",
        10,
        "Kupang",
        [
            "Kekeringan, warga Kupang antre air bersih dari tangki",
            "Krisis Air Bersih Melanda Kupang",
            "BPBD Kupang Distribusikan Air Bersih ke Desa-Desa",
        ],
        [
            "Ribuan warga di sejumlah desa di Kabupaten Kupang, Nusa Tenggara Timur, mengantre air bersih yang didistribusikan menggunakan truk tangki akibat kemarau panjang.",
            "Kepala BPBD Kabupaten Kupang mengatakan, {hari}, pihaknya menyalurkan sekitar 40 tangki air setiap hari ke 26 desa terdampak.",
            "Sebagian besar sumur warga sudah mengering sejak dua bulan terakhir.",
        ],
        [],
    ),
    (
        "startup-phk",
        11,
        "Jakarta",
        [
            "Perusahaan rintisan e-commerce PHK 10 persen karyawan",
            "Efisiensi, Startup E-Commerce Pangkas Karyawan",
            "Gelombang PHK Startup Berlanjut",
        ],
        [
            "Sebuah perusahaan rintisan perdagangan elektronik di Jakarta memutus hubungan kerja sekitar 10 persen karyawannya sebagai bagian dari efisiensi untuk mencapai profitabilitas.",
            "Juru bicara perusahaan mengatakan, {hari}, karyawan terdampak mendapat pesangon sesuai ketentuan ditambah perpanjangan asuransi kesehatan.",
            "Perusahaan menyebut keputusan ini tidak memengaruhi layanan kepada pelanggan dan mitra penjual.",
        ],
        [],
    ),
    (
        "mudik-motor-gratis",
        12,
        "Jakarta",
        [
            "Kemenhub siapkan angkutan motor gratis untuk libur Natal",
            "Motor Gratis Nataru, Pendaftaran Dibuka",
            "Kapal dan Kereta Angkut Motor Gratis Saat Libur Akhir Tahun",
        ],
        [
            "Kementerian Perhubungan kembali menyiapkan program angkutan sepeda motor gratis dengan kapal laut dan kereta api untuk masa libur Natal dan Tahun Baru.",
            "Direktur Jenderal Perhubungan Darat mengatakan di Jakarta, {hari}, kuota program tahun ini mencapai 30.000 sepeda motor.",
            "Pendaftaran dapat dilakukan secara daring mulai pekan depan.",
        ],
        [],
    ),
    (
        "as-tarif-tekstil",
        13,
        "Jakarta",
        [
            "Pengusaha tekstil khawatirkan tarif baru Amerika Serikat",
            "Tarif AS Ancam Industri Tekstil Nasional",
            "API Minta Pemerintah Negosiasi Ulang Tarif Tekstil",
        ],
        [
            "Asosiasi Pertekstilan Indonesia mengkhawatirkan tarif impor baru yang diberlakukan Amerika Serikat akan memukul ekspor pakaian jadi yang menjadi andalan industri padat karya.",
            "Ketua umum asosiasi mengatakan di Jakarta, {hari}, sejumlah pembeli dari Amerika Serikat sudah menunda pesanan untuk kuartal pertama tahun depan.",
            "Asosiasi meminta pemerintah segera menuntaskan negosiasi dagang dengan Washington.",
        ],
        [],
    ),
    (
        "jembatan-kalbar",
        14,
        "Pontianak",
        [
            "Jembatan gantung putus di Kapuas Hulu, empat warga terluka",
            "Jembatan Gantung Putus Saat Dilintasi Warga",
            "Kapuas Hulu: Jembatan Ambruk, Akses Dua Desa Terputus",
        ],
        [
            "Sebuah jembatan gantung yang menghubungkan dua desa di Kabupaten Kapuas Hulu, Kalimantan Barat, putus saat dilintasi belasan warga sehingga empat orang terluka.",
            "Kepala Kepolisian Sektor setempat mengatakan, {hari}, kabel penahan jembatan diduga sudah berkarat dan tidak mampu menahan beban.",
            "Korban luka dibawa ke rumah sakit umum daerah di Putussibau.",
        ],
        [],
    ),
    (
        "bansos-pkh",
        15,
        "Jakarta",
        [
            "Bansos PKH tahap keempat mulai disalurkan",
            "PKH Tahap 4 Cair, Cek Penerimanya di Sini",
            "Kemensos Salurkan PKH Tahap Akhir 2025",
        ],
        [
            "Kementerian Sosial mulai menyalurkan bantuan Program Keluarga Harapan tahap keempat kepada sekitar 9,9 juta keluarga penerima manfaat melalui bank himpunan milik negara dan PT Pos Indonesia.",
            "Direktur Jaminan Sosial Keluarga mengatakan di Jakarta, {hari}, penyaluran ditargetkan selesai sebelum pertengahan Desember.",
            "Warga dapat memeriksa status penerima melalui laman resmi Kementerian Sosial dengan memasukkan nomor induk kependudukan.",
        ],
        [],
    ),
    (
        "pabrik-baterai",
        16,
        "Karawang",
        [
            "Pabrik sel baterai kendaraan listrik di Karawang tambah kapasitas",
            "Kapasitas Pabrik Baterai EV Karawang Naik Jadi 20 GWh",
            "Ekspansi Pabrik Baterai Mobil Listrik Dimulai",
        ],
        [
            "Pabrik sel baterai kendaraan listrik di Kabupaten Karawang, Jawa Barat, memulai ekspansi tahap kedua untuk meningkatkan kapasitas produksi dari 10 menjadi 20 gigawatt jam per tahun.",
            "Menteri Investasi dan Hilirisasi mengatakan saat peletakan batu pertama, {hari}, nilai investasi tahap kedua mencapai 1,2 miliar dolar AS.",
            "Produksi baterai tahap kedua ditargetkan dimulai dua tahun mendatang.",
        ],
        [],
    ),
    (
        "asean-summit",
        17,
        "Kuala Lumpur",
        [
            "Prabowo hadiri KTT ASEAN di Kuala Lumpur",
            "Presiden Tiba di Kuala Lumpur untuk KTT ASEAN",
            "Di KTT ASEAN, Indonesia Dorong Penyelesaian Krisis Myanmar",
        ],
        [
            "Presiden Prabowo Subianto menghadiri Konferensi Tingkat Tinggi ASEAN di Kuala Lumpur, Malaysia, yang membahas ketahanan pangan, transisi energi dan krisis di Myanmar.",
            "Menteri Sekretaris Negara mengatakan, {hari}, Presiden juga dijadwalkan melakukan pertemuan bilateral dengan sejumlah kepala negara di sela konferensi.",
            "Indonesia mendorong ASEAN mempercepat implementasi konsensus lima poin terkait Myanmar.",
        ],
        [],
    ),
    (
        "ujian-tka",
        19,
        "Jakarta",
        [
            "Tes kemampuan akademik untuk siswa SMA digelar serentak",
            "TKA SMA Digelar Serentak, Ini Hal yang Perlu Disiapkan",
            "Jutaan Siswa Ikuti Tes Kemampuan Akademik",
        ],
        [
            "Tes kemampuan akademik bagi siswa kelas XII SMA dan sederajat digelar serentak di seluruh Indonesia dengan peserta sekitar 3,5 juta siswa.",
            "Kepala Badan Standar, Kurikulum, dan Asesmen Pendidikan mengatakan di Jakarta, {hari}, hasil tes dapat digunakan sebagai salah satu pertimbangan seleksi masuk perguruan tinggi.",
            "Tes dilaksanakan berbasis komputer di sekolah dan satuan pendidikan mitra.",
        ],
        [],
    ),
    (
        "narkoba-kapal",
        20,
        "Batam",
        [
            "Bea Cukai gagalkan penyelundupan 1 ton sabu di perairan Batam",
            "Satu Ton Sabu Disita dari Kapal Ikan di Batam",
            "Penyelundupan Sabu Jaringan Internasional Digagalkan",
        ],
        [
            "Direktorat Jenderal Bea dan Cukai bersama Badan Narkotika Nasional menggagalkan penyelundupan sekitar satu ton sabu yang diangkut kapal ikan berbendera asing di perairan Batam, Kepulauan Riau.",
            "Kepala BNN mengatakan di Batam, {hari}, lima anak buah kapal berkewarganegaraan asing ditangkap dalam operasi tersebut.",
            "Narkotika itu diduga berasal dari kawasan segitiga emas dan akan diedarkan ke sejumlah kota besar.",
        ],
        [],
    ),
    (
        "listrik-diskon",
        23,
        "Jakarta",
        [
            "PLN beri diskon tambah daya listrik 50 persen",
            "Diskon Tambah Daya PLN 50 Persen, Begini Caranya",
            "Promo PLN: Tambah Daya Setengah Harga Hingga Akhir Tahun",
        ],
        [
            "PT PLN (Persero) memberikan potongan 50 persen biaya penyambungan tambah daya listrik bagi pelanggan rumah tangga hingga akhir tahun untuk mendorong penggunaan peralatan listrik.",
            "Direktur Retail dan Niaga PLN mengatakan di Jakarta, {hari}, promo berlaku untuk pelanggan golongan daya 450 VA hingga 5.500 VA.",
            "Pelanggan cukup mengajukan permohonan melalui aplikasi PLN Mobile.",
        ],
        [],
    ),
    (
        "kebakaran-hutan-kalteng",
        24,
        "Palangka Raya",
        [
            "Titik panas di Kalimantan Tengah menurun setelah hujan",
            "Hotspot Kalteng Turun Drastis",
            "Karhutla Kalteng Mereda Berkat Hujan",
        ],
        [
            "Jumlah titik panas di Kalimantan Tengah menurun drastis dalam sepekan terakhir setelah hujan mulai turun di sebagian besar wilayah provinsi itu.",
            "Kepala BPBD Kalimantan Tengah mengatakan di Palangka Raya, {hari}, satelit hanya mendeteksi 12 titik panas dibandingkan lebih dari 300 titik pada awal bulan.",
            "Meski demikian, patroli pencegahan kebakaran lahan gambut tetap dilanjutkan.",
        ],
        [],
    ),
    (
        "pemilu-as-reaksi",
        25,
        "Washington",
        [
            "Kongres AS setujui paket bantuan baru untuk Ukraina",
            "Paket Bantuan Ukraina Lolos di Kongres",
            "Ukraina Dapat Bantuan Militer Tambahan dari AS",
        ],
        [
            "Kongres Amerika Serikat menyetujui paket bantuan militer dan ekonomi baru untuk Ukraina setelah perdebatan panjang di Dewan Perwakilan Rakyat.",
            "Paket tersebut mencakup amunisi artileri, sistem pertahanan udara dan dukungan anggaran untuk pemerintah di Kiev.",
            "Presiden Ukraina menyampaikan terima kasih dan menyebut bantuan itu sangat penting menjelang musim dingin.",
        ],
        [],
    ),
    (
        "kopdes-merah-putih",
        26,
        "Jakarta",
        [
            "Koperasi desa merah putih mulai beroperasi di 1.000 desa",
            "Ribuan Koperasi Desa Merah Putih Beroperasi",
            "Menkop: Kopdes Merah Putih Jadi Penggerak Ekonomi Desa",
        ],
        [
            "Sebanyak 1.000 koperasi desa merah putih mulai beroperasi dan melayani penjualan kebutuhan pokok, simpan pinjam serta penyaluran pupuk di tingkat desa.",
            "Menteri Koperasi mengatakan di Jakarta, {hari}, pemerintah menargetkan seluruh koperasi yang sudah berbadan hukum beroperasi penuh tahun depan.",
            "Pembiayaan awal koperasi difasilitasi oleh bank milik negara.",
        ],
        [],
    ),
    (
        "badminton-final",
        27,
        "Jakarta",
        [
            "Ganda putra Indonesia juarai turnamen bulu tangkis di Korea",
            "Ganda Putra RI Juara di Korea",
            "Bulu Tangkis: Indonesia Bawa Pulang Gelar dari Korea",
        ],
        [
            "Pasangan ganda putra Indonesia menjuarai turnamen bulu tangkis BWF World Tour Super 500 di Korea setelah mengalahkan unggulan pertama asal China di partai final.",
            "Pasangan Indonesia menang rubber game dengan skor 21-18, 19-21, 21-16 dalam pertandingan yang berlangsung lebih dari satu jam.",
            "Gelar ini menjadi yang ketiga bagi mereka pada musim ini.",
        ],
        [],
    ),
    (
        "harga-cabai",
        28,
        "Surabaya",
        [
            "Harga cabai rawit di Surabaya tembus Rp80 ribu per kilogram",
            "Cabai Rawit Mahal, Pedagang di Surabaya Mengeluh",
            "Harga Cabai Melonjak Akibat Cuaca",
        ],
        [
            "Harga cabai rawit di sejumlah pasar tradisional di Surabaya, Jawa Timur, melonjak hingga Rp80.000 per kilogram akibat pasokan dari sentra produksi berkurang karena cuaca buruk.",
            "Seorang pedagang di Pasar Keputran mengatakan, {hari}, harga cabai rawit naik dua kali lipat dalam sepekan.",
            "Dinas Perdagangan setempat berencana menggelar operasi pasar untuk menekan harga.",
        ],
        [],
    ),
]

# Single-outlet stories: only one copy, so they test that unrelated items stay alone.
SINGLES: list[tuple[str, int, str, str, str]] = [
    (
        "s-hoaks",
        4,
        "Jakarta",
        "Kominfo bantah kabar pemblokiran aplikasi pesan",
        "Kementerian Komunikasi dan Digital membantah kabar yang beredar di media sosial tentang rencana pemblokiran aplikasi pesan instan populer mulai bulan depan dan menyebut informasi tersebut sebagai hoaks.",
    ),
    (
        "s-macet-puncak",
        8,
        "Bogor",
        "Jalur Puncak macet total, polisi berlakukan satu arah",
        "Kepolisian Resor Bogor memberlakukan sistem satu arah di jalur Puncak setelah antrean kendaraan wisatawan mengular hingga belasan kilometer sejak pagi hari menjelang akhir pekan panjang.",
    ),
    (
        "s-museum",
        12,
        "Yogyakarta",
        "Museum Sonobudoyo buka pameran keris pusaka",
        "Museum Sonobudoyo Yogyakarta membuka pameran keris pusaka dari berbagai daerah di Nusantara yang dapat dikunjungi masyarakat secara gratis selama dua pekan ke depan.",
    ),
    (
        "s-kapal-tenggelam",
        15,
        "Ambon",
        "Kapal motor tenggelam di perairan Seram, tujuh penumpang selamat",
        "Sebuah kapal motor pengangkut penumpang tenggelam di perairan Pulau Seram, Maluku, setelah dihantam gelombang tinggi, namun seluruh tujuh penumpang dan dua awak berhasil diselamatkan nelayan setempat.",
    ),
    (
        "s-beasiswa",
        18,
        "Jakarta",
        "LPDP buka pendaftaran beasiswa tahap pertama 2026",
        "Lembaga Pengelola Dana Pendidikan membuka pendaftaran beasiswa tahap pertama tahun 2026 untuk jenjang magister dan doktor di perguruan tinggi dalam dan luar negeri dengan kuota yang lebih besar dari tahun lalu.",
    ),
    (
        "s-sampah",
        22,
        "Bandung",
        "Bandung darurat sampah, TPA Sarimukti kelebihan kapasitas",
        "Pemerintah Kota Bandung menetapkan status darurat sampah karena tempat pembuangan akhir Sarimukti sudah melebihi kapasitas sehingga pengangkutan sampah dari permukiman dibatasi.",
    ),
    (
        "s-gempa-maluku",
        24,
        "Ambon",
        "Gempa magnitudo 4,8 guncang Maluku Tengah",
        "Gempa bumi berkekuatan magnitudo 4,8 mengguncang wilayah Maluku Tengah pada dini hari dengan pusat di laut pada kedalaman 10 kilometer dan tidak berpotensi tsunami menurut keterangan resmi badan meteorologi.",
    ),
    (
        "s-banjir-bekasi-lagi",
        13,
        "Bekasi",
        "Banjir kembali rendam perumahan di Bekasi Utara",
        "Banjir kembali merendam sebuah kompleks perumahan di Bekasi Utara setelah tanggul di tepi kali jebol akibat derasnya aliran air, dan warga mengungsi ke musala serta gedung serbaguna terdekat.",
    ),
]
