"""Images as the digit demo models' input.

The demo models were trained on scikit-learn's digits: 8x8 grayscale images whose pixels run
from 0 (background) to 16 (ink), light ink on a dark background. An image file is converted to
that form: turned upright as its EXIF data says, made opaque over white (a dark digit on a
transparent background stays visible), padded to a square with its border colour (a tall digit
keeps its proportions), turned to grayscale, averaged down to 8x8 (each pixel the mean of its
area), inverted if its background is light (a mean above mid-grey: dark ink on white paper), and
scaled from 0..255 to 0..16, rounded. It is not centred or scaled to the digit's extent as the
original digits were: crop the image around the digit for the best predictions. Reading image
files needs Pillow (``pip install './sdk/python[image]'``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def digit_pixels(path: str | Path) -> np.ndarray:
    """The image at `path` as one digits sample: shape (1, 64), integers 0..16 (``uint8``)."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading images needs Pillow: pip install 'veritensor[image]'") from None
    from PIL import ImageOps

    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened)
        opaque = Image.new("RGBA", image.size, (255, 255, 255, 255))
        opaque.alpha_composite(image.convert("RGBA"))
        gray = opaque.convert("L")
    side = max(gray.size)
    if gray.size != (side, side):
        border = int(np.median(np.concatenate([np.asarray(gray)[0], np.asarray(gray)[-1]])))
        square = Image.new("L", (side, side), border)
        square.paste(gray, ((side - gray.size[0]) // 2, (side - gray.size[1]) // 2))
        gray = square
    pixels = np.asarray(gray.resize((8, 8), Image.Resampling.BOX), dtype=np.float64)
    if pixels.mean() > 127.5:
        pixels = 255.0 - pixels
    return np.rint(pixels / 255.0 * 16.0).astype(np.uint8).reshape(1, 64)
