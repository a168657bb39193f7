"""The ``veritensor`` command: models, quotes, verified inference, jobs and worker operations.

Exit codes: 0 done (for ``infer``: the result verified); 1 the chain refused a transaction or a
job ended without a result; 2 bad usage or input (an unknown model or worker, an input that does
not fit the model, an unreadable file, a bad secret URI): nothing was submitted; 3 a job did not
settle in time; 4 a result came back but did not verify; 5 no node to talk to, or the connection
broke.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from websocket import WebSocketException

from .client import UNITS, Client, Model, Result, Terms
from .errors import (
    InputError,
    JobRefunded,
    JobTimeout,
    ModelUnavailable,
    NoNode,
    UnknownModel,
    VeritensorError,
)
from .images import IMAGE_SUFFIXES, digit_pixels

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_TIMEOUT, EXIT_UNVERIFIED, EXIT_NO_NODE = 0, 1, 2, 3, 4, 5


def vtn(amount: int) -> str:
    """An amount in the smallest unit, written in VTN."""
    return f"{Decimal(amount) / UNITS:f} VTN"


def load_inputs(path: str, model: Model) -> Any:
    """The inputs in the file at `path`: ``.npy`` (one array), ``.json`` (an array, a list of
    arrays in schema order, or an object by input name) or an image (for a model whose one input
    holds 64 pixels: converted as scikit-learn's digits are, see `veritensor.images`)."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"no input file {path}")
    try:
        return _read_inputs(file, model)
    except (ValueError, OSError) as error:  # malformed JSON or .npy, an unreadable image
        raise InputError(f"{path}: {error}") from None


def _read_inputs(file: Path, model: Model) -> Any:
    suffix = file.suffix.lower()
    if suffix == ".npy":
        return np.load(file, allow_pickle=False)
    if suffix == ".json":
        value = json.loads(file.read_text())
        if isinstance(value, dict):
            return {name: np.asarray(array) for name, array in value.items()}
        if len(model.inputs) > 1:
            return [np.asarray(array) for array in value]
        return np.asarray(value)
    if suffix in IMAGE_SUFFIXES:
        if len(model.inputs) != 1 or int(np.prod(model.inputs[0].shape)) != 64:
            raise InputError(f"{model.name} does not take an 8x8 image: give a .npy or .json file")
        return digit_pixels(file).reshape(model.inputs[0].shape)
    raise InputError(f"{file}: give a .npy, .json or image ({', '.join(IMAGE_SUFFIXES)}) file")


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def result_json(result: Result) -> dict[str, Any]:
    data = asdict(result)
    data["outputs"] = {name: array.tolist() for name, array in result.outputs.items()}
    return _plain(data)


def print_result(result: Result) -> None:
    label = result.outputs.get("label")
    headline = f"label {int(np.asarray(label).ravel()[0])}" if label is not None else "done"
    print(f"{result.model}: {headline}")
    for name, array in result.outputs.items():
        values = np.asarray(array).ravel()
        print(f"  {name}: {np.array2string(values, precision=5, suppress_small=True, max_line_width=100)}")
    until = f" until #{result.provisional_until}" if result.state == "provisional" and result.provisional_until else ""
    print(f"  job {result.job}: {result.blocks} blocks, {result.seconds:.1f} s, cost {vtn(result.cost)}, "
          f"state {result.state}{until}")
    print(f"  worker {result.worker}")
    if result.challenged:
        print("  under challenge: referees are judging it")
    print(f"  verified: {result.verified}")
    for problem in result.problems:
        print(f"    {problem}")


def model_line(model: Model) -> str:
    inputs = ", ".join(f"{spec.name} {spec.elem.chain_name}{list(spec.shape)}" for spec in model.inputs)
    return f"{model.name:<20} {model.hash}  {model.status:<10} {vtn(model.price_per_worker)} per worker  in: {inputs}"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="veritensor",
        description="Verified inference on a Veritensor chain.",
        epilog="Exit codes: 0 done (infer: verified), 1 refused or refunded, 2 bad usage or input "
        "(nothing submitted), 3 timed out, 4 not verified, 5 no node or connection broken.",
    )
    top.add_argument("--url", default=os.environ.get("VERITENSOR_URL", "ws://127.0.0.1:9944"),
                     help="the node's WebSocket RPC (env VERITENSOR_URL; default ws://127.0.0.1:9944)")
    top.add_argument("--suri", default=os.environ.get("VERITENSOR_SURI"),
                     help="secret URI of the signing account, e.g. //Bob on a dev chain (env VERITENSOR_SURI)")
    top.add_argument("--json", action="store_true", help="print JSON instead of text")
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("models", help="list the models on chain")
    one = commands.add_parser("model", help="show one model")
    one.add_argument("model", help="name or 0x hash")
    quote = commands.add_parser("quote", help="what a job costs now")
    quote.add_argument("model")
    quote.add_argument("--k", type=int, default=1, help="workers (1, or a quorum of 3 or 5)")
    quote.add_argument("--audited", action="store_true", help="one worker, audited at random")
    infer = commands.add_parser("infer", help="run a model on an input on chain and verify the result")
    infer.add_argument("model")
    infer.add_argument("--input", required=True, help=".npy, .json, or an image for the digit models")
    infer.add_argument("--k", type=int, default=1)
    infer.add_argument("--audited", action="store_true")
    infer.add_argument("--timeout", type=float, default=120.0, help="seconds to wait (default 120)")
    job = commands.add_parser("job", help="where a job stands")
    job.add_argument("id", type=int)
    worker = commands.add_parser("worker", help="a registered worker")
    worker.add_argument("key", help="the worker key, 0x hex")
    claim = commands.add_parser("claim", help="pay out earnings")
    claim.add_argument("account", nargs="?", help="whose (default: the signing account)")
    bond = commands.add_parser("bond", help="bond VTN as a worker operator (or add to the bond)")
    bond.add_argument("amount", type=Decimal, help="in VTN")
    register = commands.add_parser("register", help="register a worker key a node holds")
    register.add_argument("--node", required=True, help="WebSocket RPC of the node holding the key")
    register.add_argument("--models", nargs="+", required=True, help="names or hashes")
    register.add_argument("--capacity", type=int, default=8)
    register.add_argument("--key", help="which of the node's worker keys (default: its first)")
    return top


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(_plain(data), indent=2, default=str) if args.json else text)


