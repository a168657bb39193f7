"""The SDK's hashes and receipts against the vectors the runtime's primitives pin (the Rust test
`the_pinned_hash_and_receipt_vectors_hold` checks the same file)."""

import json
from pathlib import Path

import pytest

from veritensor import ElementType, Receipt, Tensor, input_hash, output_hash

VECTORS = json.loads(
    (Path(__file__).resolve().parents[3] / "primitives" / "tests" / "vectors" / "hashes.json").read_text()
)


def tensors(case):
    return [
        Tensor(ElementType.from_name(t["elem"]), tuple(t["shape"]), t["frac_bits"], bytes.fromhex(t["data"][2:]))
        for t in case["tensors"]
    ]


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[case["name"] for case in VECTORS["cases"]])
def test_input_and_output_hashes_equal_the_pinned_ones(case):
    assert "0x" + input_hash(tensors(case)).hex() == case["input_hash"]
    assert "0x" + output_hash(tensors(case)).hex() == case["output_hash"]


def test_the_receipt_payload_and_signature_equal_the_pinned_ones():
    from substrateinterface import Keypair, KeypairType

    pinned = VECTORS["receipt"]
    raw = {key: bytes.fromhex(pinned[key][2:]) for key in ("genesis_hash", "model", "input_hash", "output_hash", "worker")}
    receipt = Receipt(raw["genesis_hash"], pinned["job"], raw["model"], raw["input_hash"], raw["output_hash"], raw["worker"])
    payload = receipt.signing_payload()
    assert "0x" + payload.hex() == pinned["signing_payload"]
    key = Keypair(public_key=pinned["worker"], ss58_format=42, crypto_type=KeypairType.SR25519)
    signature = bytes.fromhex(pinned["signature"][2:])
    assert key.verify(payload, signature)
    tampered = bytearray(payload)
    tampered[-1] ^= 1
    assert not key.verify(bytes(tampered), signature)
