#!/usr/bin/env python3
"""Writes a copy of a chain spec whose genesis endows N more accounts, for measuring database
weights on a state of a chain's size rather than a development chain's few thousand keys.

    python3 scripts/large-state-spec.py <chain spec> <accounts> <output spec>

The spec must be a plain one (`genesis.runtimeGenesis.patch`), such as the one the load
benchmark writes. The accounts' keys are derived from their index (no one holds them), so the
same arguments give the same state. See docs/performance.md.
"""

import hashlib
import json
import sys

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
SS58_PREFIX = 42


def base58(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, digit = divmod(number, 58)
        digits = BASE58[digit] + digits
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + digits


def ss58(public_key: bytes) -> str:
    payload = bytes([SS58_PREFIX]) + public_key
    checksum = hashlib.blake2b(b"SS58PRE" + payload, digest_size=64).digest()[:2]
    return base58(payload + checksum)


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    source, count, output = sys.argv[1], sys.argv[2], sys.argv[3]
    if not count.isdigit() or int(count) == 0:
        print(f"error: <accounts> must be a positive whole number, not {count!r}", file=sys.stderr)
        return 2
    with open(source, encoding="utf-8") as file:
        spec = json.load(file)
    try:
        balances = spec["genesis"]["runtimeGenesis"]["patch"]["balances"]["balances"]
    except (KeyError, TypeError):
        print(f"error: {source} is not a plain spec with a balances patch", file=sys.stderr)
        return 1
    # Well above the existential deposit, so that every account is kept.
    amount = 10**15
    for index in range(int(count)):
        key = hashlib.blake2b(b"veritensor-state-" + index.to_bytes(8, "little"), digest_size=32)
        balances.append([ss58(key.digest()), amount])
        if (index + 1) % 100_000 == 0:
            print(f"  {index + 1} of {count} accounts", file=sys.stderr)
    with open(output, "w", encoding="utf-8") as file:
        json.dump(spec, file)
    print(f"wrote {output}: {len(balances)} endowed accounts", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
