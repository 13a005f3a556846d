"""What the ``aipix`` kind keeps in the profile: the device id it sends as X-UUID, and the
session limit each connection last showed.

The device id (note §1 X-UUID: "a unique, stable device id"; the SDKs use ANDROID_ID and
identifierForVendor) is a random UUID made the first time it is needed and kept in the profile's
data folder, so it is stable for this profile and never the machine's own id: two profiles on one
computer are two devices, and nothing about the computer leaks through it.

The limit is learnt only from a 419 (note §3 E3 ``sessions_limit``; ``GET /sessions`` carries
none), so the last one seen is remembered per connection with the day it was seen.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vms_tray import paths
from vms_tray.safefs import read_regular, write_atomic

log = logging.getLogger(__name__)

DEVICE_FILE = "aipix-device-id"
LIMITS_FILE = "aipix-limits.json"
_MAX_FILE = 64 * 1024


def _folder(folder: Path | None) -> Path:
    return folder if folder is not None else paths.data_dir()


def device_id(folder: Path | None = None) -> str:
    """This profile's X-UUID: read from ``folder`` (default: the profile's data folder), or made
    and stored there the first time. A folder that cannot be written gives an id for this run
    only (logged): signing in matters more than the id's stability."""
    path = _folder(folder) / DEVICE_FILE
    try:
        text = read_regular(path, 256).decode("ascii").strip()
        return str(uuid.UUID(text))
    except FileNotFoundError:
        pass
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        log.warning("the AIPIX device id in %s is unusable (%s); making a new one", path, exc)
        with contextlib.suppress(OSError):
            path.unlink()
    new = str(uuid.uuid4())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        write_atomic(tmp, new.encode("ascii") + b"\n", 0o600)
        try:
            # link() refuses an existing name: of two processes making one at once, the first
            # one's id is the profile's, and the second reads it back.
            os.link(tmp, path)
        except FileExistsError:
            return str(uuid.UUID(read_regular(path, 256).decode("ascii").strip()))
        finally:
            tmp.unlink(missing_ok=True)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        log.warning("cannot keep the AIPIX device id in %s (%s): using one for this run", path, exc)
    return new


@dataclass(frozen=True)
class LearntLimit:
    max: int
    seen_at: datetime


def _read_limits(path: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(read_regular(path, _MAX_FILE))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring the remembered AIPIX limits in %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def learnt_limit(key: str, folder: Path | None = None) -> LearntLimit | None:
    """The limit last seen for connection ``key`` (its URL and login), or None."""
    entry = _read_limits(_folder(folder) / LIMITS_FILE).get(key)
    if not isinstance(entry, dict):
        return None
    mx, seen = entry.get("max"), entry.get("seen_at")
    if not isinstance(mx, int) or isinstance(mx, bool) or mx < 1 or not isinstance(seen, str):
        return None
    try:
        when = datetime.fromisoformat(seen)
    except ValueError:
        return None
    return LearntLimit(mx, when if when.tzinfo else when.replace(tzinfo=UTC))


def remember_limit(key: str, limit: int, now: datetime, folder: Path | None = None) -> None:
    """Keep ``limit`` as the last one seen for ``key``; a failure to write is only logged."""
    path = _folder(folder) / LIMITS_FILE
    data = _read_limits(path)
    data[key] = {"max": limit, "seen_at": now.astimezone(UTC).isoformat()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"), 0o600)
    except OSError as exc:
        log.warning("cannot remember the AIPIX session limit in %s: %s", path, exc)
