"""The wire format and hashes, byte for byte as the runtime's primitives define them."""

import numpy as np
import pytest

from veritensor import ElementType, Receipt, from_wire, input_hash, output_hash, to_wire
from veritensor.hashing import INPUT_DOMAIN, OUTPUT_DOMAIN, blake2_256
from veritensor.scale import compact
from veritensor.tensors import encode_fixed


def sample():
    return [
        to_wire([7], ElementType.I64, [1]),
        to_wire(np.array([[1.0, -0.5]], dtype=np.float32), ElementType.F32, [1, 2], frac_bits=16),
    ]


def documented_preimage(domain: bytes) -> bytes:
    # The same bytes primitives/tests/hashes_and_receipts.rs writes out.
    out = bytearray(domain)
    out.append(2 << 2)
    out += bytes([5, 1 << 2]) + (1).to_bytes(4, "little") + bytes([0, 8 << 2])
    out += (7).to_bytes(8, "little", signed=True)
    out += bytes([6, 2 << 2]) + (1).to_bytes(4, "little") + (2).to_bytes(4, "little")
    out += bytes([16, 8 << 2])
    out += (65536).to_bytes(4, "little", signed=True) + (-32768).to_bytes(4, "little", signed=True)
    return bytes(out)


def test_hashes_follow_the_documented_byte_layout():
    assert len(INPUT_DOMAIN) == 19 and len(OUTPUT_DOMAIN) == 20
    assert output_hash(sample()) == blake2_256(documented_preimage(OUTPUT_DOMAIN))
    assert input_hash(sample()) == blake2_256(documented_preimage(INPUT_DOMAIN))
    assert input_hash(sample()) != output_hash(sample())


@pytest.mark.parametrize(
    "value, expected",
    [(0, b"\x00"), (1, b"\x04"), (63, b"\xfc"), (64, b"\x01\x01"), (16383, b"\xfd\xff"),
     (16384, b"\x02\x00\x01\x00"), (2**30 - 1, b"\xfe\xff\xff\xff"), (2**30, b"\x03\x00\x00\x00\x40")],
)
def test_compact_integers(value, expected):
    assert compact(value) == expected


def test_fixed_point_rounds_ties_away_from_zero_and_saturates():
    raw = encode_fixed(np.array([0.5, -0.5, 1.5, -1.5, 1e12, -1e12, np.nan]), 0)
    assert raw.tolist() == [1, -1, 2, -2, 2**31 - 1, -(2**31), 0]
    assert encode_fixed(np.array([1.0]), 16).tolist() == [65536]


def test_round_trip_and_bad_inputs():
    tensor = to_wire(np.arange(64, dtype=np.uint8).reshape(1, 64), ElementType.U8, [1, 64])
    assert from_wire(tensor).tolist() == [list(range(64))]
    with pytest.raises(ValueError, match="range"):
        to_wire([256], ElementType.U8, [1])
    with pytest.raises(ValueError, match="shape"):
        to_wire([1, 2, 3], ElementType.U8, [1, 2])
    with pytest.raises(ValueError, match="integers"):
        to_wire([1.5], ElementType.I32, [1])


def test_a_receipts_signing_payload_is_its_domain_and_scale_fields():
    receipt = Receipt(bytes(32), 7, bytes([1]) * 32, bytes([2]) * 32, bytes([3]) * 32, bytes([4]) * 32)
    payload = receipt.signing_payload()
    assert payload.startswith(b"veritensor:receipt:v1")
    assert payload[21 + 32:21 + 40] == (7).to_bytes(8, "little")
    assert len(payload) == 21 + 32 * 5 + 8
