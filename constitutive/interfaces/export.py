"""Tangent export: stress and tangent at given deformations, with every convention in the file.

``export_tangents(path, material, F)`` writes (HDF5 for ``.h5``/``.hdf5``, NumPy ``.npz``)

* datasets ``F`` (n, 3, 3), ``stress`` (n, 6) or (n, 3, 3), ``tangent`` (n, 6, 6) or
  (n, 3, 3, 3, 3), ``energy`` (n,) (strain energy per unit reference volume);
* root attributes ``material``, ``parameters`` (JSON), ``options`` (JSON), ``notation``,
  ``ordering``, ``strain_shear_factor``, ``stress_shear_factor``, ``stress_measure``,
  ``tangent_kind``, ``tangent_definition``, ``strain_measure``, ``units``, ``conventions``
  (how to read the arrays, in words), ``constitutive_version``. In ``.npz`` files the attributes
  are one JSON string under ``attrs``.

Tangent kinds: ``dS/dE`` (material tangent ``CC = d2W/dEdE``, with ``S``), ``dP/dF``
(``A_iJkL``, with ``P``, tensor notation only), ``spatial`` (``c = J^-1 FFFF:CC``, Truesdell rate
of Kirchhoff stress over J, with Cauchy stress), ``abaqus`` (``c`` plus the Jaumann correction, as
Abaqus DDSDDE, with Cauchy stress). Notations (:data:`NOTATIONS`): a tangent matrix ``T`` maps
strain vectors to stress vectors, ``T[I, J] = f_s(I) m(J) / f_e(J) C[ij kl]`` with the pair
``ij`` of row ``I``, ``kl`` of column ``J``, shear factors ``f_s``/``f_e`` on stress/strain and
multiplicity ``m = 2`` for shear columns (1 otherwise): Mandel ``D = w w C``, Voigt ``C[ij kl]``.

Files are written atomically (temporary file in the same directory, then ``os.replace``).
Large CPU batches are evaluated by one compiled pass from F to the file's layout
(:mod:`.export_eval`) and streamed to the file chunk by chunk (:mod:`.export_files`): memory
stays at two chunks whatever the number of points.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from constitutive import mandel
from constitutive.fast.kernels import validate_input
from constitutive.hyperelastic import Hyperelastic

from .export_eval import (
    EXPORT_STRESS_MEASURES,
    TANGENTS,
    check_kinds,
    evaluator,
    output_shapes,
    strain_evaluator,
)
from .export_files import check_suffix, stream_rows, write_tangent_file
from .notation import (
    NOTATIONS,
    check_notation,
    matrix_to_tangent,
    stress_to_vector,
    tangent_to_matrix,
    vector_to_stress,
)

DEFAULT_UNITS = "stress, tangent and energy density in the stress unit of the parameters; F dimensionless"


# ----------------------------------------------------------------------------- evaluation
def _as_F(F, material: Hyperelastic) -> np.ndarray:
    """Validated deformation gradients (n, 3, 3): one compiled pass for large valid batches, the
    material's full checks otherwise."""
    x = torch.from_numpy(F) if isinstance(F, np.ndarray) and F.dtype == np.float64 else F
    if isinstance(x, torch.Tensor):
        x = validate_input(material, "pk1", x)
    else:
        x = material.as_deformation_gradient(x, "F")
    return x.reshape(-1, 3, 3).detach().cpu().numpy()


def _stretch_of(e: np.ndarray) -> np.ndarray:
    """``F = U = sqrt(I + 2E)`` (n, 3, 3) of validated Mandel strains, by torch's ``eigh`` (the
    eager route; the compiled one computes ``U`` in the kernel)."""
    E = mandel.from_mandel(torch.from_numpy(e))
    lam, Q = torch.linalg.eigh(torch.eye(3, dtype=E.dtype) + 2.0 * E)
    return ((Q * lam.sqrt()[..., None, :]) @ Q.transpose(-1, -2)).numpy()  # no rotation


