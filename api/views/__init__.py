"""API v1 views: adapters over the other apps' selectors and services (never their views)."""
