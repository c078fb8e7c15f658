"""The `tl` config folder: where it is, `config.json` (server and token), files only you can read."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CONFIG_FILE = "config.json"


class CliError(Exception):
    """Raised for anything `tl` reports as one sentence and an exit code (1: failed, 2: bad input)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def config_dir() -> Path:
    """`TL_CONFIG_DIR`, else `$XDG_CONFIG_HOME/timeledger`, else `~/.config/timeledger`."""
    explicit = os.environ.get("TL_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".config"
    return base / "timeledger"


def ensure_dir(path: Path) -> Path:
    """The folder, created readable by its owner only (0700) when it does not exist yet."""
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (0600), replacing it in one step."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CliError(f"{path} is damaged ({error}); remove it and log in again.") from None


@dataclass(frozen=True)
class Config:
    """Who this device is logged in as, on which server."""

    url: str
    token: str
    user_id: str
    email: str
    organization: str
    week_start: str = "monday"

    def save(self, folder: Path) -> None:
        write_private(ensure_dir(folder) / CONFIG_FILE, json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> Config:
        data = read_json(folder / CONFIG_FILE)
        if not isinstance(data, dict):
            raise CliError("This device is not logged in; run `tl login URL` first.")
        try:
            return cls(**data)
        except TypeError:
            raise CliError(f"{folder / CONFIG_FILE} is incomplete; run `tl login URL` again.") from None
