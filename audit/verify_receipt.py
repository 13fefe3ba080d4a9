"""Checks a connect ledger receipt, and the published checkpoints, without trusting the server.

    python -m audit.verify_receipt RECEIPT.json [--public-key KEY] [--server URL]
    python -m audit.verify_receipt --server URL [--public-key KEY]        (the checkpoints alone)

KEY is the Ed25519 public key the agency publishes (base64, on its /transparency/ page). Without --server the
receipt is checked as it stands: its checkpoint is signed by that key and the entry is in it. With --server, also:
every published checkpoint is signed and extends the one before (none was rewritten), the receipt's checkpoint is
among them, and the entry is still in the ledger, unchanged, in the latest one (or was removed by the retention
purge, its published leaf kept). Exit status 0 when everything checks, 1 otherwise.

Needs Python 3.10+ and the `cryptography` package; this file, audit/merkle.py and audit/receipt_format.py.
"""

import argparse
import base64
import hashlib
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit import merkle
from audit.receipt_format import RECEIPT_FORMAT, leaf_bytes, parse_statement


class Failed(Exception):
    """A check that did not pass: its message says which, in words."""


def _key(b64: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(b64, validate=True))
    except ValueError as exc:
        raise Failed(f"the public key is not an Ed25519 key in base64 ({exc})") from None


def key_id(b64: str) -> str:
    return hashlib.sha256(base64.b64decode(b64)).hexdigest()[:16]


def checked_statement(checkpoint: dict, key: Ed25519PublicKey) -> dict:
    """The statement's fields once its signature verifies under `key`."""
    try:
        key.verify(base64.b64decode(checkpoint["signature"]), checkpoint["statement"].encode())
    except (InvalidSignature, ValueError, KeyError):
        raise Failed("a checkpoint's signature does not verify with the public key") from None
    try:
        return parse_statement(checkpoint["statement"])
    except ValueError as exc:
        raise Failed(str(exc)) from None


def _hashes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


def check_receipt(receipt: dict, key: Ed25519PublicKey) -> tuple[dict, bytes]:
    """The receipt's checkpoint fields and the entry's leaf hash, once the entry is shown to be in it."""
    if receipt.get("format") != RECEIPT_FORMAT:
        raise Failed(f"this is not a {RECEIPT_FORMAT} receipt")
    statement = checked_statement(receipt["checkpoint"], key)
    entry = receipt["entry"]
    leaf = merkle.leaf_hash(leaf_bytes(entry))
    index = entry["seq"] - statement["first-seq"]
    if index != receipt["leaf_index"] or not merkle.verify_inclusion(
            leaf, index, statement["tree-size"], _hashes(receipt["inclusion"]), bytes.fromhex(statement["root"])):
        raise Failed(f"entry {entry['seq']} is not in the checkpoint its receipt names")
    return statement, leaf


class Server:
    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def get(self, path: str, **query) -> dict:
        url = f"{self.url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            raise Failed(f"{url} answered {exc.code}: {exc.read()[:300].decode(errors='replace')}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise Failed(f"could not read {url}: {exc}") from None


def check_published(server: Server, key: Ed25519PublicKey) -> list[dict]:
    """Every published checkpoint's fields, oldest first, once each is signed and extends the one before."""
    published = server.get("/transparency/checkpoints.json")
    statements = [checked_statement(c, key) for c in published["checkpoints"]]
    if not statements:
        raise Failed("the server has published no checkpoint yet")
    for old, new in zip(statements, statements[1:], strict=False):
        if new["first-seq"] != old["first-seq"] or new["tree-size"] <= old["tree-size"]:
            raise Failed(f"the checkpoint of {new['date']} does not continue the one of {old['date']}")
        proof = server.get("/transparency/ledger/consistency/", **{"from": old["tree-size"], "to": new["tree-size"]})
        if not merkle.verify_consistency(old["tree-size"], new["tree-size"], _hashes(proof["proof"]),
                                         bytes.fromhex(old["root"]), bytes.fromhex(new["root"])):
            raise Failed(f"the checkpoint of {new['date']} ({new['tree-size']} entries) does not extend the one of "
                         f"{old['date']} ({old['tree-size']} entries): the ledger was rewritten in between")
    return statements


def check_still_there(server: Server, receipt_statement: dict, leaf: bytes, seq: int, statements: list[dict]) -> str:
    mine = next((s for s in statements if s["tree-size"] == receipt_statement["tree-size"]), None)
    if mine is None or mine["root"] != receipt_statement["root"]:
        raise Failed("the receipt's checkpoint is not among those the server publishes")
    newest = statements[-1]
    now = server.get(f"/transparency/ledger/proof/{seq}/", size=newest["tree-size"])
    if now["status"] in ("changed", "missing") or bytes.fromhex(now["leaf_hash"]) != leaf:
        raise Failed(f"entry {seq} is no longer in the ledger as your receipt records it "
                     f"(the server says: {now['status']})")
    if not merkle.verify_inclusion(leaf, now["leaf_index"], newest["tree-size"], _hashes(now["inclusion"]),
                                   bytes.fromhex(newest["root"])):
        raise Failed(f"entry {seq} is not in the latest checkpoint ({newest['date']})")
    if now["status"] == "purged":
        return f"removed from the ledger by the retention purge; still in the checkpoint of {newest['date']}"
    return f"still in the ledger, unchanged, in the latest checkpoint ({newest['date']})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit.verify_receipt", description=__doc__.split("\n\n")[0])
    parser.add_argument("receipt", nargs="?", help="a receipt downloaded from the owner's history")
    parser.add_argument("--public-key", help="the agency's published key (base64); else the receipt's own")
    parser.add_argument("--server", help="the agency's connect address, to check the receipt is still good")
    args = parser.parse_args(argv)
    if not args.receipt and not args.server:
        parser.error("give a receipt, --server, or both")
    try:
        receipt = None
        if args.receipt:
            with open(args.receipt, encoding="utf-8") as file:
                receipt = json.load(file)
        key_b64 = args.public_key or (receipt or {}).get("public_key")
        if not key_b64:
            raise Failed("give the agency's public key with --public-key")
        if receipt and args.public_key and receipt.get("public_key") != args.public_key:
            print("note: the receipt names another key; checking with the one you gave")
        key = _key(key_b64)
        if not args.public_key:
            print(f"warning: checking with the receipt's own key {key_id(key_b64)}; compare it with the key the "
                  "agency publishes, or pass --public-key")
        if receipt:
            statement, leaf = check_receipt(receipt, key)
            print(f"ok: entry {receipt['entry']['seq']} is in the checkpoint of {statement['date']} "
                  f"({statement['tree-size']} entries), signed by key {key_id(key_b64)}")
        if args.server:
            server = Server(args.server)
            statements = check_published(server, key)
            print(f"ok: {len(statements)} published checkpoints are signed and each extends the one before")
            if receipt:
                print("ok: entry", receipt["entry"]["seq"], "is",
                      check_still_there(server, statement, leaf, receipt["entry"]["seq"], statements))
    except Failed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"FAILED: the receipt cannot be read ({exc.__class__.__name__}: {exc})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
