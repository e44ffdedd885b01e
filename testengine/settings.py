"""Settings from the environment, read once at the edge and passed down."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

# The checkout this package runs from: the shipped data folders sit beside testengine/.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_database_url() -> str:
    return f"sqlite:///{Path(user_data_dir('testengine')) / 'testengine.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str
    item_banks: Path
    blueprints: Path
    invigilation: Path
    # Signing keys for cookies, newest first: older ones still verify, so keys can be rotated.
    secret_keys: tuple[str, ...] = ()
    # The analysts' settings (analysis.yaml); generated reports go to its generated/ folder.
    reports: Path = PROJECT_ROOT / "reports"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """TESTENGINE_DATABASE_URL, _ITEM_BANKS, _BLUEPRINTS, _INVIGILATION, _SECRET_KEYS, _REPORTS, or defaults."""
        return cls(
            database_url=environ.get("TESTENGINE_DATABASE_URL") or default_database_url(),
            item_banks=Path(environ.get("TESTENGINE_ITEM_BANKS") or PROJECT_ROOT / "item_banks"),
            blueprints=Path(environ.get("TESTENGINE_BLUEPRINTS") or PROJECT_ROOT / "blueprints"),
            invigilation=Path(environ.get("TESTENGINE_INVIGILATION") or PROJECT_ROOT / "invigilation"),
            secret_keys=tuple(k.strip() for k in environ.get("TESTENGINE_SECRET_KEYS", "").split(",") if k.strip()),
            reports=Path(environ.get("TESTENGINE_REPORTS") or PROJECT_ROOT / "reports"),
        )


def signing_keys(settings: Settings) -> tuple[str, ...]:
    """The configured keys, or one random key kept (owner-only) in the user's data folder so
    that signed cookies survive a restart of a single demo server."""
    if settings.secret_keys:
        return settings.secret_keys
    path = Path(user_data_dir("testengine")) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return (path.read_text().strip(),)
