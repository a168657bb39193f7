"""A client of the chain: models, quotes, jobs submitted, followed and verified.

Built on substrate-interface, which reads the chain's metadata and signs its transactions. Two
things it does not do by itself are done here: SCALE ``BoundedVec`` values are passed wrapped in
a one-element list (substrate-interface 1.x sees a bounded vector as a struct of one field), and
the runtime API (``JobsApi``) is called with ``state_call`` and decoded by hand
(`veritensor.runtime_api`), as substrate-interface 1.x does not know runtime APIs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, Union, overload

import numpy as np

from . import runtime_api
from .errors import (
    InputError,
    NoNode,
    JobRefunded,
    JobTimeout,
    ModelUnavailable,
    TransactionRefused,
    UnknownModel,
    VeritensorError,
    error_class,
)
from .hashing import Receipt, input_hash, output_hash
from .models import Model, model_from_record
from .tensors import Tensor, from_wire, to_wire

Inputs = Union[np.ndarray, Sequence[np.ndarray], Mapping[str, np.ndarray]]
"""A job's inputs: one array (a one-input model), a list in the schema's order, or a dict by
input name."""

UNITS = 10**12
"""One VTN in the chain's smallest unit (the chain has 12 decimals)."""

DEFAULT_DEADLINE = 20
"""Blocks a job may wait for its result before the chain refunds it."""


@dataclass(frozen=True)
class Terms:
    """How a job is verified: by `replicas` workers (1, or a quorum of 3 or 5), and for one
    worker whether it is `audited` (re-run at random by an auditor, at a premium)."""

    replicas: int = 1
    audited: bool = False


@dataclass(frozen=True)
class Submitted:
    """A job this client submitted, with what it needs to verify the result."""

    job: int
    model: Model
    inputs: tuple[Tensor, ...]
    terms: Terms
    max_fee: int
    block: int
    sent_at: float


@dataclass(frozen=True)
class ReceiptCheck:
    """A stored receipt: the worker key that signed the result, and whether its signature holds
    over this chain's genesis, the job, the model, the inputs sent and the output returned."""

    worker: str
    signature: str
    valid: bool


@dataclass
class Result:
    """A settled job's result, checked on this machine.

    `verified` means exactly this: the output returned hashes to the output hash the chain
    recorded; the stored receipt is signed by a worker key the chain assigned the job to, over
    this chain's genesis hash, this job, this model, the hash of the inputs this client sent
    (computed here) and that output hash; and for a quorum, the chain's decision names that worker
    and output as canonical. It says nothing more: not that the worker computed honestly. That is
    what the verification terms buy (a quorum's agreement, an audit, the dispute window in which
    anyone may challenge a provisional result): see `state`. The chain's record is read from the
    node this client is connected to: connect to a node you run (or trust) for it to mean the
    chain's record.
    """

    job: int
    model: str
    outputs: dict[str, np.ndarray]
    state: str
    """``provisional`` (one worker's word, or a quorum that slashed a member: open to challenge
    or appeal until `provisional_until`), ``final``, ``quorum-agreed`` (a quorum's majority
    agreed and nobody was found wrong), ``overturned`` (referees replaced the output: the
    submitter was refunded), or ``recomputed`` (the runtime ran the model itself, found the
    worker wrong and replaced the output with its own: the submitter was refunded)."""
    verified: bool
    terms: Terms
    cost: int
    """What the job cost, in the chain's smallest unit."""
    blocks: int
    """Blocks from submission to settlement."""
    seconds: float
    """Wall time from sending the submission to seeing the result."""
    worker: str
    workers: list[str]
    """Every worker key the chain assigned the job to."""
    receipts: list[ReceiptCheck]
    output_hash: str
    provisional_until: int | None = None
    challenged: bool = False
    """Whether a challenge or an appeal of the provisional result is being judged by referees."""
    verdicts: list[tuple[str, str]] = field(default_factory=list)
    """A quorum's verdict on each member, in draw order."""
    problems: list[str] = field(default_factory=list)
    """Why `verified` is false, one line each."""


