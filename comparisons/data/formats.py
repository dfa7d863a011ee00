"""File formats that carry MNIST: IDX (plain or gzipped), the CSV layout, and dlparity's own .npz cache.

Every reader raises ``FormatError`` with a one-line reason ("bad IDX magic number 0x00000000 ...",
"truncated gzip stream", ...) instead of returning damaged data.
"""

from __future__ import annotations

import os
import struct
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from comparisons.progress import Progress

IDX_UBYTE = 0x08  # IDX type code of unsigned bytes, the only one MNIST uses
CHUNK = 1 << 20  # bytes read or decoded between two progress updates
CSV_COLUMNS = 1 + 28 * 28  # label, then the 784 pixels row by row
CSV_CHUNK = 8 << 20  # bytes of CSV text parsed at once


class FormatError(ValueError):
    """A file that is not what it should be (corrupt, truncated, wrong layout); the message says why."""


def parse_idx(data: bytes, *, ndim: int) -> np.ndarray:
    """Decode an IDX file of unsigned bytes.

    Layout (LeCun's MNIST page): a 4-byte magic number ``0x0000 TT DD`` (TT = 0x08 for unsigned bytes,
    DD = number of dimensions), DD big-endian uint32 sizes, then the values in C order.

    Args:
        data: the whole file, already decompressed.
        ndim: the number of dimensions expected (3 for images, 1 for labels).

    Returns:
        A read-only uint8 array of the stored shape, e.g. (60000, 28, 28).

    Raises:
        FormatError: bad magic number, or a length that does not match the header's sizes.
    """
    if len(data) < 4:
        raise FormatError(f"{len(data)} bytes: too short for an IDX header")
    magic = int.from_bytes(data[:4], "big")
    expected_magic = (IDX_UBYTE << 8) | ndim
    if magic != expected_magic:
        raise FormatError(f"bad IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
                          f"(unsigned bytes, {ndim} dimension{'s' if ndim > 1 else ''})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise FormatError(f"truncated IDX header: {len(data)} bytes, the header alone needs {header}")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    need = header + int(np.prod(dims, dtype=np.int64))
    if len(data) != need:
        kind = "truncated" if len(data) < need else "trailing bytes"
        raise FormatError(f"wrong length ({kind}): {len(data)} bytes, the header's sizes {dims} need {need}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def gunzip(chunks: Iterable[bytes]) -> bytes:
    """Decompress a gzip stream given as byte chunks; a cut or damaged stream raises FormatError."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # 16+: expect the gzip header and trailer
    parts = []
    try:
        for chunk in chunks:
            parts.append(inflater.decompress(chunk))
        parts.append(inflater.flush())
    except zlib.error as exc:
        raise FormatError(f"unreadable gzip stream: {exc}") from None
    if not inflater.eof:
        raise FormatError("truncated gzip stream (ended before the gzip trailer)")
    return b"".join(parts)


def read_file(path: Path, *, bar: Progress | None = None) -> bytes:
    """Read a file, decompressing it when its name ends in ``.gz``; ``bar`` counts the bytes read."""

    def chunks() -> Iterable[bytes]:
        with open(path, "rb") as f:
            while block := f.read(CHUNK):
                if bar is not None:
                    bar.update(len(block))
                yield block

    if path.name.endswith(".gz"):
        return gunzip(chunks())
    return b"".join(chunks())


def _csv_chunks(body: bytes) -> Iterable[bytes]:
    """Cut CSV text into pieces of about CSV_CHUNK bytes that end on a line end."""
    start = 0
    while start < len(body):
        end = body.find(b"\n", min(start + CSV_CHUNK, len(body)) - 1)
        end = len(body) if end < 0 else end + 1
        yield body[start:end]
        start = end


def decode_csv(data: bytes, *, bar: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Decode MNIST written as CSV: a header line starting with ``label``, then one image per line,
    the label first and the 784 pixel values (0..255) row by row.

    Returns:
        (images, labels): uint8 arrays of shapes (N, 28, 28) and (N,).

    Raises:
        FormatError: a missing header, a non-integer field, a ragged row or a value outside 0..255.
    """
    header, _, body = data.partition(b"\n")
    names = header.strip().split(b",")
    if names[0].strip(b'"') != b"label" or len(names) != CSV_COLUMNS:
        raise FormatError(f"unexpected CSV header: {len(names)} columns starting {names[0][:20]!r}, "
                          f"expected {CSV_COLUMNS} starting 'label'")
    if bar is not None:
        bar.update(len(header) + 1)
    parts = []
    for piece in _csv_chunks(body):
        text = piece.replace(b"\r", b"").replace(b"\n", b",").rstrip(b",")
        if not text:
            continue
        try:
            values = np.fromstring(text, dtype=np.int64, sep=",")  # text mode: fast and strict
        except ValueError as exc:
            raise FormatError(f"unreadable CSV data: {exc}") from None
        if values.size % CSV_COLUMNS:
            raise FormatError(f"ragged CSV: {values.size} values is not a whole number of "
                              f"{CSV_COLUMNS}-column rows")
        parts.append(values.reshape(-1, CSV_COLUMNS))  # (rows, label + 784 pixels)
        if bar is not None:
            bar.update(len(piece))
    table = np.concatenate(parts) if parts else np.zeros((0, CSV_COLUMNS), np.int64)
    if table.size and (table.min() < 0 or table.max() > 255):
        raise FormatError(f"CSV values outside 0..255: min {table.min()}, max {table.max()}")
    images = table[:, 1:].astype(np.uint8).reshape(-1, 28, 28)  # (N, 784) -> (N, 28, 28)
    return images, table[:, 0].astype(np.uint8)


def read_npz(path: Path, keys: Iterable[str]) -> dict[str, np.ndarray]:
    """Read the named arrays of an .npz file (no pickles); anything unreadable raises FormatError."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in keys if k not in npz.files]
            if missing:
                raise FormatError(f"npz lacks the arrays {missing} (has {sorted(npz.files)})")
            return {k: npz[k] for k in keys}
    except FormatError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, EOFError, ValueError, OSError, zlib.error, ...
        raise FormatError(f"unreadable npz: {type(exc).__name__}: {exc}") from None


def write_npz_atomic(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write a compressed .npz so that ``path`` is either the old file or the complete new one.

    The arrays go to a temporary file in the same directory, which is flushed to disk and then
    renamed over ``path`` (``os.replace`` is atomic within one file system). On any error the
    temporary file is removed and the error propagates.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
