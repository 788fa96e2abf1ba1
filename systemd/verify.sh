#!/usr/bin/env bash
# Checks systemd/pantau.service: `systemd-analyze verify` accepts it, the directives SPEC §5
# requires are present, no secret sits in the unit, and the offline security exposure score
# is at most 2.0. Called by .ci/run; exits non-zero on any failure.
#
# Usage: systemd/verify.sh [path/to/pantau.service]
set -euo pipefail

unit=${1:-"$(cd "$(dirname "$0")" && pwd)/pantau.service"}
max_score=2.0
fail() { echo "verify.sh: FAIL: $*" >&2; exit 1; }

[[ -f $unit ]] || fail "no unit file at $unit"

# --- systemd-analyze, installed on demand (Debian/Ubuntu: it ships in package "systemd") ---
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "verify.sh: systemd-analyze missing, installing package systemd" >&2
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || fail "systemd-analyze missing and not root"
        sudo="sudo"
    fi
    command -v apt-get >/dev/null 2>&1 || fail "systemd-analyze missing and no apt-get"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        systemd >/dev/null
    command -v systemd-analyze >/dev/null 2>&1 || fail "installed systemd, still no systemd-analyze"
fi
version=$(systemd-analyze --version | awk 'NR==1 {print $2}')
# --offline= and --threshold= for `security` arrived in systemd 250.
[[ $version =~ ^[0-9]+$ && $version -ge 250 ]] || fail "systemd $version too old (need >= 250)"
echo "verify.sh: systemd $version"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/units" "$work/bin"

# --- required directives and no secrets in the unit ---
required=(
    "Type=notify" "NotifyAccess=main" "WatchdogSec=" "Restart=on-failure" "DynamicUser=yes"
    "StateDirectory=pantau" "ConfigurationDirectory=pantau" "ProtectSystem=strict"
    "ProtectHome=yes" "PrivateTmp=yes" "PrivateDevices=yes" "NoNewPrivileges=yes"
    "MemoryDenyWriteExecute=yes" "SystemCallFilter=@system-service"
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "EnvironmentFile=" "ExecReload="
)
for directive in "${required[@]}"; do
    grep -q "^${directive}" "$unit" || fail "missing directive: $directive"
done
if grep -Eiq '^[^#]*(hooks\.slack\.com|password|token|secret|://[^/@ ]+:[^/@ ]+@)' "$unit"; then
    fail "the unit contains what looks like a secret; secrets belong in the EnvironmentFile"
fi

# --- systemd-analyze verify ---
# verify insists that ExecStart's binary exists and is executable, and pantau is not installed
# on the CI machine. So a copy of the unit (same name: verify derives the unit name from it)
# is verified with ExecStart's program swapped for a stub in the temp dir; every other line
# is checked as written.
stub="$work/bin/pantau"
printf '#!/bin/sh\nexit 0\n' >"$stub"
chmod 0755 "$stub"
sed -E "s#^ExecStart=([-@:+!]*)/usr/local/bin/pantau#ExecStart=\\1${stub}#" "$unit" \
    >"$work/units/pantau.service"
grep -q "^ExecStart=.*${stub}" "$work/units/pantau.service" \
    || fail "ExecStart= does not run /usr/local/bin/pantau"
# verify exits 0 on unknown keys and unparsable values (it only prints them), so any
# diagnostic that names the unit counts as a failure.
verify_out=$(systemd-analyze verify --man=no "$work/units/pantau.service" 2>&1) \
    || fail "systemd-analyze verify:
$verify_out"
if grep -q "pantau.service" <<<"$verify_out"; then
    fail "systemd-analyze verify reported problems:
$verify_out"
fi
[[ -z $verify_out ]] || echo "verify.sh: (other units) $verify_out" >&2
echo "verify.sh: systemd-analyze verify: ok"

# --- offline security exposure: 0.0 (locked down) .. 10.0 (unsafe); --threshold is x10 ---
threshold=$(awk -v m="$max_score" 'BEGIN {printf "%d", m * 10}')
set +e
security_out=$(systemd-analyze security --offline=true --threshold="$threshold" \
    "$work/units/pantau.service" 2>&1)
security_rc=$?
set -e
score=$(sed -nE 's/.*Overall exposure level for pantau\.service: ([0-9.]+).*/\1/p' \
    <<<"$security_out")
[[ -n $score ]] || fail "no exposure score in systemd-analyze security output:
$security_out"
echo "verify.sh: security exposure score: $score (max $max_score)"
if [[ $security_rc -ne 0 ]] || awk -v s="$score" -v m="$max_score" 'BEGIN {exit !(s > m)}'; then
    grep -E '^✗' <<<"$security_out" >&2 || true
    fail "exposure score $score above $max_score"
fi
# The parse workers lower their own priority (daemon/runtime/parsepool.py): the unit's deny list of
# @resources must let setpriority through, or they parse at the daemon's priority.
grep -q "setpriority is allowed" <<<"$security_out" \
    || fail "the unit's SystemCallFilter blocks setpriority (the parse workers' nice)"
echo "verify.sh: setpriority allowed (parse workers' nice)"
echo "verify.sh: ok"
