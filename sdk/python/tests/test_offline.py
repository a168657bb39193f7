"""What the client decides without a chain: models by name, inputs, images."""

from __future__ import annotations

import numpy as np
import pytest

from veritensor import Client, ElementType, InputError, ModelUnavailable, UnknownModel, to_wire
from veritensor.images import digit_pixels
from veritensor.models import Model


def model(name: str, status: str, hash_byte: int) -> Model:
    return Model(f"0x{hash_byte:02x}" * 32, name, "", (), (), 1, 0, "", status, {})


def offline_client(models: list[Model]) -> Client:
    client = Client.__new__(Client)
    client.models = lambda: models  # type: ignore[method-assign]
    return client


def test_a_name_finds_only_listed_models_and_refuses_ambiguity():
    squatter = model("mlp_digits_int", "Proposed", 0x01)
    listed = model("mlp_digits_int", "Listed", 0x02)
    assert offline_client([squatter, listed]).model("mlp_digits_int") == listed
    assert offline_client([listed, squatter]).model("mlp_digits_int") == listed
    with pytest.raises(ModelUnavailable, match="no listed model"):
        offline_client([squatter]).model("mlp_digits_int")
    with pytest.raises(UnknownModel, match="give the hash"):
        offline_client([listed, model("mlp_digits_int", "Listed", 0x03)]).model("mlp_digits_int")
    with pytest.raises(UnknownModel):
        offline_client([listed]).model("other")


def test_shapes_must_match_but_for_leading_ones():
    assert to_wire(np.zeros(64), ElementType.U8, [1, 64]).shape == (1, 64)
    with pytest.raises(ValueError, match="shape"):
        to_wire(np.zeros((8, 8)), ElementType.U8, [1, 64])


def test_no_value_wraps_into_range():
    with pytest.raises(ValueError, match="range"):
        to_wire(np.array([2.0**63]), ElementType.I64, [1])
    with pytest.raises(ValueError, match="range"):
        to_wire(np.array([2**64 - 1], dtype=np.uint64), ElementType.I64, [1])
    with pytest.raises(ValueError, match="numbers"):
        to_wire(np.array(["7"]), ElementType.I64, [1])
    with pytest.raises(InputError):
        raise InputError("is a ValueError too")


def test_images_are_read_as_digits(tmp_path):
    from PIL import Image

    ink = np.zeros((8, 8))
    ink[1:7, 3:5] = 16  # a "1"
    # Dark ink, transparent background, taller than wide, four times the size.
    rgba = np.zeros((48, 32, 4), dtype=np.uint8)
    tall = np.kron(ink, np.ones((4, 4)))
    rgba[8:40, :, 3] = np.where(tall > 0, 255, 0)
    path = tmp_path / "one.png"
    Image.fromarray(rgba, mode="RGBA").save(path)
    pixels = digit_pixels(path).reshape(8, 8)
    # Without compositing over white, the transparent background and the ink would both be
    # black: no digit at all.
    assert pixels.dtype == np.uint8 and pixels.min() == 0
    assert pixels[:, :3].max() == 0 and pixels[:, 5:].max() == 0
    assert pixels[2:6, 3:5].min() >= 8
