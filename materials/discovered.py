"""Discovered energies: sums of library terms and input-convex neural networks, as materials.

A *term* is ``w h(x; b)``: an outer weight ``w >= 0`` (stress units), a scalar function ``h`` of
one invariant ``x`` with ``h(0) = 0`` and an optional inner exponent ``b``::

    x:  I1 = Ib1 - 3,  I2 = Ib2 - 3                        (isochoric, x >= 0)
        I4 = <a.C a - 1>,  J5 = <a.cof(C) a - 1>           (fibre direction a; <.> = max(., 0))
    h:  lin   x                    sq    x^2
        exp   (exp(b x) - 1) / b   exp2  (exp(b x^2) - 1) / b    log  -ln(1 - b x) / b
    ogden:  h = 2 / b^2 (lb1^b + lb2^b + lb3^b - 3)        (isochoric principal stretches, b = alpha)

The terms are chosen by the option ``terms``, tokens joined by ``+`` (``"I1:exp+I2:lin+ogden"``);
``w`` and ``b`` are lists with one entry per term (``b`` is ignored by ``lin`` and ``sq``).
``exp``, ``exp2`` and ``log`` tend to ``x``, ``x^2``, ``x`` as ``b -> 0`` (evaluated with series,
so ``b = 0`` is allowed); ``log`` exists for ``b x < 1`` (stated with
:func:`constitutive.domain.require`). Fibre invariants take ``sq`` and ``exp2`` only and act
only above their reference value (C1 at the switch, like :mod:`materials.anisotropic`): ``I4``
when the fibre is stretched, ``J5`` when the area across it grows (for ``J = 1``,
``J5 = a.C^-1 a``, e.g. a fibre shortened by compression along it); ``I4 - 1 = 2 a.E a`` and
``J5 - 1 = 2 (tr E - a.E a) + 4 |E a|^2 - 4 tr E a.E a + 2 (tr E)^2 - 2 tr E^2`` are computed
without the constant so that they vanish exactly at ``E = 0``.

Guarantees (every instance; the parameters are validated): ``W = 0`` and ``S = 0`` at ``E = 0``
(the isochoric invariants are stationary at the identity, the fibre brackets and their slopes
vanish there); with ``w >= 0``, ``b >= 0`` (``exp``, ``exp2``, ``log``) and ``|b| >= 1``
(``ogden``) every term is convex and non-decreasing in its invariant, and for an
incompressible solid (``J = 1``) the sum is polyconvex: ``I1 = |F|^2``, ``I4 = |F a|^2`` are
convex in ``F``, ``I2 = |cof F|^2`` and ``J5 = |cof F a|^2`` in ``cof F``, a convex
non-decreasing function of a convex function is convex (Ball 1977), ``sum_i lambda_i^b`` is
convex in ``F`` for ``b >= 1`` and, with ``lambda_i = 1 / (lambda_j lambda_k)``, a convex
function of the singular values of ``cof F`` for ``b <= -1`` (Ball 1977, Thm. 5.1). The
compressible variant adds ``K u(J)``; its isochoric ``I2`` terms are not polyconvex in general
(Hartmann & Neff 2003).

The ICNN energy ``W = psi(x) - psi(0)``, ``x = (Ib1 - 3, Ib2 - 3)``, is an input-convex neural
network (Amos, Xu & Kolter 2017) with softplus activations and non-negative weights
(``softplus`` of the raw parameters ``theta``): ``z1 = sp(A0 x + c0)``,
``z(k+1) = sp(Bk zk + Ak x + ck)``, ``psi = v . zL + u . x``. It is convex and non-decreasing in
``x``, hence polyconvex for ``J = 1`` by the same argument (Klein et al. 2022).

References: Linka & Kuhl (2023), CMAME 403:115731 (the CANN term set); Ball (1977), ARMA 63:337;
Hartmann & Neff (2003), IJSS 40:2767; Schroeder & Neff (2003), IJSS 40:401 (``J5``); Amos et
al. (2017), ICML; Klein, Fernandez, Martin, Neff & Weeger (2022), JMPS 159:104703.
"""

