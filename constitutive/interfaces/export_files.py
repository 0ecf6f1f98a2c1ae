"""Files of the tangent export: atomic HDF5 and ``.npz`` writers, rows streamed chunk by chunk.

``write_tangent_file(path, data, attrs, fill=(shapes, chunks, n))`` writes ``data`` and the
attributes, and datasets of per-row ``shapes`` that ``chunks(target)`` fills; in HDF5 files they
are contiguous, allocated at creation, and their rows go to their byte offsets with
``os.pwrite`` (one copy of every byte, memory at one chunk). :func:`stream_rows` is the usual
``chunks``: it evaluates chunk by chunk, the next chunk in a second thread while the last one is
written.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from constitutive.domain import DomainError
from constitutive.files import atomic_write


def _run_chunk(run, F: np.ndarray, i0: int, i1: int, outs: list) -> None:
    try:
        run(F[i0:i1], outs)
    except DomainError as exc:
        raise DomainError(f"{exc} (in points {i0}..{i1 - 1} of the export; the index counts "
                          f"from {i0})") from None


def stream_rows(run, F: np.ndarray, shapes: dict, target: dict, chunk_size: int, progress) -> None:
    """Evaluate ``run`` chunk by chunk into ``target`` (arrays, or HDF5 datasets of n rows).

    Arrays are filled in place. For datasets two buffers alternate: the next chunk is evaluated
    in a second thread (the compiled kernel releases the GIL) while the last one is written.
    """
    n = F.shape[0]
    bounds = [(i, min(n, i + chunk_size)) for i in range(0, n, chunk_size)]
    if all(isinstance(target[k], np.ndarray) for k in shapes):
        for i0, i1 in bounds:
            _run_chunk(run, F, i0, i1, [target[k][i0:i1] for k in shapes])
            if progress is not None:
                progress(i1, n)
        return
    rows = bounds[0][1] - bounds[0][0]
    bufs = [{k: np.empty((rows, *s)) for k, s in shapes.items()} for _ in range(2)]

    def compute(c: int) -> list[np.ndarray]:
        i0, i1 = bounds[c]
        outs = [bufs[c % 2][k][: i1 - i0] for k in shapes]
        _run_chunk(run, F, i0, i1, outs)
        return outs

    with ThreadPoolExecutor(1, thread_name_prefix="constitutive-export") as pool:
        pending = pool.submit(compute, 0)
        for c, (i0, i1) in enumerate(bounds):
            outs = pending.result()
            if c + 1 < len(bounds):
                pending = pool.submit(compute, c + 1)
            for k, o in zip(shapes, outs, strict=True):
                target[k][i0:i1] = o
            if progress is not None:
                progress(i1, n)


def check_suffix(path) -> str:
    """The lower-case suffix of ``path`` (``.h5``, ``.hdf5``, ``.npz``); ``ValueError`` otherwise."""
    ext = os.path.splitext(str(path))[1].lower()
    if ext not in (".h5", ".hdf5", ".npz"):
        raise ValueError(f"path: expected a .h5, .hdf5 or .npz file name, got {str(path)!r}")
    return ext


def _descriptions(attrs: dict) -> dict:
    """Per-dataset descriptions (HDF5 dataset attribute ``description``)."""
    vec = attrs.get("notation") != "tensor"
    where = f"components {attrs.get('ordering')}" if vec else "full tensor components"
    return {
        "F": "deformation gradient F[n, i, j] = F_ij (dimensionless)",
        "stress": f"{attrs.get('stress_measure')} stress, {where}, "
                  f"shear factor {attrs.get('stress_shear_factor')}",
        "tangent": f"{attrs.get('tangent_kind')} tangent: {attrs.get('tangent_definition')}; "
                   + (f"rows = stress {where}, columns = strain components (shear factor "
                      f"{attrs.get('strain_shear_factor')})" if vec else "tangent[n, i, j, k, l]"),
        "energy": "strain energy per unit reference volume W",
    }


class _RowWriter:
    """``writer[i0:i1] = rows``: rows of a contiguous float64 dataset at byte ``offset`` of the
    open file ``fd``, written with ``os.pwrite`` (no copy through the HDF5 library)."""

    def __init__(self, fd: int, offset: int, row_bytes: int):
        self.fd, self.offset, self.row_bytes = fd, offset, row_bytes

    def __setitem__(self, rows: slice, a: np.ndarray) -> None:
        buf = memoryview(np.ascontiguousarray(a, dtype="<f8")).cast("B")
        pos = self.offset + rows.start * self.row_bytes
        while len(buf):
            k = os.pwrite(self.fd, buf, pos)
            buf, pos = buf[k:], pos + k


def _write_hdf5(tmp: str, data: dict, attrs: dict, fill=None) -> None:
    """HDF5 file of ``data`` and, with ``fill = (shapes, chunks, n)``, n-row datasets of per-row
    ``shapes`` filled chunk by chunk: allocated at creation (contiguous, little-endian float64,
    no fill values), their rows then written at their file offsets, so that memory stays at
    one chunk and the bytes go to the file once."""
    import h5py

    desc = _descriptions(attrs)
    shapes, chunks, n = fill if fill is not None else ({}, None, 0)
    with h5py.File(tmp, "w-") as f:
        for k, v in attrs.items():
            f.attrs[k] = v
        for k, v in data.items():
            f.create_dataset(k, data=v)
        offsets = {}
        for k, s in shapes.items():
            dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
            dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
            offsets[k] = f.create_dataset(k, shape=(n, *s), dtype="<f8", dcpl=dcpl).id.get_offset()
        for k in f:  # metadata first: attributes added after the data cost a rewrite at close
            if k in desc:
                f[k].attrs["description"] = desc[k]
        if chunks is not None and (None in offsets.values() or not hasattr(os, "pwrite")):
            chunks({k: f[k] for k in shapes})  # through the library
            return
    if chunks is not None:
        fd = os.open(tmp, os.O_WRONLY)
        try:
            row_bytes = {k: 8 * int(np.prod(s, dtype=np.int64)) for k, s in shapes.items()}
            chunks({k: _RowWriter(fd, offsets[k], row_bytes[k]) for k in shapes})
        finally:
            os.close(fd)


def _write_npz(tmp: str, data: dict, attrs: dict, fill=None) -> None:
    if fill is not None:
        shapes, chunks, n = fill
        extra = {k: np.empty((n, *s)) for k, s in shapes.items()}
        chunks(extra)
        data = {**data, **extra}
    with open(tmp, "xb") as fh:
        np.savez(fh, attrs=np.array(json.dumps(attrs)), **data)


def write_tangent_file(path, data: dict, attrs: dict, fill=None) -> None:
    """Write arrays and attributes atomically (temporary file in the same directory, os.replace).

    ``fill = (shapes, chunks, n)`` adds datasets of ``n`` rows with per-row ``shapes``
    (``{name: shape}``), filled by ``chunks(target)`` (``target[name][i0:i1] = ...``); an error
    there leaves no file behind and the previous one, if any, untouched.
    """
    ext = check_suffix(path)
    atomic_write(path, lambda tmp: (_write_npz if ext == ".npz" else _write_hdf5)(tmp, data, attrs, fill),
                 fresh=True)
