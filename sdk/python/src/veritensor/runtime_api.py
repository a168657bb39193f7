"""The job market's runtime API (``JobsApi``), called with ``state_call`` and decoded here.

substrate-interface 1.x does not know the runtime APIs of a chain's metadata, so the calls are
encoded and their answers decoded by hand, field for field as the runtime defines them
(``pallets/jobs/src/runtime_api.rs`` and ``types.rs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .scale import Reader
from .tensors import ElementType, Tensor

VERDICTS = ("agreed", "differed", "wrong", "abstained", "unrevealed", "no-show")
"""A quorum member's verdict, as `QuorumDecision.verdicts` names them."""


@dataclass(frozen=True)
class StoredResult:
    """A settled job's result as the chain keeps it."""

    model: bytes
    worker: bytes
    outputs: list[Tensor] | None
    """The output tensors; `None` when the output is stored off chain (see `uri`)."""
    uri: bytes | None
    output_hash: bytes
    signature: bytes
    single_worker: bool
    settled_at: int


@dataclass(frozen=True)
class ResultStatus:
    """Where a kept result stands: ``provisional`` (until `until`, `challenged` or not),
    ``final``, ``overturned`` (by referees; the stored output is theirs) or ``recomputed``
    (the runtime ran the model itself and replaced a wrong output; the stored output is the
    runtime's)."""

    state: str
    until: int | None = None
    challenged: bool = False


@dataclass(frozen=True)
class QuorumDecision:
    """How a quorum decided a job."""

    decided_at: int
    canonical_worker: bytes | None
    canonical_output: bytes | None
    verdicts: list[tuple[bytes, str]]
    slash: int
    dispute_end: int


def _tensor(reader: Reader) -> Tensor:
    elem = ElementType(reader.byte())
    shape = tuple(reader.u32() for _ in range(reader.compact()))
    frac_bits = reader.byte()
    return Tensor(elem, shape, frac_bits, reader.take(reader.compact()))


def _option(raw: bytes, decode: Callable[[Reader], Any]) -> Any:
    if not raw or raw[0] == 0:
        return None
    if raw[0] != 1:
        raise ValueError("the runtime API's answer is not an Option: is this a Veritensor node?")
    reader = Reader(raw[1:])
    value = decode(reader)
    if reader.at != len(reader.data):
        raise ValueError("the runtime API's answer is longer than this client reads: a newer runtime?")
    return value


def decode_result(raw: bytes) -> StoredResult | None:
    """`JobsApi_result`'s answer: `Option<JobResult>`."""

    def decode(reader: Reader) -> StoredResult:
        model, worker = reader.take(32), reader.take(32)
        outputs, uri = None, None
        if reader.byte() == 0:
            outputs = [_tensor(reader) for _ in range(reader.compact())]
        else:
            reader.take(32)
            uri = reader.take(reader.compact())
        output_hash, signature = reader.take(32), reader.take(64)
        single_worker = reader.byte() == 1
        return StoredResult(model, worker, outputs, uri, output_hash, signature, single_worker, reader.u32())

    return _option(raw, decode)


def decode_status(raw: bytes) -> ResultStatus | None:
    """`JobsApi_result_status`'s answer: `Option<ResultStatus>`."""

    def decode(reader: Reader) -> ResultStatus:
        variant = reader.byte()
        if variant == 0:
            return ResultStatus("provisional", reader.u32(), reader.byte() == 1)
        if variant == 1:
            return ResultStatus("final")
        if variant == 2:
            reader.take(32)
            return ResultStatus("overturned")
        if variant == 3:
            reader.take(32)
            return ResultStatus("recomputed")
        raise ValueError(f"a result status this client does not know ({variant}): a newer runtime?")

    return _option(raw, decode)


def decode_decision(raw: bytes) -> QuorumDecision | None:
    """`JobsApi_decision`'s answer: `Option<QuorumDecision>`."""

    def decode(reader: Reader) -> QuorumDecision:
        decided_at = reader.u32()
        worker, output = None, None
        if reader.byte() == 1:
            worker = reader.take(32)
            if reader.byte() == 1:
                output = reader.take(32)
        verdicts = []
        for _ in range(reader.compact()):
            member = reader.take(32)
            verdict = reader.byte()
            if verdict >= len(VERDICTS):
                raise ValueError(f"a verdict this client does not know ({verdict}): a newer runtime?")
            verdicts.append((member, VERDICTS[verdict]))
        slash = int.from_bytes(reader.take(16), "little")
        return QuorumDecision(decided_at, worker, output, verdicts, slash, reader.u32())

    return _option(raw, decode)


def decode_balance(raw: bytes) -> int | None:
    """An `Option<Balance>` answer (`quote`, `quote_terms`)."""
    return _option(raw, lambda reader: int.from_bytes(reader.take(16), "little"))
