"""The SDK against a real development chain (see conftest.py): models, quotes, verified
inference on both demo models against ONNX Runtime's recorded outputs, a batch, tampering, bad
inputs refused before anything is spent, earnings claimed, a worker registered."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pytest

from veritensor import (
    ChainError,
    Client,
    InputError,
    ModelUnavailable,
    Result,
    Terms,
    UnknownModel,
    errors,
)
from veritensor.runtime_api import StoredResult, decode_result
from veritensor.tensors import Tensor

REPO = Path(__file__).resolve().parents[3]
VECTORS = json.loads((REPO / "executor" / "demo-models" / "test_vectors.json").read_text())
DEV_WORKER = "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"  # //Alice's key
# Fixed point with 16 fraction bits carries the probabilities to 1.5e-5; engines differ by less
# than 2e-5 from ONNX Runtime (the executor's tests).
PROBABILITY_TOLERANCE = 1e-4
SETTLED: list[Result] = []
"""Results the tests below saw settle, for the claim at the end."""


def keypair(uri: str):
    from substrateinterface import Keypair

    return Keypair.create_from_uri(uri, ss58_format=42)


@pytest.fixture(scope="module")
def client(node_url):
    return Client(node_url, keypair=keypair("//Bob"))


def pixels(image: int) -> np.ndarray:
    return np.array(VECTORS["pixels"][image], dtype=np.float32).reshape(1, 64)


def digit_input(model: str, image: int) -> np.ndarray:
    return pixels(image).astype(np.uint8) if model == "mlp_digits_int" else pixels(image)


def assert_as_recorded(result: Result, model: str, image: int) -> None:
    recorded = VECTORS[model]
    assert int(result.outputs["label"][0]) == recorded["labels"][image], f"{model} image {image}"
    if model == "mlp_digits_int":
        np.testing.assert_array_equal(result.outputs["logits"].ravel(), recorded["logits"][image])
    else:
        np.testing.assert_allclose(
            result.outputs["probabilities"].ravel(), recorded["probabilities"][image], atol=PROBABILITY_TOLERANCE
        )


def spent_state(client: Client, account: str) -> tuple[int, int]:
    """The account's total balance (free and held) and the next job id."""
    data = client.substrate.query("System", "Account", [account]).value["data"]
    return int(data["free"]) + int(data["reserved"]), int(client.substrate.query("Jobs", "NextJobId").value)


def test_a_fresh_dev_chain_lists_both_demo_models_and_a_worker_for_them(client):
    names = {model.name for model in client.models()}
    assert {"mlp_digits_f32", "mlp_digits_int"} <= names
    model = client.model("mlp_digits_int")
    assert model.status == "Listed"
    assert model.inputs[0].shape == (1, 64)
    assert [spec.name for spec in model.outputs] == ["label", "logits"]
    assert client.model(model.hash) == model
    worker = client.worker(DEV_WORKER)
    assert worker is not None and worker["operator"] == keypair("//Eve").ss58_address


def test_a_quote_covers_the_workers_and_grows_with_k(client):
    model = client.model("mlp_digits_f32")
    one, three = client.quote(model), client.quote(model, Terms(3))
    assert one > model.price_per_worker
    assert three - one >= 2 * model.price_per_worker
    assert client.quote(model, Terms(1, audited=True)) > one


@pytest.mark.parametrize("model,image", [("mlp_digits_int", 0), ("mlp_digits_f32", 1)])
def test_infer_on_both_demo_models_matches_onnx_runtime_and_verifies(client, model, image):
    lines: list[str] = []
    started = time.monotonic()
    result = client.infer(model, digit_input(model, image), progress=lines.append)
    print(f"\n{model}: one infer, submit to verified result: {time.monotonic() - started:.1f} s, "
          f"{result.blocks} blocks")
    assert result.verified, result.problems
    assert_as_recorded(result, model, image)
    assert result.state == "provisional" and result.provisional_until is not None
    assert result.worker in result.workers and result.receipts[0].valid
    assert result.cost == client.quote(model)
    assert result.terms == Terms(1, False)
    assert lines and lines[0].startswith(f"job {result.job} submitted")
    assert client.job(result.job).state == "settled"
    SETTLED.append(result)