def run(args: argparse.Namespace) -> int:
    keypair = None
    if args.suri:
        from substrateinterface import Keypair

        try:
            keypair = Keypair.create_from_uri(args.suri, ss58_format=42)
        except Exception as error:  # noqa: BLE001 - substrate-interface raises several kinds
            print(f"error: --suri is not a secret URI this client can read: {error}", file=sys.stderr)
            return EXIT_USAGE
    signed = {"infer", "claim", "bond", "register"}
    if args.command in signed and keypair is None:
        print(f"veritensor {args.command} signs a transaction: give --suri (or VERITENSOR_SURI)", file=sys.stderr)
        return EXIT_USAGE
    client = Client(args.url, keypair)

    if args.command == "models":
        models = client.models()
        emit(args, [asdict(model) | {"raw": None} for model in models], "\n".join(map(model_line, models)))
    elif args.command == "model":
        model = client.model(args.model)
        lines = [model_line(model), f"  {model.description}"]
        lines += [f"  output {spec.name} {spec.elem.chain_name}{list(spec.shape)}" for spec in model.outputs]
        emit(args, asdict(model), "\n".join(lines))
    elif args.command == "quote":
        price = client.quote(args.model, Terms(args.k, args.audited))
        emit(args, {"model": args.model, "k": args.k, "audited": args.audited, "price": price}, vtn(price))
    elif args.command == "infer":
        model = client.model(args.model)
        inputs = load_inputs(args.input, model)
        interactive = sys.stderr.isatty() and not args.json

        def progress(line: str) -> None:
            if interactive:
                print(f"\r{line}\033[K", end="", file=sys.stderr, flush=True)
            elif not args.json:
                print(line, file=sys.stderr, flush=True)

        result = client.infer(model, inputs, k=args.k, audited=args.audited, timeout=args.timeout, progress=progress)
        if interactive:
            print(file=sys.stderr)
        if args.json:
            print(json.dumps(result_json(result), indent=2))
        else:
            print_result(result)
        return EXIT_OK if result.verified else EXIT_UNVERIFIED
    elif args.command == "job":
        info = client.job(args.id)
        emit(args, asdict(info), "\n".join(f"{key}: {value}" for key, value in asdict(info).items() if value not in (None, [])))
    elif args.command == "worker":
        record = client.worker(args.key)
        if record is None:
            print(f"error: no worker {args.key}", file=sys.stderr)
            return EXIT_USAGE
        emit(args, record, json.dumps(record, indent=2, default=str))
    elif args.command == "claim":
        paid = client.claim(args.account)
        emit(args, {"paid": paid}, f"paid out {vtn(paid)}")
    elif args.command == "bond":
        active = client.bond(int(args.amount * UNITS))
        emit(args, {"active": active}, f"bonded: {vtn(active)} active")
    elif args.command == "register":
        key = client.register_worker(args.node, args.models, args.capacity, args.key)
        emit(args, {"worker": key}, f"registered worker {key}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except (InputError, UnknownModel, ModelUnavailable, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except JobTimeout as error:
        print(f"\ntimed out: {error}", file=sys.stderr)
        return EXIT_TIMEOUT
    except JobRefunded as error:
        print(f"\n{error}", file=sys.stderr)
        return EXIT_FAILED
    except NoNode as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_NO_NODE
    except VeritensorError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except (ConnectionError, WebSocketException) as error:
        print(f"\nerror: the connection to the node broke: {error}", file=sys.stderr)
        return EXIT_NO_NODE


if __name__ == "__main__":
    sys.exit(main())
