"""Content-addressed blobs (avatars now, uploads later) behind a small interface.

Files live under <data dir>/blobs/<aa>/<sha256>; an S3-compatible store can implement the same
three methods. Ids are sha256 hex, so a path can never be smuggled in through one.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_BLOB_ID = re.compile(r"^[0-9a-f]{64}$")


class BlobStore(Protocol):
    def put(self, data: bytes) -> str: ...
    def get(self, blob_id: str) -> bytes | None: ...
    def exists(self, blob_id: str) -> bool: ...


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, blob_id: str) -> Path | None:
        if not _BLOB_ID.match(blob_id):
            return None
        return self.root / blob_id[:2] / blob_id

    def put(self, data: bytes) -> str:
        blob_id = hashlib.sha256(data).hexdigest()
        path = self._path(blob_id)
        assert path is not None
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written aside and renamed: a reader never sees half a blob.
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return blob_id

    def get(self, blob_id: str) -> bytes | None:
        path = self._path(blob_id)
        return path.read_bytes() if path and path.exists() else None

    def exists(self, blob_id: str) -> bool:
        path = self._path(blob_id)
        return bool(path and path.exists())
