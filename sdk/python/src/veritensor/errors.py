"""The errors of the client.

Every error the chain can return has its own class, a subclass of `ChainError` named after the
pallet and the error (``errors.Jobs.MaxFeeTooLow``), carrying the pallet's documentation of it:

    try:
        client.submit(...)
    except veritensor.errors.Jobs.MaxFeeTooLow as error:
        print(error.docs)

The classes are made on first use, so any error of the chain's metadata has one.
"""

from __future__ import annotations

from typing import Any, Sequence


class VeritensorError(Exception):
    """Any error of this client."""


class ChainError(VeritensorError):
    """The chain refused a transaction in its dispatch: `pallet` and `name` identify the error,
    `docs` is the pallet's documentation of it."""

    pallet: str = ""
    name: str = ""

    def __init__(self, docs: Sequence[str] = ()):
        self.docs = " ".join(line.strip() for line in docs).strip()
        super().__init__(f"{self.pallet}.{self.name}: {self.docs}" if self.docs else f"{self.pallet}.{self.name}")


class TransactionRefused(VeritensorError):
    """The node refused the transaction before it reached a block (an invalid transaction: the
    account cannot pay the fee, a bad nonce, ...); nothing was spent."""


class NoNode(VeritensorError, ConnectionError):
    """No node answers at the URL given."""


class UnknownModel(VeritensorError, LookupError):
    """No model on chain has that hash or name."""


class ModelUnavailable(VeritensorError):
    """The model exists but takes no jobs on these terms (not listed, or unsupported terms)."""


class InputError(VeritensorError, ValueError):
    """An input that does not match the model's schema: wrong names, count, shape or type, or a
    value out of its type's range. Raised before anything is submitted."""


class JobTimeout(VeritensorError, TimeoutError):
    """Jobs did not settle within the time waited: `jobs` lists them, `results` holds the results
    of the others. Each may still settle; if no worker answers by its deadline block, the chain
    refunds it."""

    def __init__(self, message: str, jobs: Sequence[int] = (), results: Sequence[Any] = ()):
        self.jobs, self.results = list(jobs), list(results)
        super().__init__(message)


class JobRefunded(VeritensorError):
    """A job ended without a result and was refunded; `reason` is the chain's, `results` holds
    the results of the jobs waited for that settled before it was seen."""

    def __init__(self, job: int, reason: str, results: Sequence[Any] = ()):
        self.job, self.reason, self.results = job, reason, list(results)
        super().__init__(f"job {job} ended without a result and was refunded: {reason}")


_classes: dict[tuple[str, str], type[ChainError]] = {}


def error_class(pallet: str, name: str) -> type[ChainError]:
    """The exception class of the chain error `pallet`.`name` (the same class on every call)."""
    key = (pallet, name)
    if key not in _classes:
        _classes[key] = type(name, (ChainError,), {"pallet": pallet, "name": name, "__module__": __name__})
    return _classes[key]


class _Pallet:
    """The error classes of one pallet, by attribute: ``errors.Jobs.MaxFeeTooLow``."""

    def __init__(self, pallet: str):
        self._pallet = pallet

    def __getattr__(self, name: str) -> type[ChainError]:
        if name.startswith("_"):
            raise AttributeError(name)
        return error_class(self._pallet, name)


def __getattr__(pallet: str) -> _Pallet:
    if pallet.startswith("_") or not pallet[:1].isupper():
        raise AttributeError(pallet)
    return _Pallet(pallet)
