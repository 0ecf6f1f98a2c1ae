"""Time histories at a material point and the state-carrying driver.

A :class:`LoadHistory` is a sequence of mixed-control load paths (:class:`~.loadpaths.LoadPath`)
at times ``t_0 <= t_1 <= ...`` for a batch of ``B`` independent points. The material starts in
its virgin state, undeformed, at ``t_0``; step ``k`` goes from ``(t_{k-1}, F_{k-1})`` to
``(t_k, F_k)`` (``F_{-1} = I``, ``t_{-1} = t_0``: the first point is reached instantaneously).
At every step the free components of ``F`` are solved by Newton's method
(:func:`constitutive.calibration.driver.solve`) with the algorithmic tangent ``dP/dF`` of the
update, and the state is committed once the step has converged.

Builders (``mode``: ``uniaxial``, ``equibiaxial``, ``pure_shear``, ``simple_shear``):

* :func:`strain_history`: the stretch (or shear) prescribed in time, the stress measured:
  :func:`relaxation` (step and hold), :func:`cyclic` (loading and unloading through peaks),
  :func:`constant_rate`;
* :func:`stress_history`: the nominal stress of the loading direction prescribed, the stretch
  measured: :func:`creep` (stress step and hold).

Reference: Holzapfel (2000), Nonlinear Solid Mechanics, sec. 6.10 (viscoelastic material points).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch

from constitutive.tensors import det

from . import driver, loadpaths
from .loadpaths import LoadPath

CONTROLS = ("strain", "stress")
#: the F component prescribed (strain control) or measured (stress control) in each mode
LOADING = {"uniaxial": (0, 0), "equibiaxial": (0, 0), "pure_shear": (0, 0), "simple_shear": (0, 1)}


@dataclass
class LoadHistory:
    """Mixed control along times ``time`` (n,) for ``B`` points.

    Attributes
    ----------
    time : (n,) non-decreasing times
    F : (n, B, 3, 3) prescribed deformation gradients (entries at ``free`` are guesses)
    free : components of F solved for; their nominal stress is prescribed by ``target``
    target : (n, B, m) prescribed nominal stress on ``free`` (default 0)
    pressure_component, mode : as in :class:`~.loadpaths.LoadPath`
    control : ``"strain"`` (the stress is measured) or ``"stress"`` (the stretch is measured)
    """

    time: torch.Tensor
    F: torch.Tensor
    free: tuple = ()
    target: torch.Tensor | None = None
    pressure_component: tuple = (2, 2)
    mode: str = "general"
    control: str = "strain"

    def __post_init__(self):
        self.time = torch.as_tensor(self.time, dtype=torch.float64).reshape(-1)
        if self.F.ndim != 4 or self.F.shape[-2:] != (3, 3) or self.F.shape[0] != self.time.shape[0]:
            raise ValueError(
                f"F: expected shape (n, B, 3, 3) with n = {self.time.shape[0]} times, "
                f"got {tuple(self.F.shape)}"
            )
        if not bool(torch.isfinite(self.time).all()):
            raise ValueError("time: values must be finite")
        dt = torch.diff(self.time)
        if bool((dt < 0).any()):
            k = int(torch.nonzero(dt < 0)[0]) + 1
            raise ValueError(
                f"time: must be non-decreasing; time[{k}] = {float(self.time[k]):g} < "
                f"time[{k - 1}] = {float(self.time[k - 1]):g}"
            )
        if self.control not in CONTROLS:
            raise ValueError(f"control: expected one of {CONTROLS}, got {self.control!r}")

    @property
    def n_steps(self) -> int:
        """Number of time points."""
        return int(self.time.shape[0])

    @property
    def batch(self) -> int:
        """Number of independent points ``B``."""
        return int(self.F.shape[1])

    def increments(self) -> torch.Tensor:
        """``dt_k = t_k - t_{k-1}`` (n,), ``dt_0 = 0``."""
        return torch.cat([self.time.new_zeros(1), torch.diff(self.time)])

    def step(self, k: int) -> LoadPath:
        """The load path of time point ``k`` (B points)."""
        tgt = None if self.target is None else self.target[k]
        return LoadPath(self.F[k].clone(), self.free, tgt, self.pressure_component, self.mode)

    def flat(self) -> LoadPath:
        """All ``n * B`` points as one load path (time-major), for batched derivatives."""
        n, B = self.n_steps, self.batch
        tgt = None if self.target is None else self.target.reshape(n * B, -1)
        return LoadPath(
            self.F.reshape(n * B, 3, 3).clone(), self.free, tgt, self.pressure_component, self.mode
        )


def _control_array(control, n: int) -> torch.Tensor:
    c = torch.as_tensor(np.asarray(control, dtype=np.float64))
    if c.ndim == 0 or c.shape[0] != n:
        raise ValueError(f"control: expected {n} rows (one per time), got shape {tuple(c.shape)}")
    return c


def strain_history(mode: str, time, control) -> LoadHistory:
    """Stretch (``uniaxial``, ``equibiaxial``, ``pure_shear``; (n,) or (n, 2) for ``biaxial``)
    or amount of shear (``simple_shear``) prescribed at the times ``time`` (n,)."""
    time = torch.as_tensor(np.asarray(time, dtype=np.float64)).reshape(-1)
    c = _control_array(control, time.shape[0])
    path = loadpaths.load_path(mode, c)
    return LoadHistory(time, path.F[:, None], path.free, None, path.pressure_component, mode, "strain")


def stress_history(mode: str, time, stress) -> LoadHistory:
    """Nominal stress of the loading direction (``P11``; ``P12`` in simple shear; ``P11 = P22``
    equibiaxially) prescribed at the times ``time``; the other conjugate stresses are zero."""
    if mode not in LOADING:
        raise ValueError(f"mode: stress control is defined for {list(LOADING)}, got {mode!r}")
    time = torch.as_tensor(np.asarray(time, dtype=np.float64)).reshape(-1)
    p = _control_array(stress, time.shape[0]).reshape(-1)
    base = loadpaths.load_path(mode, torch.zeros_like(p) if mode == "simple_shear" else torch.ones_like(p))
    extra = ((0, 0), (1, 1)) if mode == "equibiaxial" else (LOADING[mode],)
    free = tuple(dict.fromkeys(extra + tuple(base.free)))
    cols = [p if c in extra else torch.zeros_like(p) for c in free]
    target = torch.stack(cols, -1)[:, None]
    return LoadHistory(time, base.F[:, None], free, target, base.pressure_component, mode, "stress")


def _times(t0: float, t1: float, n: int, spacing: str) -> np.ndarray:
    if spacing == "log" and t1 > t0:
        first = (t1 - t0) * 1e-3
        return t0 + np.concatenate([[first], np.geomspace(first, t1 - t0, n)[1:]])
    return np.linspace(t0, t1, n + 1)[1:]


def _step_hold(start: float, target: float, hold: float, ramp: float, n_ramp: int, n_hold: int,
               spacing: str) -> tuple[np.ndarray, np.ndarray]:
    """Times and control values of a ramp from ``start`` to ``target`` in ``ramp`` (``0``: a
    step at t = 0) over ``n_ramp`` increments, then a hold of ``hold`` in ``n_hold``."""
    if ramp > 0:
        t_r = np.linspace(0.0, ramp, n_ramp + 1)
        c_r = start + (target - start) * t_r / ramp
    else:
        t_r, c_r = np.array([0.0]), np.array([target])
    t_h = _times(t_r[-1], t_r[-1] + hold, n_hold, spacing)
    return np.concatenate([t_r, t_h]), np.concatenate([c_r, np.full(t_h.size, target)])


def relaxation(
    stretch: float,
    hold: float,
    ramp: float = 0.0,
    n_ramp: int = 1,
    n_hold: int = 40,
    mode: str = "uniaxial",
    spacing: str = "log",
) -> LoadHistory:
    """Strain step and hold: the stretch (or shear) goes linearly from 1 (0) to ``stretch`` in
    ``ramp`` (``0``: an instantaneous step) over ``n_ramp`` increments, then is held for ``hold``
    with ``n_hold`` increments (``spacing="log"``: geometric, for several decades)."""
    start = 0.0 if mode == "simple_shear" else 1.0
    return strain_history(mode, *_step_hold(start, stretch, hold, ramp, n_ramp, n_hold, spacing))


def creep(
    stress: float,
    hold: float,
    ramp: float = 0.0,
    n_ramp: int = 1,
    n_hold: int = 40,
    mode: str = "uniaxial",
    spacing: str = "log",
) -> LoadHistory:
    """Stress step and hold: the nominal stress rises linearly to ``stress`` in ``ramp``
    (``0``: a step) and is held for ``hold``; the stretch is measured."""
    return stress_history(mode, *_step_hold(0.0, stress, hold, ramp, n_ramp, n_hold, spacing))


def cyclic(peaks, rate: float, n_per_segment: int = 20, mode: str = "uniaxial") -> LoadHistory:
    """Loading and unloading at constant rate through ``peaks`` (stretches, or shears), starting
    from the undeformed state: ``1 -> peaks[0] -> peaks[1] -> ...``; ``rate`` in control units
    per time unit."""
    if not rate > 0:
        raise ValueError(f"rate: must be > 0, got {rate}")
    start = 0.0 if mode == "simple_shear" else 1.0
    pts = np.concatenate([[start], np.asarray(peaks, dtype=np.float64).reshape(-1)])
    c, t = [pts[:1]], [np.zeros(1)]
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        s = np.linspace(0.0, 1.0, n_per_segment + 1)[1:]
        c.append(a + (b - a) * s)
        t.append(t[-1][-1] + abs(b - a) / rate * s)
    return strain_history(mode, np.concatenate(t), np.concatenate(c))


def constant_rate(rate: float, duration: float, n: int = 50, mode: str = "uniaxial") -> LoadHistory:
    """Stretch (or shear) increasing at constant ``rate`` from the undeformed state for ``duration``."""
    t = np.linspace(0.0, duration, n + 1)
    return strain_history(mode, t, (0.0 if mode == "simple_shear" else 1.0) + rate * t)


@dataclass
class HistoryResult:
    """Solution along a history: ``F``, ``P`` (n, B, 3, 3), state (n, B, n_state), unknowns."""

    history: LoadHistory
    F: torch.Tensor
    P: torch.Tensor
    state: torch.Tensor
    z: torch.Tensor
    pressure: torch.Tensor | None
    iterations: list[int]
    converged: torch.Tensor

    @property
    def time(self) -> torch.Tensor:
        """Times (n,)."""
        return self.history.time

    @property
    def cauchy(self) -> torch.Tensor:
        """Cauchy stress ``P F^T / det F`` (n, B, 3, 3)."""
        return self.P @ self.F.transpose(-1, -2) / det(self.F)[..., None, None]

    def measured(self, stress_measure: str = "nominal") -> torch.Tensor:
        """The measured quantity (n, B): the stress of the mode (strain control) or the loading
        stretch / shear (stress control)."""
        h = self.history
        if h.control == "stress":
            i, j = LOADING[h.mode]
            return self.F[..., i, j]
        n, B = self.P.shape[:2]
        y = driver.measured(self.P.reshape(n * B, 3, 3), self.F.reshape(n * B, 3, 3), h.mode, stress_measure)
        return y.reshape(n, B, *y.shape[1:])


class _AtState:
    """The material at a fixed start-of-step state and ``dt``, seen by the elastic driver
    (``pk1``, ``pk1_tangent``); it keeps the new state of its last evaluation."""

    def __init__(self, material, state, dt, consistent=True, fast=None):
        self.m, self.state, self.dt = material, state, dt
        self.consistent, self.fast = consistent, fast
        self.incompressible = bool(getattr(material, "incompressible", False))
        self.dtype, self.device = material.dtype, material.device
        self.new = self._cache = None

    def _eval(self, F):
        if self._cache is not None and self._cache[0].shape == F.shape and torch.equal(self._cache[0], F):
            return self._cache
        P, A, new = self.m.pk1_tangent_state(
            F, self.state, self.dt, consistent=self.consistent, fast=self.fast
        )
        self._cache = (F.detach().clone(), P, A, new)
        self.new = new
        return self._cache

    def pk1(self, F, create_graph: bool = False):
        if create_graph:
            P, self.new = self.m.pk1_state(F, self.state, self.dt, create_graph=True)
            return P
        return self._eval(F)[1]

    def pk1_tangent(self, F):
        _, P, A, _ = self._eval(F)
        return P, A


def _guess(path: LoadPath, prev: LoadPath | None, z_prev, incomp: bool) -> torch.Tensor:
    """Start of Newton at a step: the builder's guess moved by the previous step's correction."""
    z0 = driver.initial_unknowns(path, incomp)
    if prev is None or z_prev is None:
        return z0
    shift = z_prev - driver.initial_unknowns(prev, incomp)
    return z0 + shift


@contextlib.contextmanager
def single_thread():
    """torch on one thread inside the block: the tensors of a history step are tiny, and
    intra-op threads only cost synchronisation (3x slower on a busy two-core machine)."""
    n = torch.get_num_threads()
    if n > 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if n > 1:
            torch.set_num_threads(n)


def solve_history(
    material,
    history: LoadHistory,
    rtol: float = 1e-11,
    max_iter: int = 40,
    consistent: bool = True,
    fast: bool | None = None,
) -> HistoryResult:
    """Solve every step of ``history`` in turn for a state-carrying ``material``
    (:class:`constitutive.inelastic.Inelastic`); the state is committed after each converged step.

    ``consistent=False`` iterates with the tangent that ignores the state's dependence on the
    strain (converges more slowly; for comparison). Raises ``FloatingPointError`` naming the
    step if Newton fails.
    """
    if not hasattr(material, "pk1_tangent_state"):
        raise TypeError(
            f"material: expected a state-carrying (Inelastic) material, got {type(material).__name__}"
        )
    with single_thread():
        return _solve(material, history, rtol, max_iter, consistent, fast)


def _solve(material, history, rtol, max_iter, consistent, fast) -> HistoryResult:
    incomp = bool(getattr(material, "incompressible", False))
    B, n = history.batch, history.n_steps
    state = material.initial_state(B)
    dts = history.increments()
    Fs, Ps, states, zs, its, conv = [], [], [], [], [], []
    prev, z_prev = None, None
    for k in range(n):
        path = history.step(k)
        at = _AtState(material, state, dts[k], consistent, fast)
        res = driver.solve(at, path, rtol=rtol, max_iter=max_iter, z0=_guess(path, prev, z_prev, incomp))
        if not bool(res.converged.all()):
            raise FloatingPointError(
                f"history driver: Newton did not converge at step {k} "
                f"(t = {float(history.time[k]):g}) for {int((~res.converged).sum())} point(s)"
            )
        state = at.new
        prev, z_prev = path, res.z
        Fs.append(res.F)
        Ps.append(res.P)
        states.append(state)
        zs.append(res.z)
        its.append(int(res.iterations))
        conv.append(res.converged)
    z = torch.stack(zs)
    return HistoryResult(
        history,
        torch.stack(Fs),
        torch.stack(Ps),
        torch.stack(states),
        z,
        z[..., -1] if incomp else None,
        its,
        torch.stack(conv),
    )


def predict_history(
    material, mode: str, time, control, control_type: str = "strain", stress_measure: str = "nominal", **kw
) -> np.ndarray:
    """The measured response (n,) of ``material`` to one history: the stress of ``mode`` for a
    prescribed stretch/shear (``control_type="strain"``), the stretch/shear for a prescribed
    nominal stress (``"stress"``)."""
    hist = (strain_history if control_type == "strain" else stress_history)(mode, time, control)
    return solve_history(material, hist, **kw).measured(stress_measure)[:, 0].detach().numpy()
