"""Pseudonymisation at load (README, Privacy and security).

Person ids become HMAC-SHA256 digests under a secret key that lives outside the database and the
repository: the environment variable ``APP_PSEUDONYM_KEY`` (64 hex characters) or a key file beside the
database (``pseudonym.key``, created on first use with owner-only permissions). The same key always gives
the same pseudonym, so monthly extracts link up; without the key a pseudonym cannot be reversed or re-made.
The HMAC is computed inside DuckDB SQL so that loading stays vectorised.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from etl.sql_text import literal
from etl.wording import counted

KEY_ENV = "APP_PSEUDONYM_KEY"
KEY_FILE_NAME = "pseudonym.key"
_BLOCK = 64  # SHA-256 block size in bytes


class KeyError_(ValueError):
    """The pseudonymisation key is present but unusable."""


def key_path_for(db_path: Path) -> Path:
    return Path(db_path).resolve().parent / KEY_FILE_NAME


MIN_KEY_BYTES = 16


def _checked(key: bytes, source: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise KeyError_(f"{source} holds {counted(len(key), 'byte')}; a key needs at least {MIN_KEY_BYTES} bytes "
                        f"({2 * MIN_KEY_BYTES} hex characters)")
    return key


def load_key(db_path: Path) -> bytes:
    """Return the HMAC key: from the environment, else the key file beside the database (made if absent).

    A key shorter than 16 bytes is refused from either source (an empty key would make pseudonyms reversible by
    anyone); a new key file is written atomically (temporary file, fsync, rename) with mode 0600."""
    env = os.environ.get(KEY_ENV)
    if env is not None:
        try:
            key = bytes.fromhex(env.strip())
        except ValueError as exc:
            raise KeyError_(f"{KEY_ENV} must be hexadecimal") from exc
        return _checked(key, KEY_ENV)
    path = key_path_for(db_path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        if _write_atomically(path, key.hex()):
            return key
    try:
        key = bytes.fromhex(path.read_text().strip())
    except (ValueError, UnicodeDecodeError) as exc:
        raise KeyError_(f"{path} does not hold a hexadecimal key") from exc
    return _checked(key, str(path))


def _write_atomically(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` owner-only: a temporary file beside it, fsync, then a rename (no reader ever
    sees a partial key). A key file made meanwhile by another process is not replaced: False, read theirs."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # an atomic rename that never replaces: another process's key stands
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links
            if path.exists():
                return False
            os.rename(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    try:
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return True


def _pads(key: bytes) -> tuple[str, str]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = bytes(b ^ 0x36 for b in key).hex()
    outer = bytes(b ^ 0x5C for b in key).hex()
    return inner, outer


def hmac_sql(expr: str, key: bytes) -> str:
    """A DuckDB SQL expression giving the hex HMAC-SHA256 of the text ``expr`` under ``key``."""
    inner, outer = _pads(key)
    return (
        f"sha256(unhex({literal(outer)}) || unhex(sha256(unhex({literal(inner)}) || encode(CAST({expr} AS VARCHAR)))))"
    )


def pseudonym(value: str, key: bytes) -> str:
    """The same pseudonym in Python (used by tests and by look-ups of a single id)."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
