"""pantau: a news-feed monitoring daemon for Indonesian media."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/pantau-monitor/pantau"
USER_AGENT = f"pantau/{__version__} (+{PROJECT_URL})"