def _as_strain(E, material: Hyperelastic) -> np.ndarray:
    """Validated Mandel strains (n, 6) from Mandel (n, 6) or tensor (n, 3, 3) Green-Lagrange strains."""
    x = torch.as_tensor(np.asarray(E, dtype=np.float64))
    e = x if x.shape[-1:] == (6,) else mandel.to_mandel(material.as_strain_tensor(x, "E"))
    return validate_input(material, "mandel", e.reshape(-1, 6).contiguous(), "E").detach().cpu().numpy()


def _attrs(material, notation, stress, tangent, units) -> dict:
    from constitutive import __version__

    _, fe, fs, ordering = NOTATIONS[notation]
    conv = (f"Points along axis 0. F[n, i, j] = F_ij. stress: {EXPORT_STRESS_MEASURES[stress]}; tangent: "
            f"{TANGENTS[tangent][2]}.")
    if notation != "tensor":
        conv += (f" Vectors hold components in the order {ordering}; shear components of stress "
                 f"vectors are multiplied by {fs:.17g}, those of strain vectors by {fe:.17g}; "
                 "tangent[n, I, J] maps strain vectors to stress vectors: "
                 "tangent[I, J] = f_stress(I) * m(J) / f_strain(J) * C[ij kl], m = 2 for shear J.")
    return {
        "material": material.name or type(material).__name__,
        "parameters": json.dumps(material.parameter_values()),
        "options": json.dumps(material.option_values()),
        "notation": notation, "ordering": ordering,
        "strain_shear_factor": fe, "stress_shear_factor": fs,
        "stress_measure": stress, "tangent_kind": tangent,
        "tangent_definition": TANGENTS[tangent][2], "strain_measure": TANGENTS[tangent][1],
        "units": units or DEFAULT_UNITS, "conventions": conv,
        "constitutive_version": __version__,
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def export_tangents(path, material: Hyperelastic, F_or_E, *, kind: str = "F", stress: str | None = None,
                    tangent: str = "dS/dE", notation: str | None = None, units: str | None = None,
                    chunk_size: int = 65536, progress=None) -> str:
    """Evaluate ``material`` at deformations and write stress and tangent with their conventions.

    Parameters
    ----------
    path : output file, ``.h5``/``.hdf5`` or ``.npz``.
    material : Hyperelastic
    F_or_E : (n, 3, 3) deformation gradients (``kind="F"``) or Green-Lagrange strains
        (``kind="E"``, (n, 3, 3) or Mandel (n, 6); then ``F = U = sqrt(I + 2E)``, no rotation).
    stress : stress measure (``pk2``, ``pk1``, ``cauchy``, ``kirchhoff``); default: the one
        conjugate to ``tangent`` (see :data:`TANGENTS`).
    tangent : ``dS/dE``, ``dP/dF``, ``spatial`` or ``abaqus``.
    notation : ``mandel``, ``voigt``, ``abaqus`` or ``tensor``; default ``abaqus`` for the Abaqus
        tangent, ``tensor`` for ``dP/dF``, ``mandel`` otherwise.
    units : free text stored in the ``units`` attribute.
    chunk_size : points evaluated at a time.
    progress : optional callable ``progress(done, total)`` called after each chunk.

    Returns
    -------
    The path written.
    """
    if tangent not in TANGENTS:
        raise ValueError(f"tangent: expected one of {list(TANGENTS)}, got {tangent!r}")
    if not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError(f"chunk_size: expected a positive integer, got {chunk_size!r}")
    if kind not in ("F", "E"):
        raise ValueError(f"kind: expected 'F' or 'E', got {kind!r}")
    stress = stress or TANGENTS[tangent][0]
    check_kinds(stress, tangent)
    notation = notation or {"abaqus": "abaqus", "dP/dF": "tensor"}.get(tangent, "mandel")
    check_notation(notation)
    if notation != "tensor" and (tangent == "dP/dF" or stress == "pk1"):
        raise ValueError(f"notation: {notation!r} needs symmetric quantities; dP/dF and P have no "
                         "minor symmetries, use notation='tensor'")
    check_suffix(path)
    if getattr(material, "incompressible", False):
        raise ValueError(
            f"material: {material.name or type(material).__name__} is incompressible: its stress is the "
            "isochoric part plus a pressure that only the boundary conditions determine, so a tangent at a "
            "given F is not defined; export the compressible model (e.g. "
            f"{(material.name or '').replace('-incompressible', '') or 'the model'} with a bulk modulus K)")
    shapes = dict(zip(("energy", "stress", "tangent"), output_shapes(notation), strict=True))
    run, data = None, {}
    if kind == "E":  # compiled from the strains where it can be: F = U comes out of the kernel
        X = _as_strain(F_or_E, material)
        run = strain_evaluator(material, stress, tangent, notation, len(X))
        if run is not None:
            shapes = {"F": (3, 3), **shapes}
        else:
            X = data["F"] = _stretch_of(X)
    else:
        X = data["F"] = _as_F(F_or_E, material)
    n = len(X)
    if n == 0:
        raise ValueError("F_or_E: no points to export (an empty array)")
    run = run or evaluator(material, stress, tangent, notation, n)

    def fill(target: dict) -> None:
        stream_rows(run, X, shapes, target, chunk_size, progress)

    attrs = _attrs(material, notation, stress, tangent, units)
    write_tangent_file(path, data, attrs, fill=(shapes, fill, n))
    return str(path)


@dataclass(frozen=True)
class TangentFile:
    """Arrays of an exported file with their conventions (``attrs``)."""

    F: np.ndarray
    stress: np.ndarray
    tangent: np.ndarray
    energy: np.ndarray | None
    attrs: dict = field(default_factory=dict)

    @property
    def notation(self) -> str:
        """Notation of the arrays (``mandel``, ``voigt``, ``abaqus``, ``tensor``)."""
        return self.attrs["notation"]

    def to(self, notation: str) -> TangentFile:
        """The same data in another notation (``mandel``, ``voigt``, ``abaqus``, ``tensor``)."""
        check_notation(notation)
        unsymmetric = self.attrs["tangent_kind"] == "dP/dF" or self.attrs["stress_measure"] == "pk1"
        if notation != "tensor" and unsymmetric:
            raise ValueError("notation: dP/dF and P have no minor symmetries; only 'tensor' is possible")
        sig = vector_to_stress(self.stress, self.notation)
        T = matrix_to_tangent(self.tangent, self.notation)
        _, fe, fs, ordering = NOTATIONS[notation]
        attrs = {**self.attrs, "notation": notation, "ordering": ordering,
                 "strain_shear_factor": fe, "stress_shear_factor": fs}
        return replace(self, stress=stress_to_vector(sig, notation), tangent=tangent_to_matrix(T, notation),
                       attrs=attrs)


def read_tangents(path, notation: str | None = None) -> TangentFile:
    """Read an exported file; optionally convert it to ``notation``."""
    ext = check_suffix(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"path: no such file {str(path)!r}")
    if ext == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            attrs = json.loads(str(arrays.pop("attrs"))) if "attrs" in arrays else {}
        except (OSError, ValueError, EOFError) as exc:  # not a zip / a bad archive / bad JSON
            raise ValueError(f"{path}: not a readable .npz tangent file ({exc})") from None
    else:
        import h5py

        try:
            f = h5py.File(path, "r")
        except OSError as exc:
            raise ValueError(f"{path}: not a readable HDF5 file ({exc})") from None
        with f:
            arrays = {k: f[k][()] for k in f.keys() if isinstance(f[k], h5py.Dataset)}
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
            attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in attrs.items()}
    missing = [k for k in ("F", "stress", "tangent") if k not in arrays]
    if missing or "notation" not in attrs:
        raise ValueError(f"{path}: not a tangent file (missing {missing or ['notation attribute']})")
    out = TangentFile(arrays["F"], arrays["stress"], arrays["tangent"], arrays.get("energy"), attrs)
    return out.to(notation) if notation else out
