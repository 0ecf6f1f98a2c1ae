"""``constitutive export MODEL --param ... --input deformations.h5 --output tangents.h5``.

Also ``constitutive export MODEL --param ... --abaqus-card material.inp`` for an Abaqus
``*HYPERELASTIC`` material card.
"""

from __future__ import annotations

import os

import numpy as np

from .common import add_model_arguments, check_outputs, make_model, split_pairs
from .progress import Progress

_DATASETS = ("F", "E")
#: the choices of constitutive.interfaces.export (written out so that --help needs no torch;
#: tests/test_packaging.py checks that they match)
NOTATIONS = ("mandel", "voigt", "abaqus", "tensor")
TANGENTS = ("dS/dE", "dP/dF", "spatial", "abaqus")
EXPORT_STRESS_MEASURES = ("pk2", "pk1", "cauchy", "kirchhoff")


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="export stress and tangents (HDF5/npz) or an Abaqus material card")
    add_model_arguments(p)
    p.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                   help="non-numeric model option, e.g. volumetric=J-1 (repeatable)")
    p.add_argument("--input", "-i", help="deformations file (.h5/.hdf5/.npz/.npy) with dataset F (n,3,3) "
                   "or E (n,3,3 or Mandel n,6)")
    p.add_argument("--dataset", help="dataset name in --input (default: F, else E)")
    p.add_argument("--output", "-o", help="output file (.h5, .hdf5 or .npz)")
    p.add_argument("--notation", choices=list(NOTATIONS), default=None,
                   help="default: abaqus for --tangent abaqus, tensor for dP/dF, mandel otherwise")
    p.add_argument("--tangent", choices=list(TANGENTS), default="dS/dE")
    p.add_argument("--stress", choices=list(EXPORT_STRESS_MEASURES), default=None,
                   help="stress measure (default: conjugate to the tangent)")
    p.add_argument("--units", default=None, help="free-text units stored in the file, e.g. 'MPa'")
    p.add_argument("--abaqus-card", metavar="PATH", help="write an Abaqus *MATERIAL/*HYPERELASTIC card")
    p.add_argument("--card-name", default="MATERIAL", help="material name in the Abaqus card")
    p.add_argument("--card-units", default=None, metavar="UNIT",
                   help="stress unit of the Abaqus card (e.g. MPa); converts from the fit's unit (--fit) "
                        "or --param-units")
    p.add_argument("--param-units", default=None, metavar="UNIT",
                   help="stress unit of the --param values (recorded; needed to convert with --card-units)")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.set_defaults(func=run)


def read_deformations(path: str, dataset: str | None = None) -> tuple[np.ndarray, str]:
    """Read and validate deformations: returns ``(array, kind)`` with kind ``"F"`` or ``"E"``.

    Checks: the file and dataset exist, shape (n, 3, 3) (or (n, 6) Mandel for E), finite values,
    ``det F > 0`` for F. Errors name the file and the dataset.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"--input: no such file {path!r}")
    ext = os.path.splitext(path)[1].lower()
    if ext in (".h5", ".hdf5"):
        import h5py

        with h5py.File(path, "r") as f:
            names = list(f.keys())
            name = dataset or next((d for d in _DATASETS if d in names), None)
            if name not in names:
                raise ValueError(f"--input {path}: no dataset {name or 'F or E'!r}; found {names}")
            arr = np.asarray(f[name][()])
    elif ext == ".npz":
        with np.load(path, allow_pickle=False) as z:
            names = list(z.files)
            name = dataset or next((d for d in _DATASETS if d in names), None)
            if name not in names:
                raise ValueError(f"--input {path}: no array {name or 'F or E'!r}; found {names}")
            arr = z[name]
    elif ext == ".npy":
        arr, name = np.load(path, allow_pickle=False), dataset or "F"
    else:
        raise ValueError(f"--input: expected .h5, .hdf5, .npz or .npy, got {path!r}")
    kind = "E" if name.upper().startswith("E") else "F"
    return validate_deformations(arr, kind, f"{path}:{name}"), kind


def validate_deformations(arr, kind: str, where: str) -> np.ndarray:
    """Shape, dtype, finiteness and ``det F > 0`` checks; returns a float64 array."""
    arr = np.asarray(arr)
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{where}: expected numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    ok = arr.ndim == 3 and arr.shape[1:] == (3, 3) or (kind == "E" and arr.ndim == 2 and arr.shape[1] == 6)
    if not ok or arr.shape[0] == 0:
        want = "(n, 3, 3)" + (" or (n, 6)" if kind == "E" else "")
        raise ValueError(f"{where}: expected shape {want} with n >= 1, got {arr.shape}")
    bad = ~np.isfinite(arr).reshape(arr.shape[0], -1).all(axis=1)
    if bad.any():
        raise ValueError(f"{where}: {int(bad.sum())} point(s) with NaN/inf "
                         f"(first at index {int(np.argmax(bad))})")
    if kind == "F":
        det = np.linalg.det(arr)
        if (det <= 0).any():
            i = int(np.argmax(det <= 0))
            raise ValueError(f"{where}: det F must be > 0; {int((det <= 0).sum())} point(s) violate it "
                             f"(first at index {i}, det F = {det[i]:.4g})")
    return arr


def run(args) -> int:
    from constitutive.files import write_text_atomic
    from constitutive.interfaces.abaqus_cards import abaqus_material_card
    from constitutive.interfaces.export import export_tangents, read_tangents

    options = dict(split_pairs(args.option, "--option"))
    check_outputs([(args.abaqus_card, "--abaqus-card", (".inp",)),
                   (args.output, "--output", (".h5", ".hdf5", ".npz"))], args.force)
    mat = make_model(args.model, args.param, args.fit, args.bulk_modulus, **options)
    if args.param_units is not None:
        from constitutive.units import normalise_units

        mat.stress_unit = normalise_units(args.param_units)
    if args.abaqus_card:
        text = abaqus_material_card(mat, name=args.card_name, units=args.card_units)
        write_text_atomic(args.abaqus_card, text)
        print(f"wrote {args.abaqus_card}")
        if not args.input:
            return 0
    if not (args.input and args.output):
        raise ValueError("--input and --output are required (or --abaqus-card PATH)")
    arr, kind = read_deformations(args.input, args.dataset)

    with Progress(arr.shape[0], f"exporting to {args.output}", "point") as bar:
        export_tangents(args.output, mat, arr, kind=kind, stress=args.stress, tangent=args.tangent,
                        notation=args.notation, units=args.units,
                        progress=lambda done, total: bar.update(done - bar.done))
    a = read_tangents(args.output).attrs
    print(f"wrote {args.output}: {arr.shape[0]} point(s), {a['stress_measure']} stress and "
          f"{a['tangent_kind']} tangent, notation {a['notation']} (order {a['ordering']})")
    return 0
