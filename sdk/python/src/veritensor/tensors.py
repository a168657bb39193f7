"""Tensors as the chain carries them.

A tensor on the wire is an element type, a shape, a number of fraction bits and its elements
packed little-endian. Floats travel as fixed-point ``i32`` numbers with ``frac_bits`` fraction
bits (rounded to nearest, ties away from zero, saturated at the ``i32`` range; NaN is zero), so
that every node reads the same bytes.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

MAX_FRAC_BITS = 30
"""The most fraction bits a fixed-point element may carry."""


class ElementType(enum.IntEnum):
    """Element types, numbered as SCALE encodes them."""

    BOOL = 0
    U8 = 1
    I8 = 2
    I16 = 3
    I32 = 4
    I64 = 5
    F32 = 6

    @property
    def wire_dtype(self) -> np.dtype:
        """The little-endian dtype of one element on the wire."""
        return np.dtype(_WIRE_DTYPES[self])

    @property
    def bounds(self) -> tuple[int, int]:
        """The smallest and largest raw wire value."""
        if self is ElementType.BOOL:
            return (0, 1)
        info = np.iinfo(self.wire_dtype)
        return (int(info.min), int(info.max))

    @property
    def chain_name(self) -> str:
        """The name the chain's metadata gives it (``"Bool"``, ``"U8"``, ``"F32"``...)."""
        return "Bool" if self is ElementType.BOOL else self.name

    @classmethod
    def from_name(cls, name: str) -> "ElementType":
        """The element type named as the chain's metadata names it (``"F32"``, ``"U8"``...)."""
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(f"unknown element type {name!r}") from None


_WIRE_DTYPES = {
    ElementType.BOOL: "u1",
    ElementType.U8: "u1",
    ElementType.I8: "i1",
    ElementType.I16: "<i2",
    ElementType.I32: "<i4",
    ElementType.I64: "<i8",
    ElementType.F32: "<i4",
}


@dataclass(frozen=True)
class Tensor:
    """A tensor in its wire form."""

    elem: ElementType
    shape: tuple[int, ...]
    frac_bits: int
    data: bytes

    def element_count(self) -> int:
        return math.prod(self.shape)


def encode_fixed(values: np.ndarray, frac_bits: int) -> np.ndarray:
    """Floats to raw fixed-point ``i32`` values, exactly as the node converts them."""
    if not 0 <= frac_bits <= MAX_FRAC_BITS:
        raise ValueError(f"frac_bits must be 0..={MAX_FRAC_BITS}, not {frac_bits}")
    scaled = np.asarray(values, dtype=np.float32).astype(np.float64) * float(1 << frac_bits)
    # Ties away from zero, as Rust's `f64::round`.
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    rounded = np.nan_to_num(rounded, nan=0.0, posinf=2**31 - 1, neginf=-(2**31))
    return np.clip(rounded, -(2**31), 2**31 - 1).astype("<i4")


def decode_fixed(raw: np.ndarray, frac_bits: int) -> np.ndarray:
    """Raw fixed-point values to floats."""
    return (np.asarray(raw, dtype=np.float64) / float(1 << frac_bits)).astype(np.float32)


def _without_leading_ones(shape: Sequence[int]) -> tuple[int, ...]:
    sides = tuple(int(side) for side in shape)
    while sides and sides[0] == 1:
        sides = sides[1:]
    return sides


def to_wire(
    array: np.ndarray | Sequence[float] | Sequence[int],
    elem: ElementType,
    shape: Sequence[int],
    frac_bits: int = 0,
) -> Tensor:
    """Packs `array` as a tensor of `elem` and `shape`.

    Raises ``ValueError`` for a shape that differs (leading sides of 1 aside: a (64,) array
    fits a [1, 64] tensor, an (8, 8) one does not), or an integer out of the element type's
    range (before anything is sent).
    """
    values = np.asarray(array)
    shape = tuple(int(side) for side in shape)
    if tuple(values.shape) != shape:
        if _without_leading_ones(values.shape) != _without_leading_ones(shape):
            raise ValueError(f"shape {tuple(values.shape)} does not match {list(shape)}")
        values = values.reshape(shape)
    if elem is ElementType.F32:
        raw = encode_fixed(values, frac_bits)
    else:
        if frac_bits != 0:
            raise ValueError(f"{elem.name} takes no fraction bits")
        if values.dtype.kind == "f":
            if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
                raise ValueError(f"{elem.name} takes integers, got fractional values")
        if values.dtype.kind not in "biuf":
            raise ValueError(f"{elem.name} takes numbers, got {values.dtype}")
        low, high = elem.bounds
        # Compared before any cast, so that nothing wraps into range; floats (integral, checked
        # above) against high + 1, which float64 holds exactly where it cannot hold high.
        if values.size:
            top = values.max()
            too_high = top >= float(high) + 1.0 if values.dtype.kind == "f" else top > high
            if values.min() < low or too_high:
                raise ValueError(f"a value out of {elem.name}'s range {low}..={high}")
        as_int = values.astype(np.int64)
        raw = as_int.astype(elem.wire_dtype)
    return Tensor(elem, shape, frac_bits, raw.astype(elem.wire_dtype).tobytes())


def from_wire(tensor: Tensor) -> np.ndarray:
    """Unpacks a wire tensor: floats for ``F32``, the integer dtype otherwise."""
    raw = np.frombuffer(tensor.data, dtype=tensor.elem.wire_dtype).reshape(tensor.shape)
    if tensor.elem is ElementType.F32:
        return decode_fixed(raw, tensor.frac_bits)
    if tensor.elem is ElementType.BOOL:
        return raw.astype(bool)
    return raw.astype(tensor.elem.wire_dtype.newbyteorder("="))
