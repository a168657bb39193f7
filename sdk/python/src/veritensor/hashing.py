"""Canonical input and output hashes, and the receipt a worker signs.

A hash is ``blake2_256(domain ‖ SCALE(tensors))``, byte for byte as the runtime's primitives
define it: the domain (``veritensor:input:v1`` or ``veritensor:output:v1``), compact(number of
tensors), then per tensor its element type index (one byte), compact(rank) and each side as a
little-endian ``u32``, its fraction bits (one byte), compact(data length) and the packed data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

from .scale import compact, hash32, u32, u64
from .tensors import Tensor

INPUT_DOMAIN = b"veritensor:input:v1"
OUTPUT_DOMAIN = b"veritensor:output:v1"
RECEIPT_DOMAIN = b"veritensor:receipt:v1"


def blake2_256(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


def encode_tensors(tensors: Sequence[Tensor]) -> bytes:
    """SCALE of a list of wire tensors."""
    out = bytearray(compact(len(tensors)))
    for tensor in tensors:
        out.append(int(tensor.elem))
        out += compact(len(tensor.shape))
        for side in tensor.shape:
            out += u32(side)
        out.append(tensor.frac_bits)
        out += compact(len(tensor.data))
        out += tensor.data
    return bytes(out)


def input_hash(tensors: Sequence[Tensor]) -> bytes:
    """The canonical hash of a job's input tensors (in schema order)."""
    return blake2_256(INPUT_DOMAIN + encode_tensors(tensors))


def output_hash(tensors: Sequence[Tensor]) -> bytes:
    """The canonical hash of a job's output tensors (in schema order)."""
    return blake2_256(OUTPUT_DOMAIN + encode_tensors(tensors))


@dataclass(frozen=True)
class Receipt:
    """What a worker key signs for a result: one chain, job, model, input, output and worker."""

    genesis_hash: bytes
    job_id: int
    model: bytes
    input_hash: bytes
    output_hash: bytes
    worker: bytes

    def signing_payload(self) -> bytes:
        """The exact bytes the worker key signs (sr25519)."""
        return (
            RECEIPT_DOMAIN
            + hash32(self.genesis_hash)
            + u64(self.job_id)
            + hash32(self.model)
            + hash32(self.input_hash)
            + hash32(self.output_hash)
            + hash32(self.worker)
        )
