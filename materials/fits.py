"""Fit results are materials: ``materials.from_fit("fit.json")``.

Reads what ``constitutive fit`` / ``FitResult.save_json`` / ``save_hdf5`` and
``constitutive discover`` write, and returns the fitted material, ready for the checks, the FE
driver, export, Abaqus cards and ``constitutive compile``; nothing is retyped. The stress unit
of the fit travels along as ``material.stress_unit``.
"""

from __future__ import annotations

import json
import os

from ._registry import get, model_class


def _read(path: str) -> dict:
    if not os.path.exists(path):
        raise FileNotFoundError(f"fit: no such file {path!r}")
    if path.endswith((".h5", ".hdf5")):
        import h5py

        try:
            f = h5py.File(path, "r")
        except OSError as exc:
            raise ValueError(f"fit: {path} is not a readable HDF5 file ({exc})") from None
        with f:
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
        if "material_json" in attrs:
            return {"material": json.loads(attrs["material_json"]), "units": attrs.get("units")}
        if attrs.get("format") != "constitutive-fit":
            raise ValueError(f"fit: {path} is not a fit result (no 'format = constitutive-fit' attribute)")
        return {"model": attrs["model"], "parameters": json.loads(attrs["parameters_json"]),
                "options": json.loads(attrs.get("options_json", "{}")), "units": attrs.get("units")}
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"fit: {path} is not a JSON fit result ({exc})") from None


def from_fit(path, *, compressible: bool = False, K: float | None = None, **options):
    """The material of a saved fit (or discovery) result.

    Parameters
    ----------
    path : ``fit.json`` / ``fit.h5`` written by ``constitutive fit`` (``FitResult``) or by
        ``constitutive discover``.
    compressible : for an incompressible fit (``ogden-incompressible``), return the compressible
        decoupled model (``ogden``) with the fitted isochoric part and bulk modulus ``K``, for FE
        codes without a pressure field. Default ``K`` = 1000 initial shear moduli (Poisson's
        ratio 0.4995).
    K : bulk modulus of the compressible variant (implies ``compressible``).
    **options : model options to override (e.g. ``volumetric="J-1"``).

    Examples
    --------
    >>> mat = materials.from_fit("fit_ogden3.json")                     # doctest: +SKIP
    >>> fe_mat = materials.from_fit("fit_ogden3.json", K=200.0)          # doctest: +SKIP
    """
    path = os.fspath(path)
    d = _read(path)
    if "material" in d:  # a discovery result
        from .discovered import from_file

        mat = from_file(path, compressible=compressible, K=K, **options)
    else:
        missing = [k for k in ("model", "parameters") if k not in d]
        if missing:
            raise ValueError(f"fit: {path} holds no fit result (missing {missing})")
        model, params = d["model"], dict(d["parameters"])
        opts = {**d.get("options", {}), **options}
        if d.get("kind") == "state":  # a fit of a state model (constitutive fit on time series)
            if compressible or K is not None:
                raise ValueError(f"fit: K/compressible apply to incompressible hyperelastic fits, not to the "
                                 f"state model {model!r}; fit its compressible base instead")
            from .viscoelastic import get_state_model

            mat = get_state_model(model, **params, **opts)
            if d.get("units"):
                mat.stress_unit = d["units"]
            return mat
        if compressible or K is not None:
            base = model.removesuffix("-incompressible")
            if base == model:
                raise ValueError(f"fit: {model!r} is already compressible; K/compressible apply to "
                                 "incompressible fits")
            iso = get(model, **params, **{k: v for k, v in opts.items() if k in model_class(model).options})
            params["K"] = float(K) if K is not None else 1000.0 * float(iso.initial_moduli()[0])
            model = base
        mat = get(model, **params, **opts)
    if d.get("units"):
        mat.stress_unit = d["units"]
    return mat
