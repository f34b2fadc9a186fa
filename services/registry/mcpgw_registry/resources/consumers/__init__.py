"""Consumers: API keys (stored as digests) and JWT settings (`jwtIdentityConfig`)."""
