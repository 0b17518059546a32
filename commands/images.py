"""Avatar images: checked to be real images, squared and resized with Pillow, saved as PNG."""

from __future__ import annotations

import hashlib
import io
from html import escape

from PIL import Image, UnidentifiedImageError

from domain.errors import InvalidField

AVATAR_PX = 256
MAX_AVATAR_BYTES = 5 * 1024 * 1024
ALLOWED = {"PNG", "JPEG", "WEBP", "GIF"}
Image.MAX_IMAGE_PIXELS = 40_000_000  # refuse decompression bombs


def avatar_png(data: bytes, field: str = "avatar") -> bytes:
    if len(data) > MAX_AVATAR_BYTES:
        raise InvalidField(field, f"The image is larger than {MAX_AVATAR_BYTES // 2**20} MB.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        opened = Image.open(io.BytesIO(data))
        kind = opened.format
        opened.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise InvalidField(field, "The file is not an image Confab can read.") from None
    if kind not in ALLOWED:
        raise InvalidField(field, f"Use a PNG, JPEG, WebP or GIF image (not {kind}).")
    image = opened.convert("RGBA")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((AVATAR_PX, AVATAR_PX))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def default_avatar_svg(name: str) -> str:
    """A generated avatar: the name's initials on a colour derived from the name."""
    initials = "".join(word[0] for word in name.split()[:2]).upper() or "?"
    hue = int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 360
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">'
        f'<rect width="256" height="256" rx="48" fill="hsl({hue},55%,45%)"/>'
        '<text x="50%" y="54%" dominant-baseline="middle" text-anchor="middle" '
        'font-family="system-ui,sans-serif" font-size="104" font-weight="600" fill="#fff">'
        f"{escape(initials)}</text></svg>"
    )
