"""Models as the chain's registry describes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .tensors import ElementType


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a model: its name, element type, fixed shape and fraction bits
    (for float tensors, which travel as fixed point)."""

    name: str
    elem: ElementType
    shape: tuple[int, ...]
    frac_bits: int


@dataclass(frozen=True)
class Model:
    """A model with a record on chain."""

    hash: str
    """The blake2-256 hash of its artifact, ``0x``-prefixed hex: its identity on chain."""
    name: str
    description: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    price_per_worker: int
    """What each worker earns per job, in the chain's smallest unit."""
    owner_royalty: int
    owner: str
    status: str
    """``Listed`` (takes jobs), ``Proposed``, ``Deprecated``, ...: the registry's status."""
    raw: Mapping[str, Any]
    """The record as decoded from the chain."""


def _spec(raw: Mapping[str, Any]) -> TensorSpec:
    return TensorSpec(
        name=str(raw["name"]),
        elem=ElementType.from_name(str(raw["elem"])),
        shape=tuple(int(side) for side in raw["shape"]),
        frac_bits=int(raw["frac_bits"]),
    )


def model_from_record(hash_: str, record: Mapping[str, Any]) -> Model:
    """A `Model` from the registry's storage record."""
    spec = record["spec"]
    metadata = spec.get("metadata") or {}
    description = metadata.get("description") or {}
    status = record["status"]
    return Model(
        hash=hash_,
        name=str(metadata.get("name", "")),
        description=str(description.get("Text", "")) if isinstance(description, Mapping) else "",
        inputs=tuple(_spec(raw) for raw in spec["schema"]["inputs"]),
        outputs=tuple(_spec(raw) for raw in spec["schema"]["outputs"]),
        price_per_worker=int(spec["price_per_worker"]),
        owner_royalty=int(spec["owner_royalty"]),
        owner=str(record.get("owner", "")),
        status=next(iter(status)) if isinstance(status, Mapping) else str(status),
        raw=record,
    )
