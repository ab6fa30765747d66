"""Where records are read from: a local path, standard input (`-`) or an fsspec URL.

A URL with a scheme other than `file` (`s3://`, `gs://`, `memory://`, ...) is opened with
fsspec, installed with the `fsspec` extra plus the filesystem's own package (s3fs, gcsfs).
Messages name a URL without its user, password or query, which can hold credentials.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

from ..core.formats import FORMATS
from ..errors import InputError, InputProblem

__all__ = ["FORMATS", "format_of", "is_url", "open_source", "shown_source", "source_identity"]

_BY_SUFFIX = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
#: How much of the head of a file its identity hashes.
HEAD_BYTES = 64 * 1024


def is_url(path: str) -> bool:
    """Whether `path` is a URL fsspec opens (a scheme other than `file`)."""
    found = _SCHEME.match(path)
    return found is not None and found.group(1).lower() != "file"


def _local(path: str) -> str:
    return path[len("file://") :] if path.lower().startswith("file://") else path


def shown_source(path: str) -> str:
    """`path` as messages show it: a URL without user, password, query or fragment."""
    if path == "-":
        return "standard input"
    if not is_url(path):
        return _local(path)
    parts = urlsplit(path)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def format_of(path: str, given: str = "auto") -> str:
    """The format named, else the one the file's name says (a `.gz` ending aside)."""
    if given != "auto":
        return given
    name = urlsplit(path).path if is_url(path) else path
    name = name.lower().removesuffix(".gz").removesuffix(".gzip")
    suffix = name[name.rfind(".") :] if "." in name.rsplit("/", 1)[-1] else ""
    return _BY_SUFFIX.get(suffix, "json")


def _fsspec(key: str, path: str) -> Any:
    try:
        import fsspec
    except ImportError:
        message = (
            f"{shown_source(path)}: reading URLs needs fsspec: "
            "pip install 'mixpanel-connector[fsspec]' (plus s3fs, gcsfs... for the filesystem)"
        )
        raise InputError(key, [InputProblem(key, key, message)]) from None
    return fsspec


def open_source(key: str, path: str) -> tuple[IO[bytes], Callable[[], IO[bytes]]]:
    """The open binary stream of `path` (a local path or URL) and a way to open it again."""

    def opener() -> IO[bytes]:
        if is_url(path):
            return _fsspec(key, path).open(path, "rb").open()  # type: ignore[no-any-return]
        return Path(_local(path)).open("rb")

    try:
        return opener(), opener
    except InputError:
        raise
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        if isinstance(exc, FileNotFoundError):
            reason = "no such file"
        message = f"cannot read {shown_source(path)}: {reason}"
        raise InputError(key, [InputProblem(key, key, message)]) from None


def source_identity(path: str) -> str:
    """A digest of where `path` lives, its size, its version and its first 64 KiB.

    For a local file: device, inode, size and modification time; for a URL: what its
    filesystem says of it (size, modification time, ETag, generation). Raises OSError when
    it cannot be read.
    """
    if is_url(path):
        fs, inner = _fsspec("path", path).core.url_to_fs(path)
        info = fs.info(inner)
        fields = ("size", "mtime", "LastModified", "ETag", "generation", "md5Hash", "created")
        parts = [path] + [str(info.get(f, "")) for f in fields]
        head = fs.cat_file(inner, start=0, end=HEAD_BYTES)
    else:
        import os

        with open(_local(path), "rb") as local:
            stat = os.fstat(local.fileno())
            head = local.read(HEAD_BYTES)
        parts = [str(p) for p in (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)]
    text = ":".join(parts) + ":" + hashlib.sha256(head).hexdigest()
    return hashlib.sha256(text.encode()).hexdigest()