@dataclass(frozen=True)
class JobInfo:
    """A job as the chain knows it now."""

    job: int
    state: str
    """``queued``, ``assigned``, ``disputed``, ``escalated`` (open), ``settled`` (a result is
    kept: see `result_state`) or ``unknown`` (never existed, refunded, or pruned)."""
    model: str | None = None
    submitter: str | None = None
    workers: list[str] = field(default_factory=list)
    deadline: int | None = None
    escrow: int | None = None
    result_state: str | None = None
    provisional_until: int | None = None


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def _variant(value: Any) -> tuple[str, Any]:
    if isinstance(value, Mapping):
        name = next(iter(value))
        return str(name), value[name]
    return str(value), None


class _Reconnecting:
    """A substrate-interface connection that reconnects once when the node has closed an idle
    WebSocket, and retries the read that found it closed. Submissions are never retried (a
    transaction sent before the connection broke may be in the pool already)."""

    def __init__(self, substrate: Any):
        self._substrate = substrate

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._substrate, name)
        if not callable(attribute) or name == "submit_extrinsic":
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            from websocket import WebSocketConnectionClosedException

            try:
                return attribute(*args, **kwargs)
            except (BrokenPipeError, ConnectionError, WebSocketConnectionClosedException):
                self._substrate.connect_websocket()
                return getattr(self._substrate, name)(*args, **kwargs)

        return call


