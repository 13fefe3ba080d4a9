"""The Merkle tree over the ledger that public checkpoints sign, in the manner of Certificate Transparency
(RFC 9162, section 2.1): leaf hashes are SHA-256(0x00 || leaf), interior nodes SHA-256(0x01 || left || right),
and a tree of n leaves splits at the largest power of two below n.

Standard library only: `python -m audit.verify_receipt` imports this module without Django.

The server keeps the hash of every complete, aligned subtree ("blocks": level k, index i covers leaves
[i * 2^k, (i + 1) * 2^k)), so the root of any size and any proof is a handful of stored hashes: `*_blocks()`
say which, `*_from()` compute the answer from them.
"""

import hashlib
import hmac

Block = tuple[int, int]  # (level, index)


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two below n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- what the server computes, from stored blocks -------------------------------------------------------------

def range_blocks(start: int, end: int) -> list[Block]:
    """The aligned complete subtrees that make up leaves [start, end) as the tree's own recursion splits them."""
    size = end - start
    if size <= 0:
        raise ValueError("empty range")
    if size & (size - 1) == 0 and start % size == 0:
        return [(size.bit_length() - 1, start // size)]
    k = _split(size)
    return range_blocks(start, start + k) + range_blocks(start + k, end)


def range_hash(start: int, end: int, blocks: dict[Block, bytes]) -> bytes:
    """MTH(D[start:end]) from the stored blocks (those range_blocks names)."""
    size = end - start
    if size & (size - 1) == 0 and start % size == 0:
        return blocks[(size.bit_length() - 1, start // size)]
    k = _split(size)
    return node_hash(range_hash(start, start + k, blocks), range_hash(start + k, end, blocks))


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The subtrees whose hashes form the audit path of leaf `index` in a tree of `size` leaves, leaf first."""
    if not 0 <= index < size:
        raise ValueError("leaf outside the tree")
    start, end, path = 0, size, []
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
    return list(reversed(path))


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The subtrees whose hashes prove a tree of `old_size` leaves is a prefix of one of `new_size` (RFC 9162
    2.1.4.1), in the proof's order."""
    if not 0 < old_size <= new_size:
        raise ValueError("sizes must satisfy 0 < old <= new")
    if old_size == new_size:
        return []

    def sub(m: int, start: int, end: int, whole: bool) -> list[tuple[int, int]]:
        n = end - start
        if m == n:
            return [] if whole else [(start, end)]
        k = _split(n)
        if m <= k:
            return sub(m, start, start + k, whole) + [(start + k, end)]
        return sub(m - k, start + k, end, False) + [(start, start + k)]

    return sub(old_size, 0, new_size, True)


def blocks_for(ranges: list[tuple[int, int]]) -> set[Block]:
    return {block for start, end in ranges for block in range_blocks(start, end)}


def new_blocks(old_size: int, new_size: int) -> list[Block]:
    """Blocks above the leaves completed by growing the tree from old_size to new_size leaves, lowest first."""
    found = []
    level = 1
    while (1 << level) <= new_size:
        width = 1 << level
        found += [(level, i) for i in range(old_size // width, new_size // width)]
        level += 1
    return found


# --- what anyone can check, with nothing but the proof ----------------------------------------------------------

def root_from_inclusion(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes:
    """The root implied by an audit path (RFC 9162 2.1.3.2); raises ValueError on a path of the wrong shape."""
    if not 0 <= index < size:
        raise ValueError("leaf outside the tree")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ValueError("audit path too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("audit path too short")
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    try:
        return hmac.compare_digest(root_from_inclusion(leaf, index, size, path), root)
    except ValueError:
        return False


def verify_consistency(old_size: int, new_size: int, proof: list[bytes], old_root: bytes, new_root: bytes) -> bool:
    """RFC 9162 2.1.4.2: does the tree of new_size leaves with new_root extend the one of old_size with old_root?"""
    if not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the proof's first element
        proof = [old_root, *proof]
    if not proof:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)
