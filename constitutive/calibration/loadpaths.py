"""Load paths of homogeneous deformations under mixed control (the driver's input).

A :class:`LoadPath` prescribes ``F`` along ``n`` points, names the components of ``F`` that
are solved for (``free``; their conjugate nominal stress is prescribed, zero by default) and,
for incompressible models without free components, the traction condition that fixes the
pressure. Builders for the standard test modes (Holzapfel 2000, sec. 7.5; Treloar 1944):

* ``uniaxial(l)``: ``F = diag(l, l2, l3)``, ``l2 = l3`` free (``P22 = P33 = 0``);
* ``equibiaxial(l)``: ``F = diag(l, l, l3)``, ``l3`` free;
* ``pure_shear(l)``: ``F = diag(l, 1, l3)``, ``l3`` free;
* ``biaxial((l1, l2))``: ``F = diag(l1, l2, l3)``, ``l3`` free;
* ``simple_shear(g)``: ``F = I + g e1 (x) e2``, ``F33`` free (``P33 = 0``); incompressible:
  nothing free, the pressure from ``P33 = 0``;
* ``general(F, free=...)``: any ``F`` with chosen free components.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

Comp = tuple[int, int]
#: measured stress components of each mode (0-based index pairs)
MEASURED = {
    "uniaxial": ((0, 0),), "equibiaxial": ((0, 0),), "pure_shear": ((0, 0),),
    "simple_shear": ((0, 1),), "biaxial": ((0, 0), (1, 1)),
    "general": tuple((i, j) for i in range(3) for j in range(3)),
}


@dataclass
class LoadPath:
    """Mixed control of a homogeneous deformation along ``n`` points.

    Attributes
    ----------
    F : (n,3,3) prescribed deformation gradients; entries at ``free`` are initial guesses.
    free : components of F solved for (their conjugate nominal stress is prescribed).
    target : (n, m) prescribed nominal stress on the stress-controlled components (default 0).
    pressure_component : traction condition that fixes the pressure when no F component is free.
    mode : name of the mode (for the measured components).
    controlled : optional (n, m) bool mask; where False, component ``free[k]`` of that point is
        strain-controlled after all (residual ``F_ij - F_prescribed``). Lets paths of different
        modes be solved as one batch (:func:`concat`).
    """

    F: torch.Tensor
    free: tuple[Comp, ...] = ()
    target: torch.Tensor | None = None
    pressure_component: Comp = (2, 2)
    mode: str = "general"
    controlled: torch.Tensor | None = None

    def stress_controlled(self, incompressible: bool) -> tuple[Comp, ...]:
        """Components where the nominal stress is prescribed."""
        if incompressible and not self.free:
            return (self.pressure_component,)
        return self.free


def _t(x, dtype, name: str = "control") -> torch.Tensor:
    try:
        t = torch.as_tensor(x, dtype=dtype)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{name}: expected numbers, got {x!r} ({exc})") from None
    if t.ndim == 0:
        t = t[None]
    if not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).nonzero()[0, 0])
        raise ValueError(f"{name}: control values must be finite; value {bad} is {float(t.reshape(-1)[bad])}")
    return t


def _diag(l1, l2, l3) -> torch.Tensor:
    return torch.diag_embed(torch.stack([l1, l2, l3], -1))


def _positive(lam: torch.Tensor, name: str) -> None:
    if bool((lam <= 0).any()):
        raise ValueError(f"{name}: stretches must be > 0")


def uniaxial(stretch, dtype=torch.float64) -> LoadPath:
    """``F = diag(l, l2, l3)`` with ``P22 = P33 = 0``; guess ``l2 = l3 = l^-1/2``."""
    lam = _t(stretch, dtype, "stretch")
    _positive(lam, "stretch")
    lat = lam.rsqrt()
    return LoadPath(_diag(lam, lat, lat), ((1, 1), (2, 2)), mode="uniaxial")


def equibiaxial(stretch, dtype=torch.float64) -> LoadPath:
    """``F = diag(l, l, l3)`` with ``P33 = 0``."""
    lam = _t(stretch, dtype, "stretch")
    _positive(lam, "stretch")
    return LoadPath(_diag(lam, lam, lam**-2), ((2, 2),), mode="equibiaxial")


def pure_shear(stretch, dtype=torch.float64) -> LoadPath:
    """``F = diag(l, 1, l3)`` (planar tension) with ``P33 = 0``."""
    lam = _t(stretch, dtype, "stretch")
    _positive(lam, "stretch")
    return LoadPath(_diag(lam, torch.ones_like(lam), 1 / lam), ((2, 2),), mode="pure_shear")


def biaxial(stretch, dtype=torch.float64) -> LoadPath:
    """``F = diag(l1, l2, l3)`` with ``P33 = 0``; ``stretch`` (n,2)."""
    lam = _t(stretch, dtype, "stretch")
    if lam.ndim != 2 or lam.shape[-1] != 2:
        raise ValueError(f"stretch: expected shape (n, 2) for biaxial, got {tuple(lam.shape)}")
    _positive(lam, "stretch")
    l1, l2 = lam.unbind(-1)
    return LoadPath(_diag(l1, l2, 1 / (l1 * l2)), ((2, 2),), mode="biaxial")


def simple_shear(gamma, dtype=torch.float64) -> LoadPath:
    """``F = I + g e1 x e2``; compressible: ``F33`` free with ``P33 = 0``; incompressible:
    ``F`` fully prescribed and the pressure from ``P33 = 0``."""
    g = _t(gamma, dtype, "shear")
    F = torch.eye(3, dtype=dtype).repeat(g.shape[0], 1, 1)
    F[:, 0, 1] = g
    return LoadPath(F, ((2, 2),), mode="simple_shear")


def general(F, free=(), pressure_component: Comp = (2, 2), dtype=torch.float64) -> LoadPath:
    """Arbitrary ``F`` (n,3,3) with optional free components."""
    F = _t(F, dtype)
    if F.ndim != 3 or F.shape[-2:] != (3, 3):
        raise ValueError(f"F: expected shape (n, 3, 3), got {tuple(F.shape)}")
    return LoadPath(F, tuple(tuple(c) for c in free), pressure_component=tuple(pressure_component))


_BUILDERS = {"uniaxial": uniaxial, "equibiaxial": equibiaxial, "pure_shear": pure_shear,
             "biaxial": biaxial, "simple_shear": simple_shear}


def load_path(mode: str, control, dtype=torch.float64, **kw) -> LoadPath:
    """Load path of a named mode from its control array (stretch, shear or F)."""
    if mode == "general":
        return general(control, dtype=dtype, **kw)
    if mode not in _BUILDERS:
        raise ValueError(f"mode: unknown mode {mode!r}; expected one of {list(MEASURED)}")
    return _BUILDERS[mode](control, dtype=dtype)


def concat(paths: list[LoadPath]) -> LoadPath:
    """One load path solving several paths (with free components) as a single batch.

    The free components are the union; a point keeps stress control only on its own free
    components (``controlled`` mask), the others are strain-controlled at their prescribed
    value. Points stay independent, so the solution equals that of the separate paths.
    """
    if not paths or any(not p.free for p in paths):
        raise ValueError("paths: concat needs paths that each have free components")
    free = tuple(dict.fromkeys(c for p in paths for c in p.free))
    Fs, masks, targets = [], [], []
    for p in paths:
        n = p.F.shape[0]
        own = torch.tensor([c in p.free for c in free], device=p.F.device).expand(n, len(free))
        masks.append(own)
        t = p.F.new_zeros(n, len(free))
        if p.target is not None:
            given = torch.as_tensor(p.target, dtype=p.F.dtype).reshape(n, -1)
            for k, c in enumerate(p.free):
                t[:, free.index(c)] = given[:, k]
        targets.append(t)
        Fs.append(p.F)
    return LoadPath(torch.cat(Fs), free, torch.cat(targets), paths[0].pressure_component,
                    "general", torch.cat(masks))