from __future__ import annotations

import json
import math
import os

import torch

from constitutive import param
from constitutive.domain import require
from constitutive.principal import principal_power_sums

from ._registry import get, register
from .decoupled import BULK_MODULUS, COMPRESSIBLE_NOTE, INCOMPRESSIBLE_NOTE, Decoupled, Incompressible
from .volumetric import VOLUMETRIC_FUNCTIONS

FUNCTIONS = ("lin", "sq", "exp", "exp2", "log")
#: functions allowed per invariant (fibre invariants: tension-only, C1 at the switch)
ALLOWED = {"I1": FUNCTIONS, "I2": FUNCTIONS, "I4": ("sq", "exp2"), "J5": ("sq", "exp2")}
#: functions with an inner exponent ``b``
INNER = ("exp", "exp2", "log", "ogden")
_SERIES = 1e-3


def parse_terms(spec: str) -> tuple[tuple[str, str], ...]:
    """``"I1:exp+ogden"`` -> ``(("I1", "exp"), ("L", "ogden"))`` (``ValueError`` on bad tokens)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"terms: expected tokens like 'I1:lin+I2:exp+ogden', got {spec!r}")
    out = []
    for tok in spec.replace(" ", "").split("+"):
        if tok == "ogden":
            out.append(("L", "ogden"))
            continue
        inv, _, fun = tok.partition(":")
        if inv not in ALLOWED or fun not in ALLOWED[inv]:
            raise ValueError(f"terms: unknown term {tok!r}; use I1:f or I2:f with f in {FUNCTIONS}, "
                             f"I4:f or J5:f with f in ('sq', 'exp2'), or 'ogden'")
        out.append((inv, fun))
    return tuple(out)


def format_terms(terms) -> str:
    """Inverse of :func:`parse_terms`."""
    return "+".join("ogden" if f == "ogden" else f"{i}:{f}" for i, f in terms)


def inner_bounds(term: tuple[str, str]) -> tuple[tuple[float, float], ...]:
    """Admissible intervals of ``b`` that keep the term convex (two for ``ogden``)."""
    if term[1] == "ogden":
        return ((-math.inf, -1.0), (1.0, math.inf))
    return ((0.0, math.inf),) if term[1] in INNER else ((-math.inf, math.inf),)


def shear_factor(term: tuple[str, str]) -> float:
    """Initial shear modulus per unit weight: ``G = sum_i w_i g_i`` (``G = 2 (W_1 + W_2)`` at
    ``E = 0``; ``h'(0) = 1`` for lin/exp/log, 0 for sq/exp2 and fibres; 1 for ogden)."""
    if term[1] == "ogden":
        return 1.0
    return 2.0 if term[0] in ("I1", "I2") and term[1] in ("lin", "exp", "log") else 0.0


class _Specs:
    """Option "choices" that accept any valid spec (``value in choices`` parses it)."""

    def __init__(self, check, examples):
        self.check, self.examples = check, examples

    def __contains__(self, value) -> bool:
        try:
            self.check(value)
        except (ValueError, TypeError):
            return False
        return True

    def __iter__(self):
        return iter(self.examples)


def _series_where(z, f_big, coeffs):
    """``f_big(z)`` for ``|z| >= 1e-3``, else its Taylor series (double where: finite grads)."""
    small = z.abs() < _SERIES
    zs = torch.where(small, torch.ones_like(z), z)
    zz = torch.where(small, z, torch.zeros_like(z))
    ser = torch.zeros_like(z)
    for c in reversed(coeffs):
        ser = ser * zz + c
    return torch.where(small, ser, f_big(zs))


_EXP_SERIES = (1.0, 1 / 2, 1 / 6, 1 / 24, 1 / 120)


def _expm1_ratio(z: torch.Tensor) -> torch.Tensor:
    return torch.expm1(z) / z


def term_value(fun: str, x: torch.Tensor, b) -> torch.Tensor:
    """``h(x; b)`` of an invariant term (formulas in the module docstring)."""
    if fun == "lin":
        return x
    if fun == "sq":
        return x * x
    if fun == "exp":
        return x * _series_where(b * x, _expm1_ratio, _EXP_SERIES)
    if fun == "exp2":
        return x * x * _series_where(b * x * x, _expm1_ratio, _EXP_SERIES)
    if fun == "log":
        z = b * x
        require(z < 1.0, "discovered log term: b x reached 1 (-ln(1 - b x) is infinite)")
        zc = torch.minimum(z, torch.full_like(z, 0.999))
        return x * _series_where(zc, lambda t: -torch.log1p(-t) / t, (1, 1 / 2, 1 / 3, 1 / 4, 1 / 5, 1 / 6))
    raise ValueError(f"unknown term function {fun!r}")


def fibre_arguments(E: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(I4 - 1, J5 - 1)`` for the unit vector ``a`` (exact zeros at ``E = 0``)."""
    a = a / torch.sqrt((a * a).sum())
    Ea = torch.einsum("...ij,j->...i", E, a)
    aEa = (Ea * a).sum(-1)
    trE = E[..., 0, 0] + E[..., 1, 1] + E[..., 2, 2]
    trE2 = (E * E).sum((-1, -2))
    j5 = 2.0 * (trE - aEa) + 4.0 * (Ea * Ea).sum(-1) - 4.0 * trE * aEa + 2.0 * trE * trE - 2.0 * trE2
    return 2.0 * aEa, j5


def _macaulay(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x > 0, x, torch.zeros_like(x))


class _DiscoveredIso:
    """Discovered energy ``W_iso = sum_i w_i h_i(x_i; b_i)`` (see the module docstring).

    Options: ``terms`` (e.g. ``"I1:exp+I2:lin+ogden"``). Parameters: ``w`` (list, ``>= 0``,
    stress), ``b`` (list, dimensionless; ``b >= 0`` for exp/exp2/log, ``|b| >= 1`` for ogden),
    ``a`` (fibre direction, used by I4/J5 terms). Initial shear modulus
    ``G = sum_i w_i g_i`` with ``g = 2`` for I1/I2 lin/exp/log, ``1`` for ogden, else ``0``
    (must be > 0). Polyconvex for ``J = 1`` (module docstring).

    Defaults: ``I1:lin+I1:exp+I2:lin`` with ``w = (0.15, 0.01, 0.01)``, ``b = 1`` (MPa).
    """

    reference = "Linka & Kuhl (2023), CMAME 403:115731 (term set); Ball (1977), ARMA 63:337"
    w: float = param([0.15, 0.01, 0.01], bounds=(0.0, None), open_bounds=False, unit="stress", shape=None,
                     doc="outer weights w_i >= 0, one per term")
    b: float = param([1.0, 1.0, 1.0], unit="-", shape=None, doc="inner exponents b_i (ogden: alpha_i)")
    a: float = param([1.0, 0.0, 0.0], unit="direction", shape=(3,), doc="fibre direction of I4/J5 terms")

    def validate(self) -> None:
        terms = parse_terms(self.terms)
        n, bv = len(terms), self.b.detach().tolist()
        if self.w.numel() != n or self.b.numel() != n:
            raise ValueError(f"{type(self).__name__}: terms {self.terms!r} need {n} w and {n} b values, "
                             f"got {self.w.numel()} and {self.b.numel()}")
        for t, bi in zip(terms, bv, strict=True):
            if not any(lo <= bi <= hi for lo, hi in inner_bounds(t)):
                raise ValueError(f"{type(self).__name__}: b = {bi:g} of term {format_terms([t])!r} is "
                                 f"outside {inner_bounds(t)} (the convex range)")
        if not float(torch.linalg.vector_norm(self.a.detach())) > 1e-12:
            raise ValueError(f"{type(self).__name__}: fibre direction a has zero length")
        self._terms = terms
        super().validate()

    def isochoric_energy(self, k) -> torch.Tensor:
        terms, W = self._terms, torch.zeros_like(k.I1)
        fibres = None
        ogden = [i for i, t in enumerate(terms) if t[1] == "ogden"]
        if ogden:
            alpha = self.b[ogden]
            sums = principal_power_sums(k.Cb, 0.5 * alpha)
            W = W + (2.0 * self.w[ogden] / (alpha * alpha) * (sums - 3.0)).sum(-1)
        for i, (inv, fun) in enumerate(terms):
            if fun == "ogden":
                continue
            if inv in ("I4", "J5"):
                fibres = fibre_arguments(k.E, self.a) if fibres is None else fibres
                x = _macaulay(fibres[0] if inv == "I4" else fibres[1])
            else:
                x = (k.I1b if inv == "I1" else k.I2b) - 3.0
            W = W + self.w[i] * term_value(fun, x, self.b[i])
        return W

    def shear_modulus(self) -> float:
        pairs = zip(self.w.detach().tolist(), self._terms, strict=True)
        return float(sum(w * shear_factor(t) for w, t in pairs))


TERMS = _Specs(parse_terms, ("I1:lin", "I1:exp+I2:lin", "I1:exp2+I2:lin+ogden", "I1:lin+I4:exp2"))
_DEFAULT = "I1:lin+I1:exp+I2:lin"


@register("discovered")
class Discovered(_DiscoveredIso, Decoupled):
    __doc__ = _DiscoveredIso.__doc__ + COMPRESSIBLE_NOTE
    options = {"terms": (_DEFAULT, TERMS), "volumetric": ("J-1", VOLUMETRIC_FUNCTIONS)}
    K: float = BULK_MODULUS


@register("discovered-incompressible")
class DiscoveredIncompressible(_DiscoveredIso, Incompressible):
    __doc__ = _DiscoveredIso.__doc__ + INCOMPRESSIBLE_NOTE
    options = {"terms": (_DEFAULT, TERMS)}


# ---------------------------------------------------------------------------------- ICNN
def icnn_layout(layers: str, n_in: int = 2) -> list[tuple[str, tuple[int, ...]]]:
    """Blocks of ``theta`` in order: ``A0 (h0, n), c0 (h0)``, per further layer ``Bk (hk, hk-1),
    Ak (hk, n), ck (hk)``, then ``v (hL)``, ``u (n)``; ``layers = "4,4"`` gives the widths."""
    try:
        widths = [int(h) for h in str(layers).split(",")]
    except ValueError as exc:
        raise ValueError(f"layers: expected comma-separated widths like '4,4', got {layers!r}") from exc
    if not widths or min(widths) < 1:
        raise ValueError(f"layers: widths must be >= 1, got {layers!r}")
    out = [("A0", (widths[0], n_in)), ("c0", (widths[0],))]
    for k in range(1, len(widths)):
        out += [(f"B{k}", (widths[k], widths[k - 1])), (f"A{k}", (widths[k], n_in)), (f"c{k}", (widths[k],))]
    return out + [("v", (widths[-1],)), ("u", (n_in,))]


def softplus(t: torch.Tensor) -> torch.Tensor:
    """``ln(1 + e^t)`` (linear beyond ``t = 30``; written with traceable operations)."""
    return torch.where(t > 30.0, t, torch.log1p(torch.exp(torch.clamp(t, max=30.0))))


def icnn_psi(x: torch.Tensor, theta: torch.Tensor, layers: str) -> torch.Tensor:
    """``psi(x)`` of the ICNN (module docstring); x (..., n) -> (...)."""
    blocks, off = {}, 0
    for name, shape in icnn_layout(layers, x.shape[-1]):
        size = math.prod(shape)
        blk = theta[off:off + size].reshape(shape)
        blocks[name] = blk if name.startswith("c") else softplus(blk)  # biases free, weights >= 0
        off += size
    z = softplus(x @ blocks["A0"].T + blocks["c0"])
    for k in range(1, len([n for n in blocks if n.startswith("A")])):
        z = softplus(z @ blocks[f"B{k}"].T + x @ blocks[f"A{k}"].T + blocks[f"c{k}"])
    return z @ blocks["v"] + x @ blocks["u"]


class _ICNNIso:
    """Input-convex neural network energy ``W = psi(x) - psi(0)``, ``x = (Ib1 - 3, Ib2 - 3)``.

    Option ``layers`` (hidden widths, e.g. ``"4,4"``); parameter ``theta`` (the raw network
    parameters, length from :func:`icnn_layout`; weights enter as ``softplus(theta) > 0``,
    biases as they are). Convex and non-decreasing in ``x``: polyconvex for ``J = 1``
    (module docstring); ``W(0) = 0`` and ``S(0) = 0``. Initial shear modulus
    ``G = 2 (dpsi/dx1 + dpsi/dx2)(0) > 0``. Defaults: one hidden layer of width 2.
    """

    reference = "Amos, Xu & Kolter (2017), ICML; Klein et al. (2022), JMPS 159:104703"
    theta: float = param([-2.0, -4.0, -3.0, -5.0, 0.0, 0.0, -2.0, -2.0, -3.0, -6.0], unit="-", shape=None,
                         doc="raw ICNN parameters (weights softplus(theta) >= 0, biases)")

    def validate(self) -> None:
        n = sum(math.prod(s) for _, s in icnn_layout(self.layers))
        if self.theta.numel() != n:
            raise ValueError(f"{type(self).__name__}: layers {self.layers!r} need {n} theta values, "
                             f"got {self.theta.numel()}")
        super().validate()

    def isochoric_energy(self, k) -> torch.Tensor:
        x = torch.stack([k.I1b - 3.0, k.I2b - 3.0], -1)
        zero = torch.zeros(2, dtype=x.dtype, device=x.device)
        return icnn_psi(x, self.theta, self.layers) - icnn_psi(zero, self.theta, self.layers)

    def shear_modulus(self) -> float:
        with torch.enable_grad():
            x = torch.zeros(2, dtype=self.theta.dtype, requires_grad=True)
            (g,) = torch.autograd.grad(icnn_psi(x, self.theta.detach(), self.layers), x)
        return 2.0 * float(g.sum())


LAYERS = _Specs(icnn_layout, ("2", "4", "4,4", "8,8"))


@register("icnn")
class ICNN(_ICNNIso, Decoupled):
    __doc__ = _ICNNIso.__doc__ + COMPRESSIBLE_NOTE
    options = {"layers": ("2", LAYERS), "volumetric": ("J-1", VOLUMETRIC_FUNCTIONS)}
    K: float = BULK_MODULUS


@register("icnn-incompressible")
class ICNNIncompressible(_ICNNIso, Incompressible):
    __doc__ = _ICNNIso.__doc__ + INCOMPRESSIBLE_NOTE
    options = {"layers": ("2", LAYERS)}


# ---------------------------------------------------------------------------------- files
def material_spec(path) -> dict:
    """``{"model", "options", "parameters"}`` of a saved discovery result (JSON or HDF5)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"path: no such file {path!r}")
    if path.endswith((".h5", ".hdf5")):
        import h5py

        with h5py.File(path, "r") as f:
            text = f.attrs.get("material_json")
            text = text.decode() if isinstance(text, bytes) else text
    else:
        with open(path, encoding="utf-8") as fh:
            text = json.dumps(json.load(fh).get("material"))
    spec = json.loads(text) if text else None
    if not isinstance(spec, dict) or not {"model", "options", "parameters"} <= set(spec):
        raise ValueError(f"path: {path} holds no discovered material (expected a 'material' entry "
                         "with model, options and parameters, as written by constitutive discover)")
    return spec


def from_file(path, compressible: bool = False, K: float | None = None, **options):
    """The material of a saved discovery result (``constitutive discover --output``).

    ``compressible=True`` (or giving ``K``) returns the decoupled compressible variant
    ``W_iso + K u(J)`` (``K`` default :data:`~materials.decoupled.BULK_MODULUS`), e.g. for the
    FE driver; ``options`` (``volumetric``) are passed on.
    """
    spec = material_spec(path)
    model, params = spec["model"], dict(spec["parameters"])
    if compressible or K is not None:
        model = model.removesuffix("-incompressible")
        if K is not None:
            params["K"] = float(K)
    return get(model, **spec["options"], **params, **options)
