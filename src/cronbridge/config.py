"""Settings: built once from flags and environment into a frozen object, then passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_PORT = 4599
DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"
AUTH_MODES = ("enforce", "open")


def default_data_dir() -> Path:
    """Where state lives unless told otherwise: $XDG_DATA_HOME/cronbridge or ~/.local/share/cronbridge."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cronbridge"


@dataclass(frozen=True)
class Settings:
    """Everything a server needs to know, decided once at start-up."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = Path(".")
    account_id: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    launcher: str = "auto"  # auto | docker | process
    allow_reset: bool = False
    manual_clock: bool = False
    docker_host: str | None = None
    auth: str = "enforce"  # enforce | open (any well-formed signature is accepted, as the administrator)
    signature_skew: float = 300.0  # seconds a SigV4 timestamp may differ from the server's clock
    admin_access_key_id: str | None = None  # fixed bootstrap credentials (tests, CI); else generated once
    admin_secret_access_key: str | None = None

    @property
    def db_path(self) -> Path:
        return self.data_dir / "cronbridge.db"

    @property
    def admin_credentials_path(self) -> Path:
        return self.data_dir / "admin-credentials"

    def __post_init__(self) -> None:
        if self.auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {', '.join(AUTH_MODES)}, not {self.auth!r}")

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def from_environment(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings from CRONBRIDGE_* variables, then explicit overrides (flags) on top."""
    env = dict(os.environ) if env is None else env
    values: dict[str, Any] = {
        "host": env.get("CRONBRIDGE_HOST", "127.0.0.1"),
        "port": int(env.get("CRONBRIDGE_PORT", DEFAULT_PORT)),
        "data_dir": Path(env.get("CRONBRIDGE_DATA_DIR") or default_data_dir()),
        "account_id": env.get("CRONBRIDGE_ACCOUNT_ID", DEFAULT_ACCOUNT),
        "region": env.get("CRONBRIDGE_REGION", DEFAULT_REGION),
        "launcher": env.get("CRONBRIDGE_LAUNCHER", "auto"),
        "allow_reset": env.get("CRONBRIDGE_ALLOW_RESET", "") in ("1", "true", "yes"),
        "docker_host": env.get("DOCKER_HOST"),
        "auth": env.get("CRONBRIDGE_AUTH", "enforce"),
        "signature_skew": float(env.get("CRONBRIDGE_SIGNATURE_SKEW", "300")),
        "admin_access_key_id": env.get("CRONBRIDGE_ADMIN_ACCESS_KEY_ID") or None,
        "admin_secret_access_key": env.get("CRONBRIDGE_ADMIN_SECRET_ACCESS_KEY") or None,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
