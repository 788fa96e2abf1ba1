"""The dashboard (README.md "Dashboard"): read-only pages over the database for the people
who read what pantau finds. ``queries`` reads, ``charts`` draws, ``app`` renders (Flask,
Jinja2 autoescaping), ``server`` serves (waitress threads), beside ``pantau run`` or alone
as ``pantau web``."""
