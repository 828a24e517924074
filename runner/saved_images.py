"""Images a notebook saved (the best generated one, as homework asks), made safe to show.

The files come out of the sandbox and may be anything: each is size-checked, opened
with its pixel count checked before decoding, and redrawn by the host as a PNG of at
most ``SHOWN_SIDE`` pixels a side; the report embeds that redrawing, never the file.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

from runner.i18n.message import Message, msg
from runner.measurements import SavedImageRecord, file_inside
from runner.report.model import SavedImage

MAX_BYTES = 4 * 1024 * 1024
MAX_PIXELS = 16_000_000
SHOWN_SIDE = 512
FORMATS = ("PNG", "JPEG")
"""The decoders PIL may use: a file named .png in another format is not opened at all."""


def redraw(out: Path, record: SavedImageRecord) -> SavedImage:
    """The saved file ``record`` names, decoded and redrawn; ValueError says why not."""
    path = file_inside(out, record.file)
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES // 2**20} MiB")
    png, width, height = redraw_image(path.read_bytes())
    return SavedImage(name=record.name, width=width, height=height, png=png)


def redraw_image(data: bytes, side: int = SHOWN_SIDE) -> tuple[str, int, int]:
    """A PNG or JPEG from the sandbox, decoded and redrawn as a PNG of at most ``side``
    pixels a side: its base64 and the original's width and height; ValueError says why not.
    """
    if len(data) > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES // 2**20} MiB")
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ValueError(f"{width}×{height} pixels, more than {MAX_PIXELS}")
            image.load()
            shown = image.convert("RGB")
    except ValueError:
        raise
    except Image.DecompressionBombError:  # refused by PIL before it decodes a pixel
        raise ValueError(f"more than {MAX_PIXELS} pixels") from None
    except Exception as error:  # PIL's decoders raise many kinds
        raise ValueError(f"not a readable image ({type(error).__name__})") from None
    shown.thumbnail((side, side))
    buffer = io.BytesIO()
    shown.save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii"), width, height


def saved_images(out: Path, records: list[SavedImageRecord]
                 ) -> tuple[list[SavedImage], list[Message]]:
    """Every saved image that can be shown, and a note for each that cannot."""
    shown, notes = [], []
    for record in records:
        try:
            shown.append(redraw(out, record))
        except (OSError, ValueError) as error:
            notes.append(msg("note.saved_image_unreadable", name=record.name,
                             error=str(error)))
    return shown, notes
