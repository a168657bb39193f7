"""Verified inference on the Veritensor chain.

    from substrateinterface import Keypair
    from veritensor import Client

    client = Client("ws://127.0.0.1:9944", Keypair.create_from_uri("//Bob"))
    result = client.infer("mlp_digits_int", pixels)      # pixels: a (1, 64) array, 0..16
    print(result.outputs["label"], result.verified)

See docs/sdk.md for what `verified` means and for the rest of the API.
"""

from . import errors, samples
from .client import UNITS, Client, JobInfo, ReceiptCheck, Result, Submitted, Terms
from .errors import (
    ChainError,
    InputError,
    JobRefunded,
    JobTimeout,
    ModelUnavailable,
    NoNode,
    TransactionRefused,
    UnknownModel,
    VeritensorError,
)
from .hashing import Receipt, input_hash, output_hash
from .models import Model, TensorSpec
from .tensors import ElementType, Tensor, from_wire, to_wire

__all__ = [
    "UNITS", "ChainError", "Client", "ElementType", "InputError", "JobInfo", "JobRefunded", "JobTimeout",
    "Model", "ModelUnavailable", "NoNode", "Receipt", "ReceiptCheck", "Result", "Submitted", "Tensor", "TensorSpec",
    "Terms", "TransactionRefused", "UnknownModel", "VeritensorError", "errors", "from_wire", "input_hash",
    "output_hash", "samples", "to_wire",
]
