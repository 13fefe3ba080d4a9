"""The Merkle tree behind public checkpoints (audit/merkle.py) against a plain recursive one written from RFC 9162:
every root, audit path and consistency proof for small trees, and that a wrong proof never verifies."""

import hashlib

import pytest

from audit import merkle


def naive_root(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + naive_root(leaves[:k]) + naive_root(leaves[k:])).digest()


def tree(n: int) -> tuple[list[bytes], dict]:
    """n leaf hashes and every stored block the server would hold for them."""
    leaves = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(n)]
    blocks = {(0, i): leaf for i, leaf in enumerate(leaves)}
    for level, i in merkle.new_blocks(0, n):
        blocks[(level, i)] = merkle.node_hash(blocks[(level - 1, 2 * i)], blocks[(level - 1, 2 * i + 1)])
    return leaves, blocks


def path(ranges, blocks) -> list[bytes]:
    return [merkle.range_hash(start, end, blocks) for start, end in ranges]


@pytest.mark.parametrize("n", range(1, 34))
def test_roots_and_audit_paths_match_the_plain_tree(n):
    leaves, blocks = tree(n)
    root = merkle.range_hash(0, n, blocks)
    assert root == naive_root(leaves)
    for index in range(n):
        proof = path(merkle.inclusion_ranges(index, n), blocks)
        assert merkle.verify_inclusion(leaves[index], index, n, proof, root)
        assert not merkle.verify_inclusion(leaves[(index + 1) % n], index, n, proof, root) or n == 1
        if proof:
            assert not merkle.verify_inclusion(leaves[index], index, n, proof[:-1], root)


def test_growing_the_tree_in_batches_stores_the_same_blocks_as_at_once():
    _, at_once = tree(45)
    leaves = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(45)]
    grown = {}
    for old, new in ((0, 7), (7, 8), (8, 30), (30, 45)):
        grown.update({(0, i): leaves[i] for i in range(old, new)})
        for level, i in merkle.new_blocks(old, new):
            assert (level, i) not in grown, "a block is made twice"
            grown[(level, i)] = merkle.node_hash(grown[(level - 1, 2 * i)], grown[(level - 1, 2 * i + 1)])
    assert grown == at_once


@pytest.mark.parametrize("new", range(1, 26))
def test_consistency_proofs_verify_and_a_rewritten_tree_fails(new):
    leaves, blocks = tree(new)
    new_root = merkle.range_hash(0, new, blocks)
    for old in range(1, new + 1):
        old_root = naive_root(leaves[:old])
        proof = path(merkle.consistency_ranges(old, new), blocks)
        assert merkle.verify_consistency(old, new, proof, old_root, new_root), (old, new)
        rewritten = leaves[:]
        rewritten[old - 1] = merkle.leaf_hash(b"rewritten")
        assert not merkle.verify_consistency(old, new, proof, naive_root(rewritten[:old]), new_root)
        if old < new:
            assert not merkle.verify_consistency(old, new, proof, old_root, naive_root(rewritten))


def test_the_blocks_a_proof_needs_are_few():
    """A proof at a million entries reads a few dozen stored hashes, not the tree."""
    ranges = merkle.inclusion_ranges(654_321, 1_000_003) + merkle.consistency_ranges(999_000, 1_000_003)
    assert len(merkle.blocks_for(ranges)) < 100
