"""An uploaded file: its metadata is the event; its bytes live in the blob store."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.copying import CopiedFast

KINDS = ("image", "text", "pdf")
FILE_NAMESPACE = UUID("6f1d7e0c-5b0a-4c4e-9a53-7f0c2f4b9a10")


def file_id_for(owner_id: str, sha256: str) -> UUID:
    """The same bytes uploaded again by the same person are the same file."""
    return uuid5(FILE_NAMESPACE, f"{owner_id}:{sha256}")


class File(CopiedFast, Aggregate):
    class FileUploaded(Aggregate.Created):
        owner_id: str
        name: str
        media_type: str
        kind: str
        size: int
        blob_id: str
        thumbnail_id: str  # "" unless an image
        text_id: str  # "" unless text could be read from it
        text_chars: int

    def __init__(
        self,
        owner_id: str,
        name: str,
        media_type: str,
        kind: str,
        size: int,
        blob_id: str,
        thumbnail_id: str,
        text_id: str,
        text_chars: int,
    ) -> None:
        self.owner_id = owner_id
        self.name = name
        self.media_type = media_type
        self.kind = kind
        self.size = size
        self.blob_id = blob_id
        self.thumbnail_id = thumbnail_id
        self.text_id = text_id
        self.text_chars = text_chars

    @classmethod
    def upload(cls, **fields: Any) -> File:
        sha = fields["blob_id"]
        return cls._create(cls.FileUploaded, id=file_id_for(fields["owner_id"], sha), **fields)

    def summary(self) -> dict[str, Any]:
        """What a message records of an attachment, and what the page shows."""
        return {
            "id": str(self.id),
            "name": self.name,
            "media_type": self.media_type,
            "kind": self.kind,
            "size": self.size,
            "has_thumbnail": bool(self.thumbnail_id),
        }
