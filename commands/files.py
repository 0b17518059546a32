"""Uploads: what a file is (from its bytes, never its name), its thumbnail or text, and the
FileUploaded that records it. Runs on the store's threads (Pillow and pypdf are synchronous)."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from commands.app import ConfabStore
from commands.blobs import BlobStore
from domain.errors import FileNotFound, FileRejected, FileTooLarge
from domain.file import File, file_id_for

THUMBNAIL_PX = 320
MAX_TEXT_CHARS = 200_000  # what is kept of a document's text; the prompt takes a budget of it
TEXT_SUFFIXES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
}
_IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


@dataclass(frozen=True)
class Upload:
    owner_id: str
    name: str
    data: bytes
    max_bytes: int


def safe_name(name: str) -> str:
    """The last path part, without control or path characters, at most 120 characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[-120:] or "file"


def sniff(data: bytes) -> tuple[str, str]:
    """(kind, media type) from the content: an image, a PDF, or UTF-8 text; else refused."""
    if data.startswith(b"%PDF-"):
        return "pdf", "application/pdf"
    head = data[:16]
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    ):
        return "image", ""  # the exact type comes from decoding it
    if b"\x00" in data[:8192]:
        raise FileRejected("Confab takes images, PDFs and text files; this looks like neither.")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise FileRejected("A text file must be UTF-8.") from None
    return "text", "text/plain"


def _image(data: bytes) -> tuple[str, bytes]:
    """(media type, PNG thumbnail) of a real image; decompression bombs and fakes refused."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        kind = image.format or ""
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise FileRejected("The file is not an image Confab can read.") from None
    if kind not in _IMAGE_TYPES:
        raise FileRejected(f"Use a PNG, JPEG, WebP or GIF image (not {kind}).")
    thumb = image.convert("RGBA")
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    out = io.BytesIO()
    thumb.save(out, format="PNG", optimize=True)
    return _IMAGE_TYPES[kind], out.getvalue()


def _pdf_text(data: bytes) -> str:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise FileRejected("The PDF is encrypted; Confab cannot read it.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise FileRejected(f"The PDF cannot be read: {exc}") from None
    return "\n\n".join(p.strip() for p in pages if p.strip())


def upload_file(store: ConfabStore, blobs: BlobStore, upload: Upload) -> File:
    """Check, store and record one upload; the same bytes from the same owner are one file."""
    if len(upload.data) > upload.max_bytes:
        raise FileTooLarge(f"A file can be at most {upload.max_bytes // 2**20} MB.")
    if not upload.data:
        raise FileRejected("The file is empty.")
    name = safe_name(upload.name)
    kind, media_type = sniff(upload.data)
    thumbnail = b""
    text = ""
    if kind == "image":
        media_type, thumbnail = _image(upload.data)
    elif kind == "pdf":
        text = _pdf_text(upload.data)
    else:
        text = upload.data.decode("utf-8")
        suffix = name[name.rfind(".") :].lower() if "." in name else ""
        media_type = TEXT_SUFFIXES.get(suffix, "text/plain")
    blob_id = blobs.put(upload.data)
    existing = _get(store, file_id_for(upload.owner_id, blob_id))
    if existing is not None:
        return existing
    text = text[:MAX_TEXT_CHARS]
    file = File.upload(
        owner_id=upload.owner_id,
        name=name,
        media_type=media_type,
        kind=kind,
        size=len(upload.data),
        blob_id=blob_id,
        thumbnail_id=blobs.put(thumbnail) if thumbnail else "",
        text_id=blobs.put(text.encode()) if text else "",
        text_chars=len(text),
    )
    store.save(file)
    return file


def _get(store: ConfabStore, file_id: UUID) -> File | None:
    try:
        found: object = store.repository.get(file_id)
    except AggregateNotFoundError:
        return None
    return found if isinstance(found, File) else None


def owned_file(store: ConfabStore, file_id: UUID, user_id: str) -> File:
    """A user's own file; anyone else's is reported missing."""
    found = _get(store, file_id)
    if found is None or found.owner_id != user_id:
        raise FileNotFound("No such file.")
    return found


def attachment_texts(store: ConfabStore, blobs: BlobStore, file_ids: list[str]) -> dict[str, str]:
    """The text read from each file that has one (text files and PDFs), by file id."""
    texts = {}
    for file_id in file_ids:
        found = _get(store, UUID(file_id))
        if found is not None and found.text_id:
            data = blobs.get(found.text_id)
            if data is not None:
                texts[file_id] = data.decode("utf-8", "replace")
    return texts
