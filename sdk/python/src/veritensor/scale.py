"""The few SCALE encodings the canonical hashes and receipts need."""

from __future__ import annotations


def compact(value: int) -> bytes:
    """SCALE's compact encoding of a non-negative integer."""
    if value < 0:
        raise ValueError("compact integers are non-negative")
    if value < 1 << 6:
        return bytes([value << 2])
    if value < 1 << 14:
        return ((value << 2) | 0b01).to_bytes(2, "little")
    if value < 1 << 30:
        return ((value << 2) | 0b10).to_bytes(4, "little")
    length = (value.bit_length() + 7) // 8
    return bytes([((length - 4) << 2) | 0b11]) + value.to_bytes(length, "little")


def u32(value: int) -> bytes:
    return value.to_bytes(4, "little")


def u64(value: int) -> bytes:
    return value.to_bytes(8, "little")


def hash32(value: bytes | str) -> bytes:
    """A 32-byte hash from bytes or a ``0x`` hex string."""
    raw = bytes.fromhex(value[2:] if value.startswith("0x") else value) if isinstance(value, str) else value
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}")
    return raw


class Reader:
    """Reads SCALE values from bytes, front to back."""

    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, count: int) -> bytes:
        if self.at + count > len(self.data):
            raise ValueError("SCALE data ends early")
        chunk = self.data[self.at : self.at + count]
        self.at += count
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "little")

    def u64(self) -> int:
        return int.from_bytes(self.take(8), "little")

    def compact(self) -> int:
        first = self.byte()
        mode = first & 0b11
        if mode == 0:
            return first >> 2
        if mode == 1:
            return (first | self.byte() << 8) >> 2
        if mode == 2:
            return int.from_bytes(bytes([first]) + self.take(3), "little") >> 2
        return int.from_bytes(self.take((first >> 2) + 4), "little")
