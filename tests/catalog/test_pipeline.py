"""The compact hash set that remembers a million (email, session) pairs in 8 MB."""

from __future__ import annotations

import numpy as np

from avis.catalog.imports.pipeline import HashSet


def test_hash_set_agrees_with_a_python_set():
    rng = np.random.default_rng(0)
    hashes, reference = HashSet(), set()
    for _ in range(20):
        batch = rng.integers(0, 2**64 - 1, 500, dtype=np.uint64)
        batch[:50] = batch[50:100]  # repeats inside a batch
        if reference:
            batch[100:150] = np.array(sorted(reference)[:50], dtype=np.uint64)  # and across
        expected = np.array([int(h) in reference for h in batch])

        assert (hashes.contains(batch) == expected).all()

        hashes.add(batch)
        reference.update(int(h) for h in batch)
        assert len(hashes) == len(reference)


def test_empty_hash_set_contains_nothing():
    assert not HashSet().contains(np.array([0, 2**64 - 1], dtype=np.uint64)).any()


def test_extremes():
    hashes = HashSet()
    hashes.add(np.array([2**64 - 1, 0], dtype=np.uint64))

    found = hashes.contains(np.array([0, 1, 2**64 - 2, 2**64 - 1], dtype=np.uint64))

    assert found.tolist() == [True, False, False, True]
