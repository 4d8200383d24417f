"""Shared fixtures live in tests/fixtures/ and are loaded here as plugins."""

pytest_plugins = [
    "fixtures.server", "fixtures.docker_engine", "fixtures.swarm", "fixtures.browser", "fixtures.disk",
    "fixtures.postgres",
    "fixtures.terraform_cli",
]
