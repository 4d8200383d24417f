"""Settings: built once from a cronbridge.toml, the environment (CRONBRIDGE_*) and flags, frozen, then passed down."""

from __future__ import annotations

import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_PORT = 4599
DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"
AUTH_MODES = ("enforce", "open")
LAUNCHERS = ("auto", "docker", "process", "swarm", "noop")
LOG_LEVELS = ("debug", "info", "warning", "error")
CONFIG_NAME = "cronbridge.toml"
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


Duration = typing.NewType("Duration", float)  # seconds; written 90, "90s", "30m", "12h" or "7d"
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DEFAULT_TASK_RETENTION = Duration(7 * 86400.0)


def parse_duration(value: str | float) -> Duration:
    """Seconds from a number or a number with a unit (s, m, h, d, w); ValueError otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        unit = DURATION_UNITS.get(text[-1:]) if text else None
        seconds = float(text[:-1]) * unit if unit else float(text)
    if seconds < 0:
        raise ValueError(value)
    return Duration(seconds)


class ConfigError(ValueError):
    """A setting that cannot be used: said in one line, naming where it came from."""


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
    launcher: str = "auto"  # auto | docker | process | swarm | noop
    allow_reset: bool = False
    manual_clock: bool = False
    docker_host: str | None = None
    auth: str = "enforce"  # enforce | open (any well-formed signature is accepted, as the administrator)
    signature_skew: float = 300.0  # seconds a SigV4 timestamp may differ from the server's clock
    admin_access_key_id: str | None = None  # fixed bootstrap credentials (tests, CI); else generated once
    admin_secret_access_key: str | None = None
    workers: int = 1  # server processes on the one port and database (`cronbridge server` defaults to the CPUs)
    http_threads: int = 32  # threads a server process runs requests on (the event loop only moves bytes)
    watchdog_seconds: float = 10.0  # no progress of the event loop or the task writer for this long: a stall
    test_hooks: bool = False  # CRONBRIDGE_TEST_HOOKS=1: POST /_cronbridge/test/stall (tests of the watchdog)
    log_level: str = "info"  # debug | info | warning | error
    access_log: str | None = None  # one line per request: "-" for stderr, else a file; None: off
    task_retention: Duration = DEFAULT_TASK_RETENTION  # how long stopped tasks are kept for the console and CLI
    database: str | None = None  # postgresql://... (libpq URL) or sqlite:///path; None: the SQLite file in data_dir

    @property
    def db_path(self) -> Path:
        return self.data_dir / "cronbridge.db"

    @property
    def database_url(self) -> str:
        """Where state lives: the --database URL, else the SQLite file in the data folder."""
        return self.database or f"sqlite://{self.db_path}"

    @property
    def admin_credentials_path(self) -> Path:
        return self.data_dir / "admin-credentials"

    def __post_init__(self) -> None:
        for name, allowed in (("auth", AUTH_MODES), ("launcher", LAUNCHERS), ("log_level", LOG_LEVELS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be 0 to 65535, not {self.port}")
        if self.workers < 1 or self.http_threads < 1 or self.watchdog_seconds <= 0:
            raise ConfigError("workers and http_threads must be at least 1, watchdog_seconds more than 0")

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def environment_name(field: str) -> str:
    """The variable that sets a field: CRONBRIDGE_<FIELD> (DOCKER_HOST for docker_host, as Docker's own tools)."""
    return "DOCKER_HOST" if field == "docker_host" else f"CRONBRIDGE_{field.upper()}"


def _types() -> dict[str, Any]:
    return typing.get_type_hints(Settings)


def _coerce(name: str, value: Any, where: str) -> Any:
    """A value from a file (typed) or the environment (text) as the field's type; ConfigError otherwise."""
    kind = _types()[name]
    optional = type(None) in typing.get_args(kind)
    base = next((t for t in typing.get_args(kind) if t is not type(None)), kind)
    if value is None or (optional and value == ""):
        if optional:
            return None
        raise ConfigError(f"{where}: {name} needs a value")
    try:
        return _as(base, value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {name} must be {_words(base)}, not {value!r}") from None


def _as(base: Any, value: Any) -> Any:
    if base is Duration:
        return parse_duration(value)
    if base is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
            return value.strip().lower() in TRUE
        raise ValueError(value)
    if base is int and not isinstance(value, bool):
        return int(value)
    if base is float and not isinstance(value, bool):
        return float(value)
    if base is Path and isinstance(value, str | Path):
        return Path(value).expanduser()
    if base is str and isinstance(value, str | int | float):
        return str(value)
    raise TypeError(value)


def _words(base: Any) -> str:
    words = {bool: "true or false", int: "a whole number", float: "a number", Path: "a path",
             Duration: "a duration such as 90s, 30m, 12h or 7d"}
    return words.get(base, "text")


def find_config(explicit: Path | None, env: Mapping[str, str]) -> Path | None:
    """--config, else $CRONBRIDGE_CONFIG, else ./cronbridge.toml, else $XDG_CONFIG_HOME/cronbridge/cronbridge.toml."""
    chosen = explicit or (Path(env["CRONBRIDGE_CONFIG"]) if env.get("CRONBRIDGE_CONFIG") else None)
    if chosen is not None:
        if not chosen.is_file():
            raise ConfigError(f"no config file at {chosen}")
        return chosen
    home = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    for candidate in (Path(CONFIG_NAME), home / "cronbridge" / CONFIG_NAME):
        if candidate.is_file():
            return candidate
    return None


def read_config(path: Path) -> dict[str, Any]:
    """A cronbridge.toml: settings at the top level or under [server]; `data-dir` and `data_dir` alike."""
    try:
        document = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    table = document.get("server", {}) if isinstance(document.get("server"), dict) else {}
    raw = {**{k: v for k, v in document.items() if k != "server"}, **table}
    known = {f.name for f in fields(Settings)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(f"{path}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
        values[name] = _coerce(name, value, str(path))
    return values


def from_environment(env: Mapping[str, str] | None = None, config: Path | None = None, **overrides: Any) -> Settings:
    """Settings from, lowest first: defaults, the config file, CRONBRIDGE_* variables, then flags (overrides)."""
    env = dict(os.environ) if env is None else env
    values: dict[str, Any] = {"data_dir": default_data_dir()}
    found = find_config(config, env)
    if found is not None:
        values.update(read_config(found))
    for field in fields(Settings):
        name = environment_name(field.name)
        if name in env:
            values[field.name] = _coerce(field.name, env[name], f"${name}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    if values.get("workers") is None:  # one process per CPU; one with a manual clock (it lives in one process)
        values["workers"] = 1 if values.get("manual_clock") else (os.cpu_count() or 1)
    return Settings(**values)

