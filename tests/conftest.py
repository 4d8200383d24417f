"""Shared fixtures live in tests/fixtures/ and are loaded here as plugins."""

pytest_plugins = ["fixtures.server", "fixtures.docker_engine"]