def test_a_batch_of_sixty_jobs_in_one_transaction(client):
    batch = {name: [digit_input(name, image) for image in range(2, 32)] for name in ("mlp_digits_int", "mlp_digits_f32")}
    started = time.monotonic()
    submitted = client.submit_batch("mlp_digits_int", batch["mlp_digits_int"])
    submitted += client.submit_batch("mlp_digits_f32", batch["mlp_digits_f32"])
    results = client.wait(submitted, timeout=300)
    elapsed = time.monotonic() - started
    print(f"\n60 jobs through submit_batch/wait: {elapsed:.1f} s, "
          f"{max(result.blocks for result in results)} blocks at most")
    assert len(results) == 60 and len({result.job for result in results}) == 60
    for index, result in enumerate(results):
        name = "mlp_digits_int" if index < 30 else "mlp_digits_f32"
        assert result.verified, (result.job, result.problems)
        assert_as_recorded(result, name, 2 + index % 30)


def test_a_tampered_output_receipt_or_input_is_not_verified(client):
    submitted = client.submit("mlp_digits_int", digit_input("mlp_digits_int", 40))
    honest = client.wait(submitted)
    assert honest.verified
    record = decode_result(client._call("JobsApi_result", submitted.job.to_bytes(8, "little")))
    assert isinstance(record, StoredResult) and record.outputs
    logits = record.outputs[1]
    changed = bytearray(logits.data)
    changed[0] ^= 1
    tampered_output = dataclasses.replace(
        record, outputs=[record.outputs[0], Tensor(logits.elem, logits.shape, logits.frac_bits, bytes(changed))]
    )
    signature = bytearray(record.signature)
    signature[10] ^= 0xFF
    tampered_receipt = dataclasses.replace(record, signature=bytes(signature))
    other_input = dataclasses.replace(submitted, inputs=tuple(client.encode_inputs(submitted.model, digit_input("mlp_digits_int", 41))))
    assert client._check(submitted, record, 0).verified
    output_check = client._check(submitted, tampered_output, 0)
    # The hash check itself, not only the receipt, which a changed output breaks too.
    assert not output_check.verified
    assert any("does not hash to the output hash" in problem for problem in output_check.problems)
    receipt_check = client._check(submitted, tampered_receipt, 0)
    assert not receipt_check.verified and not receipt_check.receipts[0].valid
    assert not client._check(other_input, record, 0).verified
    # A receipt validly signed, but by a key the chain never assigned the job to.
    from veritensor import Receipt, input_hash, output_hash

    intruder = keypair("//Intruder")
    forged_receipt = Receipt(
        client.genesis, submitted.job, bytes.fromhex(submitted.model.hash[2:]), input_hash(submitted.inputs),
        output_hash(record.outputs), intruder.public_key,
    )
    forged = dataclasses.replace(
        record, worker=intruder.public_key, signature=intruder.sign(forged_receipt.signing_payload())
    )
    forged_check = client._check(submitted, forged, 0)
    assert forged_check.receipts[0].valid and not forged_check.verified
    assert any("not assigned" in problem for problem in forged_check.problems)
    # Read as a quorum's result, a single worker's has no decision behind it.
    as_quorum = client._check(dataclasses.replace(submitted, terms=Terms(3)), record, 0)
    assert not as_quorum.verified and any("decision" in problem for problem in as_quorum.problems)


def test_bad_inputs_are_refused_before_anything_is_spent(client):
    before = spent_state(client, client.keypair.ss58_address)
    with pytest.raises(UnknownModel):
        client.infer("no such model", pixels(0))
    with pytest.raises(InputError, match="shape"):
        client.infer("mlp_digits_f32", np.zeros((1, 63), dtype=np.float32))
    with pytest.raises(InputError, match="missing"):
        client.infer("mlp_digits_f32", {"image": pixels(0)})
    with pytest.raises(InputError, match="integers"):
        client.infer("mlp_digits_int", pixels(0) + 0.5)
    with pytest.raises(InputError, match="range"):
        client.infer("mlp_digits_int", np.full((1, 64), 300))
    with pytest.raises(InputError, match="range"):
        client.infer("mlp_digits_int", np.full((1, 64), -1))
    with pytest.raises(InputError, match="timeout"):
        client.infer("mlp_digits_int", digit_input("mlp_digits_int", 0), timeout=0)
    with pytest.raises(InputError, match="deadline"):
        client.submit("mlp_digits_int", digit_input("mlp_digits_int", 0), deadline=0)
    assert spent_state(client, client.keypair.ss58_address) == before