class Client:
    """A connection to a Veritensor node. `keypair` (a substrate-interface `Keypair`) signs what
    the client submits; reading needs none."""

    def __init__(self, url: str = "ws://127.0.0.1:9944", keypair: Any = None):
        from substrateinterface import SubstrateInterface

        try:
            self.substrate: Any = _Reconnecting(SubstrateInterface(url=url))
        except Exception as error:  # noqa: BLE001 - refused, unresolvable, not a WebSocket...
            raise NoNode(f"cannot connect to a node at {url}: {error}") from None
        self.url = url
        self.keypair = keypair
        self.genesis = bytes.fromhex(self.substrate.get_block_hash(0)[2:])
        self._events: dict[int, list[Any]] = {}

    # Models.

    def models(self) -> list[Model]:
        """Every model with a record on chain."""
        return [
            model_from_record(key.value, value.value)
            for key, value in self.substrate.query_map("Models", "Models")
        ]

    def model(self, hash_or_name: str | Model) -> Model:
        """A model by its hash (``0x`` and 64 hex digits) or its name; `UnknownModel` if none."""
        if isinstance(hash_or_name, Model):
            return hash_or_name
        if hash_or_name.startswith("0x") and len(hash_or_name) == 66:
            record = self.substrate.query("Models", "Models", [hash_or_name]).value
            if record:
                return model_from_record(hash_or_name.lower(), record)
        else:
            # Anyone may propose a model under any name: only listed models answer to a name,
            # and a name two listed models share is refused (give the hash).
            named = [model for model in self.models() if model.name == hash_or_name]
            listed = [model for model in named if model.status == "Listed"]
            if len(listed) > 1:
                hashes = ", ".join(model.hash for model in listed)
                raise UnknownModel(f"{len(listed)} listed models are named {hash_or_name!r} ({hashes}): give the hash")
            if listed:
                return listed[0]
            if named:
                raise ModelUnavailable(
                    f"no listed model is named {hash_or_name!r} (models of that name: "
                    f"{', '.join(f'{model.hash} {model.status}' for model in named)})"
                )
        raise UnknownModel(f"no model {hash_or_name!r} on this chain")

    # Quotes.

    def _call(self, method: str, params: bytes) -> bytes:
        result = self.substrate.rpc_request("state_call", [method, _hex(params)])["result"]
        return bytes.fromhex(result[2:])

    def quote(self, model: Model | str, terms: Terms = Terms()) -> int:
        """What a job of `model` verified as `terms` say costs now, in the chain's smallest unit
        (an audit's premium included); `ModelUnavailable` if the model takes no such jobs."""
        model = self.model(model)
        params = bytes.fromhex(model.hash[2:]) + int(terms.replicas).to_bytes(4, "little")
        price = runtime_api.decode_balance(self._call("JobsApi_quote_terms", params + bytes([int(terms.audited)])))
        if price is None:
            raise ModelUnavailable(
                f"{model.name or model.hash} ({model.status}) takes no jobs with "
                f"{terms.replicas} worker(s){', audited' if terms.audited else ''}"
            )
        return price

    # Inputs.

    def encode_inputs(self, model: Model, inputs: Inputs) -> list[Tensor]:
        """`inputs` as the wire tensors of `model`'s schema; `InputError` on any mismatch."""
        specs = model.inputs
        if isinstance(inputs, Mapping):
            missing = [spec.name for spec in specs if spec.name not in inputs]
            extra = sorted(set(inputs) - {spec.name for spec in specs})
            if missing or extra:
                raise InputError(f"{model.name}'s inputs by name: missing {missing}, unknown {extra}")
            arrays = [inputs[spec.name] for spec in specs]
        elif isinstance(inputs, np.ndarray):
            arrays = [inputs]
        else:
            arrays = list(inputs)
        if len(arrays) != len(specs):
            raise InputError(f"{model.name} takes {len(specs)} input(s), got {len(arrays)}")
        tensors = []
        for spec, array in zip(specs, arrays):
            try:
                tensors.append(to_wire(array, spec.elem, spec.shape, spec.frac_bits))
            except ValueError as error:
                raise InputError(f"{model.name}'s input {spec.name!r}: {error}") from None
        return tensors

    # Transactions.

    def _require_keypair(self, what: str) -> None:
        if self.keypair is None:
            raise VeritensorError(f"{what} needs a keypair: Client(url, keypair=...)")

    def _pallet_name(self, index: int) -> str:
        for pallet in self.substrate.metadata.pallets:
            if pallet.value["index"] == index:
                return str(pallet.name)
        return f"pallet {index}"

    def _send(self, pallet: str, call: str, params: Mapping[str, Any]) -> Any:
        composed = self.substrate.compose_call(pallet, call, dict(params))
        return self._send_call(composed)

    def _send_call(self, composed: Any) -> Any:
        from substrateinterface.exceptions import SubstrateRequestException

        extrinsic = self.substrate.create_signed_extrinsic(call=composed, keypair=self.keypair)
        try:
            receipt = self.substrate.submit_extrinsic(extrinsic, wait_for_inclusion=True)
        except SubstrateRequestException as error:
            raise TransactionRefused(f"the node refused the transaction: {error}") from None
        if not receipt.is_success:
            self._raise_dispatch_error(receipt)
        return receipt

    def _raise_dispatch_error(self, receipt: Any) -> None:
        message = receipt.error_message or {}
        pallet = "System"
        for event in receipt.triggered_events:
            value = event.value
            if value["module_id"] == "System" and value["event_id"] == "ExtrinsicFailed":
                error = value["attributes"]["dispatch_error"]
                if isinstance(error, Mapping) and "Module" in error:
                    pallet = self._pallet_name(int(error["Module"]["index"]))
            if value["module_id"] == "Utility" and value["event_id"] == "BatchInterrupted":
                error = value["attributes"]["error"]
                if isinstance(error, Mapping) and "Module" in error:
                    pallet = self._pallet_name(int(error["Module"]["index"]))
        name = str(message.get("name") or message.get("type") or "Other")
        docs = message.get("docs") or ([str(message.get("type"))] if message.get("type") not in (None, "Module") else [])
        raise error_class(pallet, name)(docs)

    # Submission.

    def _prepare(
        self, model: Model | str, inputs: Inputs, terms: Terms, max_fee: int | None, deadline: int
    ) -> tuple[Model, list[Tensor], int, Any]:
        model = self.model(model)
        tensors = self.encode_inputs(model, inputs)
        if not isinstance(deadline, int) or not 1 <= deadline <= 10_000:
            raise InputError(f"deadline {deadline!r}: blocks from submission, 1 to 10,000")
        fee = self.quote(model, terms) if max_fee is None else int(max_fee)
        wire = [
            {
                "elem": tensor.elem.chain_name,
                # BoundedVec values are wrapped in a one-element list (see the module's docs).
                "shape": [list(tensor.shape)],
                "frac_bits": tensor.frac_bits,
                "data": _hex(tensor.data),
            }
            for tensor in tensors
        ]
        call = self.substrate.compose_call(
            "Jobs",
            "submit",
            {
                "model": model.hash,
                "input": {"Inline": [wire]},
                "verification": {"replicas": int(terms.replicas), "audited": bool(terms.audited)},
                "max_fee": fee,
                "deadline": deadline,
            },
        )
        return model, tensors, fee, call

    def submit(
        self,
        model: Model | str,
        inputs: Inputs,
        terms: Terms = Terms(),
        max_fee: int | None = None,
        deadline: int = DEFAULT_DEADLINE,
    ) -> Submitted:
        """Submits one job; `max_fee` defaults to the quote. Every input is checked against the
        model's schema before anything is sent. Raises `UnknownModel`, `ModelUnavailable`,
        `InputError`, `TransactionRefused` or the chain's own error (a `ChainError`)."""
        return self.submit_batch(model, [inputs], terms, max_fee, deadline)[0]

    def submit_batch(
        self,
        model: Model | str,
        batch: Sequence[Inputs],
        terms: Terms = Terms(),
        max_fee: int | None = None,
        deadline: int = DEFAULT_DEADLINE,
    ) -> list[Submitted]:
        """Submits one job per entry of `batch` in one transaction (all or none: a batch the
        chain refuses submits nothing). Errors as for `submit`."""
        self._require_keypair("submitting")
        if not batch:
            raise InputError("an empty batch")
        prepared = [self._prepare(model, inputs, terms, max_fee, deadline) for inputs in batch]
        sent_at = time.monotonic()
        calls = [call for _, _, _, call in prepared]
        composed = calls[0] if len(calls) == 1 else self.substrate.compose_call("Utility", "batch_all", {"calls": calls})
        receipt = self._send_call(composed)
        block = self.substrate.get_block_number(receipt.block_hash)
        ids = [
            int(event.value["attributes"]["job"])
            for event in receipt.triggered_events
            if event.value["module_id"] == "Jobs" and event.value["event_id"] == "Submitted"
        ]
        if len(ids) != len(prepared):
            raise VeritensorError(f"{len(ids)} of {len(prepared)} jobs were submitted")
        return [
            Submitted(job, model_, tuple(tensors), terms, fee, block, sent_at)
            for job, (model_, tensors, fee, _) in zip(ids, prepared)
        ]

    # Following jobs.

    def _block_events(self, number: int) -> list[Any]:
        if number not in self._events:
            block_hash = self.substrate.get_block_hash(number)
            self._events[number] = [event.value for event in self.substrate.get_events(block_hash)]
        return self._events[number]

    def _job_events(self, job: int, first: int, last: int) -> list[tuple[int, str, Mapping[str, Any]]]:
        found = []
        for number in range(first, last + 1):
            for event in self._block_events(number):
                attributes = event["attributes"]
                if event["module_id"] == "Jobs" and isinstance(attributes, Mapping) and attributes.get("job") == job:
                    found.append((number, event["event_id"], attributes))
        return found

    @overload
    def wait(
        self, jobs: Submitted, timeout: float = ..., progress: Callable[[str], None] | None = ...
    ) -> Result: ...

    @overload
    def wait(
        self, jobs: Sequence[Submitted], timeout: float = ..., progress: Callable[[str], None] | None = ...
    ) -> list[Result]: ...

    def wait(
        self,
        jobs: Submitted | Sequence[Submitted],
        timeout: float = 120.0,
        progress: Callable[[str], None] | None = None,
    ) -> Result | list[Result]:
        """Waits until every job of `jobs` has settled and verifies each result (see
        `Result`); returns one `Result` for one job, a list for a list. Raises `JobRefunded` if
        a job ends without a result, `JobTimeout` after `timeout` seconds. `progress` is called
        with a line whenever something changes."""
        batch: list[Submitted] = [jobs] if isinstance(jobs, Submitted) else list(jobs)
        pending: dict[int, Submitted] = {job.job: job for job in batch}
        if timeout <= 0:
            raise InputError(f"timeout {timeout!r}: seconds to wait, above zero")
        done: dict[int, Result] = {}
        deadline = time.monotonic() + timeout
        last_line = None
        while pending:
            now = self.substrate.get_block_number(None)
            for job_id, submitted in list(pending.items()):
                stored = runtime_api.decode_result(self._call("JobsApi_result", job_id.to_bytes(8, "little")))
                if stored is not None:
                    done[job_id] = self._check(submitted, stored, time.monotonic() - submitted.sent_at)
                    del pending[job_id]
                    continue
                if self.substrate.query("Jobs", "Jobs", [job_id]).value is None:
                    # It may have settled between the two reads: look for its result again.
                    stored = runtime_api.decode_result(self._call("JobsApi_result", job_id.to_bytes(8, "little")))
                    if stored is not None:
                        done[job_id] = self._check(submitted, stored, time.monotonic() - submitted.sent_at)
                        del pending[job_id]
                        continue
                    refunds = [e for e in self._job_events(job_id, submitted.block, now) if e[1] == "Refunded"]
                    reason = str(refunds[-1][2].get("reason")) if refunds else "no result is kept"
                    self._events.clear()
                    raise JobRefunded(job_id, reason, list(done.values()))
            line = f"#{now}: {len(done)}/{len(done) + len(pending)} settled"
            if progress and line != last_line:
                progress(line)
            last_line = line
            if not pending:
                break
            if time.monotonic() > deadline:
                self._events.clear()
                raise JobTimeout(
                    f"{len(pending)} job(s) not settled after {timeout:g} s: {sorted(pending)}; "
                    "each may still settle, or is refunded at its deadline block",
                    sorted(pending),
                    list(done.values()),
                )
            time.sleep(0.5)
        self._events.clear()
        results = [done[job.job] for job in batch]
        return results[0] if isinstance(jobs, Submitted) else results

    def _check(self, submitted: Submitted, stored: runtime_api.StoredResult, seconds: float) -> Result:
        import sr25519

        job, model = submitted.job, submitted.model
        problems: list[str] = []
        worker = _hex(stored.worker)
        if stored.outputs is None:
            raise VeritensorError(f"job {job}'s output is stored off chain at {stored.uri!r}")
        hashed = output_hash(stored.outputs)
        if hashed != stored.output_hash:
            problems.append("the output does not hash to the output hash the chain recorded")
        if stored.model.hex() != model.hash[2:].lower():
            problems.append("the result is of another model")

        events = self._job_events(job, submitted.block, stored.settled_at)
        assigned: list[str] = []
        for _, name, attributes in events:
            if name == "Assigned":
                assigned += [str(member) for member in attributes["workers"] if str(member) not in assigned]
        settled = [attributes for _, name, attributes in events if name == "Settled"]
        cost = int(settled[-1]["cost"]) if settled else 0
        provisional_until = settled[-1].get("provisional_until") if settled else None

        verdicts: list[tuple[str, str]] = []
        quorum_agreed = False
        if submitted.terms.replicas > 1:
            decision = runtime_api.decode_decision(self._call("JobsApi_decision", job.to_bytes(8, "little")))
            if decision is None:
                problems.append("the chain keeps no quorum decision for the job")
            else:
                verdicts = [(_hex(member), verdict) for member, verdict in decision.verdicts]
                assigned += [member for member, _ in verdicts if member not in assigned]
                if decision.canonical_worker != stored.worker or decision.canonical_output != stored.output_hash:
                    problems.append("the quorum's decision does not name this worker's output as canonical")
                agreed = sum(1 for _, verdict in verdicts if verdict == "agreed")
                slashed = any(verdict in ("wrong", "unrevealed") for _, verdict in verdicts)
                quorum_agreed = agreed * 2 > len(verdicts) and not slashed
        if worker not in assigned:
            problems.append(f"the worker {worker} was not assigned the job")

        receipt = Receipt(
            self.genesis, job, bytes.fromhex(model.hash[2:]), input_hash(submitted.inputs), hashed, stored.worker
        )
        # sr25519 over the payload itself, as the runtime checks it (substrate-interface's
        # Keypair.verify would also accept a signature over the payload wrapped in <Bytes>).
        try:
            signed = bool(sr25519.verify(stored.signature, receipt.signing_payload(), stored.worker))
        except ValueError:
            signed = False
        if not signed:
            problems.append("the receipt's signature does not hold over the inputs sent and the output returned")

        status = runtime_api.decode_status(self._call("JobsApi_result_status", job.to_bytes(8, "little")))
        state = status.state if status else "unknown"
        if status is None:
            problems.append("the chain keeps no status for the result")
        if state == "final" and quorum_agreed:
            state = "quorum-agreed"
        if state == "overturned":
            problems.append("referees overturned the worker's result")
        if state == "recomputed":
            problems.append("the runtime re-ran the model and replaced the worker's wrong output")
        if status and status.until is not None:
            provisional_until = status.until
        outputs = {spec.name: from_wire(tensor) for spec, tensor in zip(model.outputs, stored.outputs)}
        return Result(
            job=job,
            model=model.name,
            outputs=outputs,
            state=state,
            verified=not problems,
            terms=submitted.terms,
            cost=cost,
            blocks=stored.settled_at - submitted.block,
            seconds=seconds,
            worker=worker,
            workers=assigned,
            receipts=[ReceiptCheck(worker, _hex(stored.signature), signed)],
            output_hash=_hex(hashed),
            provisional_until=provisional_until,
            challenged=bool(status and status.challenged),
            verdicts=verdicts,
            problems=problems,
        )

    def infer(
        self,
        model: Model | str,
        inputs: Inputs,
        k: int = 1,
        audited: bool = False,
        timeout: float = 120.0,
        progress: Callable[[str], None] | None = None,
    ) -> Result:
        """Runs `model` on `inputs` on chain: checks the inputs against the model's schema,
        quotes, submits with the quote as `max_fee`, waits and verifies the result (see
        `Result`). `k` workers run it (1, or a quorum of 3 or 5); `audited` asks for random
        audits of a single worker. Errors as for `submit` and `wait`."""
        if timeout <= 0:
            raise InputError(f"timeout {timeout!r}: seconds to wait, above zero")
        submitted = self.submit(model, inputs, Terms(k, audited))
        if progress:
            progress(f"job {submitted.job} submitted in #{submitted.block}")
        return self.wait(submitted, timeout=timeout, progress=progress)

    def job(self, job: int) -> JobInfo:
        """Where job `job` stands now."""
        record = self.substrate.query("Jobs", "Jobs", [int(job)]).value
        if record:
            state, detail = _variant(record["state"])
            workers = [str(worker) for worker in detail["workers"]] if state == "Assigned" else []
            return JobInfo(
                job=int(job),
                state=state.lower(),
                model=str(record["model"]),
                submitter=str(record["submitter"]),
                workers=workers,
                deadline=int(record["deadline"]),
                escrow=int(record["escrow"]),
            )
        stored = runtime_api.decode_result(self._call("JobsApi_result", int(job).to_bytes(8, "little")))
        if stored is None:
            return JobInfo(job=int(job), state="unknown")
        status = runtime_api.decode_status(self._call("JobsApi_result_status", int(job).to_bytes(8, "little")))
        return JobInfo(
            job=int(job),
            state="settled",
            model=_hex(stored.model),
            workers=[_hex(stored.worker)],
            result_state=status.state if status else None,
            provisional_until=status.until if status else None,
        )

    def claimable(self, account: str | None = None) -> int:
        """What `account` (by default the keypair's) has earned and not claimed yet."""
        account = account or (self.keypair.ss58_address if self.keypair else None)
        if account is None:
            raise VeritensorError("claimable needs an account or a keypair")
        value = self.substrate.query("Jobs", "Claimable", [account]).value
        return int(value or 0)

    def claim(self, beneficiary: str | None = None) -> int:
        """Pays out the earnings of `beneficiary` (by default the keypair's account); returns the
        amount paid. Anyone may pay anyone's out; the keypair pays the fee."""
        self._require_keypair("claiming")
        beneficiary = beneficiary or self.keypair.ss58_address
        receipt = self._send("Jobs", "claim", {"beneficiary": beneficiary})
        return sum(
            int(event.value["attributes"]["amount"])
            for event in receipt.triggered_events
            if event.value["module_id"] == "Jobs" and event.value["event_id"] == "Claimed"
        )

    # Operators.

    def bond(self, amount: int) -> int:
        """Bonds `amount` (smallest unit) from the keypair's account as a worker operator's
        stake, or adds it to the existing bond; returns the active bond."""
        self._require_keypair("bonding")
        if int(amount) <= 0:
            raise InputError(f"bond {amount!r}: an amount above zero")
        account = self.keypair.ss58_address
        if self.substrate.query("Workers", "Operators", [account]).value:
            self._send("Workers", "bond_extra", {"value": int(amount)})
        else:
            self._send("Workers", "bond", {"value": int(amount)})
        return int(self.substrate.query("Workers", "Operators", [account]).value["active"])

    def register_worker(
        self, node_url: str, models: Sequence[Model | str], capacity: int = 8, key: str | None = None
    ) -> str:
        """Registers a worker key held by the node at `node_url` (its first, or `key`) under the
        keypair's account (bonded first: see `bond`), serving `models` with `capacity`
        assignments at once; returns the key. The proof that the operator holds the key comes
        from the node's ``veritensor_workerKeyProofs``."""
        from substrateinterface import SubstrateInterface

        self._require_keypair("registering a worker")
        if not 1 <= int(capacity) <= 256:
            raise InputError(f"capacity {capacity!r}: assignments at once, 1 to 256")
        chosen = [self.model(model) for model in models]
        unlisted = [model.name or model.hash for model in chosen if model.status != "Listed"]
        if not chosen or unlisted:
            raise ModelUnavailable(f"a worker serves listed models: not listed {unlisted}" if unlisted else "no models")
        hashes = [model.hash for model in chosen]
        try:
            node = SubstrateInterface(url=node_url)
        except Exception as error:  # noqa: BLE001
            raise NoNode(f"cannot connect to the worker node at {node_url}: {error}") from None
        if bytes.fromhex(node.get_block_hash(0)[2:]) != self.genesis:
            raise VeritensorError(f"the node at {node_url} follows another chain (its genesis differs)")
        proofs = node.rpc_request("veritensor_workerKeyProofs", [self.keypair.ss58_address])["result"]
        if key is not None:
            proofs = [proof for proof in proofs if str(proof["worker"]).lower() == key.lower()]
        if not proofs:
            raise VeritensorError(f"the node at {node_url} holds no worker key{' ' + key if key else ''}")
        proof = proofs[0]
        self._send(
            "Workers",
            "register",
            {"worker": proof["worker"], "proof": proof["proof"], "models": [hashes], "capacity": int(capacity)},
        )
        return str(proof["worker"])

    def worker(self, key: str) -> dict[str, Any] | None:
        """A registered worker's record (operator, settings, open assignments, exposure, stats),
        or `None`."""
        record = self.substrate.query("Workers", "Workers", [key]).value
        return dict(record) if record else None
