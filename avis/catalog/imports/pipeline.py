"""Reading and validating a trainee file, chunk by chunk, ahead of the database writer.

Parsing and validating are CPU work in Python and pandas; writing is mostly
waiting for the database. For a large file the first runs in a child process
so that both cores work: the child sends each chunk's validated rows and
rejections, the parent writes and commits them in order. A small file is
prepared in the parent, where starting a process would cost more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from avis.catalog.imports.reader import Chunk, TraineeFile
from avis.catalog.imports.validate import validate_chunk

DUPLICATE_REASON = "doublon d'une ligne précédente du fichier (même e-mail, même session)"

#: Files smaller than this are prepared in the importing process itself.
PARALLEL_MIN_BYTES = 8 << 20
#: Prepared chunks the child may be ahead of the writer (bounds memory).
QUEUE_DEPTH = 3

Rejection = tuple[int, list[str], str]


class HashSet:
    """A set of 64-bit hashes kept as one sorted numpy array: 8 bytes an entry.

    A Python set of a million ints costs some 60 MB and, handed to ``isin``, is
    copied into an array on every chunk; this answers a chunk's membership
    questions with one binary search.
    """

    def __init__(self) -> None:
        self._sorted = np.empty(0, dtype=np.uint64)

    def __len__(self) -> int:
        return len(self._sorted)

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        if not len(self._sorted):
            return np.zeros(len(hashes), dtype=bool)
        positions = np.searchsorted(self._sorted, hashes)
        positions[positions == len(self._sorted)] = 0
        return self._sorted[positions] == hashes

    def add(self, hashes: np.ndarray) -> None:
        hashes = np.unique(hashes.astype(np.uint64, copy=False))
        hashes = hashes[~self.contains(hashes)]
        # Merge into the sorted array in one pass: no re-sort of what is already there.
        self._sorted = np.insert(self._sorted, np.searchsorted(self._sorted, hashes), hashes)


@dataclass
class Prepared:
    #: data rows read in this chunk (good and rejected)
    rows_read: int
    #: validated rows, first occurrence of each (email, session) pair only
    rows: pd.DataFrame
    #: (line, raw cells, reason) of each refused row
    rejected: list[Rejection]
    #: the chunk as read, when asked for: to refuse more rows after a database check
    source: Chunk | None = None


class Preparer:
    """Validates chunks and refuses a repeated (email, session) pair, across the whole file.

    Pairs are remembered as 64-bit hashes; two different pairs sharing a hash is
    a one-in-10^7 event in a file of a million rows.
    """

    def __init__(self, trainee_file: TraineeFile, keep_source: bool = False) -> None:
        self.trainee_file = trainee_file
        self.keep_source = keep_source
        self.seen_pairs = HashSet()

    def prepare(self, chunk: Chunk) -> Prepared:
        validated = validate_chunk(chunk, self.trainee_file.header, self.trainee_file.format)
        rows = validated.rows
        rejected = validated.rejected
        if not rows.empty:
            hashes = pd.util.hash_pandas_object(
                rows[["email", "session_external_id"]], index=False).to_numpy()
            duplicate = pd.Series(hashes).duplicated(keep="first").to_numpy() | (
                self.seen_pairs.contains(hashes))
            self.seen_pairs.add(hashes[~duplicate])
            if duplicate.any():
                position = {line: i for i, line in enumerate(chunk.lines)}
                lines = rows["line"][duplicate].tolist()
                cells = chunk.cells([position[line] for line in lines])
                rejected = rejected + [
                    (line, row, DUPLICATE_REASON) for line, row in zip(lines, cells, strict=True)
                ]
                rows = rows[~duplicate]
        return Prepared(len(chunk), rows, rejected, chunk if self.keep_source else None)


def prepared_chunks(
    trainee_file: TraineeFile, chunk_size: int, progress: Callable[[int], None] | None,
    keep_source: bool = False,
) -> Iterator[Prepared]:
    """The file's chunks, validated and de-duplicated, in order (with the chunks as read
    when ``keep_source``), without the rows of erased addresses (refused)."""
    from avis.privacy.erasure import has_refused_addresses

    # The check needs the chunk as read (for the rejected rows' report), and costs a hash
    # per row: only when some address is refused at all.
    screen = has_refused_addresses()
    keep = keep_source or screen
    if trainee_file.size < PARALLEL_MIN_BYTES:
        preparer = Preparer(trainee_file, keep)
        chunks = (preparer.prepare(chunk) for chunk in trainee_file.chunks(chunk_size, progress))
    else:
        chunks = _from_child(trainee_file, chunk_size, progress, keep)
    for prepared in chunks:
        if screen:
            prepared = refuse_erased(prepared)
            if not keep_source:
                prepared.source = None
        yield prepared


def refuse_erased(prepared: Prepared) -> Prepared:
    """Move the rows whose address was erased (and not re-admitted) to the rejected ones:
    an import never brings an erased person back, nor lets them be emailed. One query for
    the chunk. Their cells are left out of the rejected rows' report (the line number
    and the reason stay): avis would otherwise write the erased identity into a file of
    its own again."""
    from avis.privacy.erasure import refusals

    rows = prepared.rows
    if rows.empty:
        return prepared
    reasons = refusals(rows["email"].tolist())
    refused = np.array([reason is not None for reason in reasons])
    if not refused.any():
        return prepared
    assert prepared.source is not None
    position = {line: i for i, line in enumerate(prepared.source.lines)}
    lines = rows["line"][refused].tolist()
    width = len(prepared.source.cells([position[lines[0]]])[0])
    cells = [[""] * width for _ in lines]
    prepared.rejected = prepared.rejected + list(zip(
        lines, cells, [r for r in reasons if r is not None], strict=True))
    prepared.rows = rows[~refused].reset_index(drop=True)
    return prepared


def _from_child(
    trainee_file: TraineeFile, chunk_size: int, progress: Callable[[int], None] | None,
    keep_source: bool,
) -> Iterator[Prepared]:
    context = multiprocessing.get_context("spawn")
    channel: Any = context.Queue(maxsize=QUEUE_DEPTH)
    child = context.Process(
        target=_prepare_in_child,
        args=(trainee_file, chunk_size, channel, os.getpid(), keep_source),
        name="avis-import-reader",
        daemon=True,
    )
    child.start()
    try:
        while True:
            try:
                kind, payload, read_bytes = channel.get(timeout=1)
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError("the file reader process stopped unexpectedly") from None
                continue
            if progress and read_bytes:
                progress(read_bytes)
            if kind == "end":
                return
            if kind == "error":
                raise payload
            yield payload
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=10)
        channel.close()


def _prepare_in_child(
    trainee_file: TraineeFile, chunk_size: int, channel: Any, parent_pid: int,
    keep_source: bool = False,
) -> None:
    read = 0

    def count(size: int) -> None:
        nonlocal read
        read += size

    def send(message: tuple[str, Any, int]) -> None:
        # The importer may have been killed: do not wait for it forever.
        while os.getppid() == parent_pid:
            try:
                channel.put(message, timeout=1)
                return
            except queue.Full:
                continue
        # Nobody will read what is still buffered: exit without flushing it, or the
        # queue's feeder thread would block this process on a full pipe for ever.
        channel.cancel_join_thread()
        raise SystemExit(1)

    try:
        preparer = Preparer(trainee_file, keep_source)
        for chunk in trainee_file.chunks(chunk_size, count):
            prepared = preparer.prepare(chunk)
            send(("chunk", prepared, read))
            read = 0
        send(("end", None, read))
    except Exception as exc:  # re-raised in the importing process
        send(("error", exc, 0))