def test_the_chains_refusal_is_its_own_error_class_with_the_pallets_docs(client):
    # One operator (Eve) serves the dev chain: a quorum of three cannot be drawn.
    with pytest.raises(errors.Jobs.NotEnoughWorkers) as raised:
        client.submit("mlp_digits_int", digit_input("mlp_digits_int", 0), Terms(3))
    assert isinstance(raised.value, ChainError)
    assert raised.value.pallet == "Jobs" and raised.value.docs
    with pytest.raises(ModelUnavailable):
        client.quote("mlp_digits_int", Terms(2))


def test_earnings_are_claimed_once_results_are_final(client, node_url):
    # The results of the first tests are final by now, or soon: their dispute window ends.
    assert SETTLED, "the inference tests ran first"
    first = SETTLED[0]
    assert first.provisional_until is not None
    deadline = time.monotonic() + 180
    while client.substrate.get_block_number(None) < first.provisional_until:
        assert time.monotonic() < deadline, "the dispute window did not end"
        time.sleep(1)
    assert client.job(first.job).result_state == "final"
    eve = Client(node_url, keypair=keypair("//Eve"))
    owed = eve.claimable()
    assert owed > 0
    assert eve.claim() == owed
    assert eve.claimable() == 0


def test_an_operator_bonds_and_registers_a_worker_key_its_node_holds(client, node_url):
    from substrateinterface import SubstrateInterface

    node = SubstrateInterface(url=node_url)
    key = keypair("//SdkTestWorker")
    node.rpc_request("author_insertKey", ["vtwk", "//SdkTestWorker", "0x" + key.public_key.hex()])
    dave = Client(node_url, keypair=keypair("//Dave"))
    assert dave.bond(2_000 * 10**12) == 2_000 * 10**12
    registered = dave.register_worker(node_url, ["mlp_digits_int"], capacity=4, key="0x" + key.public_key.hex())
    assert registered == "0x" + key.public_key.hex()
    record = dave.worker(registered)
    assert record is not None and record["operator"] == keypair("//Dave").ss58_address
    with pytest.raises(errors.Workers.AlreadyRegistered):
        dave.register_worker(node_url, ["mlp_digits_int"], capacity=4, key=registered)


def test_a_quorum_of_three_operators_agrees_and_verifies(client, node_url):
    # Eve's genesis worker, Dave's (above) and one of Ferdie's: three operators, one node.
    from substrateinterface import SubstrateInterface

    key = keypair("//SdkQuorumWorker")
    SubstrateInterface(url=node_url).rpc_request(
        "author_insertKey", ["vtwk", "//SdkQuorumWorker", "0x" + key.public_key.hex()]
    )
    ferdie = Client(node_url, keypair=keypair("//Ferdie"))
    ferdie.bond(2_000 * 10**12)
    ferdie.register_worker(node_url, ["mlp_digits_int"], capacity=4, key="0x" + key.public_key.hex())
    record = ferdie.worker("0x" + key.public_key.hex())
    assert record is not None
    eligible_from = record["settings"]["scheduled"][0]
    deadline = time.monotonic() + 120
    while client.substrate.get_block_number(None) < eligible_from:
        assert time.monotonic() < deadline, "the worker did not become eligible"
        time.sleep(1)
    result = client.infer("mlp_digits_int", digit_input("mlp_digits_int", 60), k=3, timeout=240)
    assert result.verified, result.problems
    assert result.state == "quorum-agreed"
    assert [verdict for _, verdict in result.verdicts] == ["agreed"] * 3
    assert len(set(result.workers)) == 3 and result.worker in result.workers
    assert_as_recorded(result, "mlp_digits_int", 60)
