"""Fitting state-carrying models (Prony series, Mullins softening) to time histories, with the exact
Jacobian.

Each experiment with a ``time`` dataset becomes a :class:`~.history.LoadHistory` (strain or
stress control); the forward solve runs the compiled update step by step. The Jacobian of the
residuals with respect to the free parameters ``theta`` is exact (autograd and the implicit
function theorem, as for the elastic fits of :mod:`.fit_problem`), and costs one batched
evaluation over all time points instead of one per step:

* every step ``k`` is a function ``(z_k, alpha_{k-1}, theta) -> (R_k, y_k, alpha_k)`` of its
  unknowns ``z_k`` (free stretches, pressure), the state ``alpha_{k-1}`` at its start and the
  parameters; at the converged trajectory all steps are evaluated as one batch, and their local
  derivatives come from a few reverse passes (block-diagonal in ``k``; ``d/dtheta`` by the
  double-vector-Jacobian trick);
* the sensitivities are then propagated in time (forward sensitivity analysis):
  ``S_{-1} = 0``, ``dz_k = -R_z^{-1} (R_theta + R_alpha S_{k-1})``,
  ``dy_k = y_theta + y_alpha S_{k-1} + y_z dz_k``, ``S_k = a_theta + a_alpha S_{k-1} + a_z dz_k``.

Relaxation times are kept positive and ordered: when every ``tau_i`` is free the fit runs in
``u_0 = ln tau_0``, ``u_i = ln(tau_i / tau_{i-1}) >= ORDER_GAP``. Other parameters keep the
bounds their model declares (``beta_i > 0``, ``r > 1``, ``m > 0``, ``beta >= 0``).
"""

from __future__ import annotations

import math
import time as _time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.optimize import least_squares

from . import driver, history
from .experiments import Experiment, load_experiments
from .fit_problem import RELATIVE_FLOOR, experiment_path
from .params import Entry, select_entries

#: smallest ln(tau_i / tau_{i-1}) of the ordered relaxation times
ORDER_GAP = 1e-6


def experiment_history(exp: Experiment) -> history.LoadHistory:
    """The load history of an experiment with a ``time`` dataset."""
    if exp.time is None:
        raise ValueError(f"{exp.name}: a state-carrying model needs the dataset 'time'")
    if exp.control_type == "stress":
        return history.stress_history(exp.mode, exp.time, exp.stress)
    path = experiment_path(exp)
    return history.LoadHistory(
        exp.time, path.F[:, None], path.free, None, path.pressure_component, exp.mode, "strain"
    )


def measured_data(exp: Experiment, units: str) -> np.ndarray:
    """The measured quantity (n, k): the stress (strain control, in ``units``) or the stretch or
    shear (stress control)."""
    if exp.control_type == "stress":
        return np.asarray(exp.control(), dtype=np.float64).reshape(exp.n, 1)
    return exp.stress_in(units).reshape(exp.n, -1)


class HistorySpace:
    """Free parameters of a state model; all-free ``tau`` in ordered log form."""

    def __init__(self, material, free=None, fixed=None):
        self.base = material
        self.values, chosen = select_entries(material, free, fixed)
        taus = [e for e in chosen if e.name == "tau"]
        if (
            "tau" in self.values
            and isinstance(self.values["tau"], np.ndarray)
            and len(taus) == self.values["tau"].size
        ):
            order = np.argsort(self.values["tau"])
            for key in ("tau", "beta"):
                if (
                    key in self.values
                    and isinstance(self.values[key], np.ndarray)
                    and self.values[key].size == order.size
                ):
                    self.values[key] = self.values[key][order]
            k = 0
            for j, e in enumerate(chosen):
                if e.name == "tau":
                    chosen[j] = Entry("tau", k, -math.inf if k == 0 else ORDER_GAP, math.inf, True)
                    k += 1
        self.entries = chosen

    @property
    def labels(self) -> list[str]:
        """Labels of the free entries (``tau[i]`` in their ordered log form)."""
        return [e.label for e in self.entries]

    @property
    def size(self) -> int:
        """Number of free entries."""
        return len(self.entries)

    def bounds(self):
        """``(lower, upper)`` for scipy."""
        return np.array([e.lower for e in self.entries]), np.array([e.upper for e in self.entries])

    def x0(self) -> np.ndarray:
        """Start vector inside the bounds."""
        x = []
        for e in self.entries:
            v = self.values[e.name]
            if e.ordered:
                tau = self.values["tau"]
                x.append(
                    math.log(tau[0])
                    if e.index == 0
                    else max(math.log(tau[e.index] / tau[e.index - 1]), 2 * ORDER_GAP)
                )
            else:
                x.append(float(v if e.index is None else v[e.index]))
        lo, hi = self.bounds()
        span = np.where(np.isfinite(hi - lo), hi - lo, np.inf)
        x = np.asarray(x)
        eps = np.minimum(1e-9 * np.maximum(1.0, np.abs(x)), 1e-6 * span)
        return np.minimum(np.maximum(x, lo + eps), hi - eps)

    def _values(self, x, make):
        vals = {
            k: ([make(t) for t in v] if isinstance(v, np.ndarray) else make(v))
            for k, v in self.values.items()
        }
        ordered = [(e, xi) for e, xi in zip(self.entries, x, strict=True) if e.ordered]
        if ordered:
            logs = torch.cumsum(
                torch.stack([xi if torch.is_tensor(xi) else make(xi) for _, xi in ordered]), 0
            )
            for (e, _), lt in zip(ordered, torch.exp(logs), strict=True):
                vals["tau"][e.index] = lt
        for e, xi in zip(self.entries, x, strict=True):
            if not e.ordered:
                if e.index is None:
                    vals[e.name] = xi if torch.is_tensor(xi) else make(xi)
                else:
                    vals[e.name][e.index] = xi if torch.is_tensor(xi) else make(xi)
        return {k: (torch.stack(v) if isinstance(v, list) else v) for k, v in vals.items()}

    def full_values(self, x) -> dict:
        """Plain parameter values at ``x``."""
        vals = self._values(
            np.asarray(x, dtype=np.float64), lambda t: torch.tensor(float(t), dtype=torch.float64)
        )
        return {k: (float(v) if v.ndim == 0 else [float(t) for t in v]) for k, v in vals.items()}

    def material(self, x, requires_grad: bool = False):
        """Material at ``x``; with ``requires_grad`` also the scalar leaves (one per entry)."""
        dt = self.base.dtype
        if not requires_grad:
            return self.base.replace(**self.full_values(x)), []
        leaves = [torch.tensor(float(xi), dtype=dt, requires_grad=True) for xi in x]
        vals = self._values(leaves, lambda t: torch.tensor(float(t), dtype=dt))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
            return self.base.replace(**vals), leaves


def _vjps(out: torch.Tensor, x: torch.Tensor, k: int) -> torch.Tensor:
    """``d out[:, j] / d x`` for each output column ``j`` (k of them): (n, k, *x.shape[1:])."""
    rows = []
    for j in range(k):
        seed = torch.zeros_like(out)
        seed[:, j] = 1.0
        (g,) = torch.autograd.grad(out, x, grad_outputs=seed, retain_graph=True, allow_unused=True)
        rows.append(torch.zeros_like(x) if g is None else g)
    return torch.stack(rows, 1)


class _Case:
    """One experiment: its history, data, residual scaling and last forward solution."""

    def __init__(self, exp: Experiment, units: str, residual: str, weight: float):
        self.exp, self.hist = exp, experiment_history(exp)
        self.data = measured_data(exp, units)
        w = exp.weights() * weight
        s = np.ones_like(self.data)
        if residual == "relative":
            s = np.maximum(np.abs(self.data), RELATIVE_FLOOR * np.abs(self.data).max())
            s[s == 0] = 1.0
        self.factor = np.sqrt(w)[:, None] / s
        self.sol = None

    def outputs(self, P, F) -> torch.Tensor:
        if self.hist.control == "stress":
            i, j = history.LOADING[self.hist.mode]
            return F[:, i, j][:, None]
        y = driver.measured(P, F, self.hist.mode, self.exp.stress_measure)
        return y.reshape(y.shape[0], -1)


class HistoryFitProblem:
    """Residuals and their exact Jacobian for a state model on time-history experiments."""

    def __init__(
        self,
        space: HistorySpace,
        experiments,
        units: str | None = None,
        residual: str = "relative",
        weights: dict | None = None,
    ):
        if residual not in ("relative", "absolute"):
            raise ValueError(f"residual: expected 'relative' or 'absolute', got {residual!r}")
        self.space, self.units = space, units or experiments[0].units
        self.cases = [
            _Case(e, self.units, residual, float((weights or {}).get(e.name, 1.0))) for e in experiments
        ]
        self.n_solves, self.last_error, self.penalized = 0, "", False

    @property
    def n_residuals(self) -> int:
        """Number of residuals."""
        return sum(c.data.size for c in self.cases)

    def predictions(self, x) -> list[np.ndarray]:
        """Predicted measured quantity (n, k) per experiment at ``x`` (solving each history)."""
        mat, _ = self.space.material(x)
        out = []
        for c in self.cases:
            c.sol = history.solve_history(mat, c.hist)
            self.n_solves += 1
            n = c.hist.n_steps
            out.append(c.outputs(c.sol.P.reshape(n, 3, 3), c.sol.F.reshape(n, 3, 3)).detach().numpy())
        return out

    def residuals(self, x) -> np.ndarray:
        """Scaled residuals; a large constant where the model is inadmissible or Newton fails."""
        self.penalized = True
        try:
            preds = self.predictions(x)
        except (ValueError, FloatingPointError, RuntimeError) as exc:
            self.last_error = str(exc)
            return np.full(self.n_residuals, 1e6)
        r = np.concatenate(
            [((p - c.data) * c.factor).ravel() for p, c in zip(preds, self.cases, strict=True)]
        )
        if not np.isfinite(r).all():
            return np.full(self.n_residuals, 1e6)
        self.penalized = False
        return r

    def residual_jacobian(self, x) -> np.ndarray:
        """Exact ``dr/dx`` (N, P) by autograd, the implicit function theorem and forward
        sensitivities in time."""
        mat, leaves = self.space.material(x, requires_grad=True)
        self.predictions(x)
        with history.single_thread():
            blocks = [
                self._case_jacobian(mat, leaves, c) * torch.as_tensor(c.factor)[..., None] for c in self.cases
            ]
        return torch.cat([b.reshape(-1, len(leaves)) for b in blocks], 0).detach().numpy()

    @staticmethod
    def _case_jacobian(mat, leaves, c: _Case) -> torch.Tensor:
        n = c.hist.n_steps
        sol = c.sol
        path = c.hist.flat()
        q = sol.z.shape[-1]
        with torch.enable_grad():
            z = sol.z.reshape(n, q).detach().clone().requires_grad_(True)
            a0 = mat.initial_state(1).detach()
            prev = torch.cat([a0, sol.state.reshape(n, -1)[:-1]], 0).detach().clone().requires_grad_(True)
            at = history._AtState(mat, prev, c.hist.increments())
            P, F, R = driver.stress_of(at, path, z, create_graph=True)
            y = c.outputs(P, F)
            m, ns = y.shape[1], prev.shape[1]
            out = torch.cat([R, y, at.new], -1)
            K = out.shape[1]
            o_z = _vjps(out, z, K) if q else out.new_zeros(n, K, 0)
            o_a = _vjps(out, prev, K)
            u = torch.zeros_like(out, requires_grad=True)
            gr = torch.autograd.grad(out, leaves, grad_outputs=u, create_graph=True, allow_unused=True)
            cols = []
            for g in gr:
                if g is None or not g.requires_grad:
                    cols.append(out.new_zeros(n, K))
                    continue
                (d,) = torch.autograd.grad(g, u, retain_graph=True, allow_unused=True)
                cols.append(out.new_zeros(n, K) if d is None else d)
            o_t = torch.stack(cols, -1)
        o_z, o_a, o_t = o_z.detach(), o_a.detach(), o_t.detach()
        S = o_t.new_zeros(ns, len(leaves))
        dy = []
        for k in range(n):
            base = o_t[k] + o_a[k] @ S
            if q:
                dz = -torch.linalg.solve(o_z[k, :q], base[:q])
                base = base + o_z[k] @ dz
            dy.append(base[q : q + m])
            S = base[q + m :]
        return torch.stack(dy)


@dataclass
class HistoryExperimentFit:
    """Data and prediction of one experiment at the optimum."""

    name: str
    time: np.ndarray
    control: np.ndarray
    data: np.ndarray
    prediction: np.ndarray
    r2: float
    rel_error_mean: float
    quantity: str


@dataclass
class HistoryFitResult:
    """Outcome of :func:`fit_history`."""

    model: str
    parameters: dict
    labels: list[str]
    x: np.ndarray
    cost: float
    success: bool
    message: str
    nfev: int
    njev: int
    std_errors: dict
    experiments: list[HistoryExperimentFit]
    material: object = field(repr=False, default=None)
    units: str = ""
    wall_time: float = 0.0

    def summary(self) -> str:
        """Parameters with standard errors and the goodness of fit per experiment."""
        lines = [
            f"fit of {self.model}: cost {self.cost:.4g}, {'converged' if self.success else 'NOT converged'} "
            f"({self.nfev} evaluations, {self.wall_time:.1f} s)"
        ]
        for k, v in self.parameters.items():
            se = self.std_errors.get(k)
            lines.append(f"  {k} = {v}" + (f"  (se {se})" if se is not None else ""))
        for e in self.experiments:
            lines.append(f"  {e.name}: R^2 = {e.r2:.5f}, mean relative error {e.rel_error_mean:.3%}")
        return "\n".join(lines)

    def save_json(self, path) -> None:
        """Write the fitted state model as JSON (atomic): ``kind = "state"``, model, parameters,
        options (with ``base``), units, standard errors, R^2 per experiment; read back by
        :func:`materials.from_fit` and ``--fit`` of every command."""
        import json

        from constitutive.files import write_text_atomic

        mat = self.material
        d = {"kind": "state", "model": self.model, "parameters": self.parameters,
             "options": mat.option_values() if mat is not None else {}, "units": self.units,
             "cost": self.cost, "success": self.success, "message": self.message, "nfev": self.nfev,
             "std_errors": self.std_errors, "wall_time": self.wall_time,
             "experiments": {e.name: {"r2": e.r2, "rel_error_mean": e.rel_error_mean}
                             for e in self.experiments}}
        write_text_atomic(path, json.dumps(d, indent=2, default=str))


def _standard_errors(space: HistorySpace, J: np.ndarray, cost: float, x: np.ndarray) -> dict:
    N, P = J.shape
    s2 = 2.0 * cost / max(N - P, 1)
    try:
        cov = s2 * np.linalg.pinv(J.T @ J)
    except np.linalg.LinAlgError:
        return {}
    se_x = np.sqrt(np.clip(np.diag(cov), 0, None))
    out: dict = {}
    cum = 0.0
    for e, xi, s in zip(space.entries, x, se_x, strict=True):
        if e.ordered:  # tau_i = exp(sum u): delta method on the cumulative log (diagonal part)
            cum += xi
            val = math.exp(cum) * s
        else:
            val = s
        out.setdefault(e.name, []).append(float(val))
    return {
        k: (v[0] if len(v) == 1 and not isinstance(space.values[k], np.ndarray) else v)
        for k, v in out.items()
    }


def fit_history(
    material,
    experiments,
    *,
    free=None,
    fixed=None,
    weights: dict | None = None,
    residual: str = "relative",
    units: str | None = None,
    max_nfev: int = 100,
    tol: float = 1e-10,
    jacobian: str = "autograd",
) -> HistoryFitResult:
    """Fit the parameters of a state-carrying ``material`` (its values are the start and the
    fixed values) to experiments with a ``time`` dataset.

    Parameters
    ----------
    material : :class:`~constitutive.inelastic.Inelastic` (e.g. ``materials.get_state_model(
        "viscoelastic", base="neo-hooke-incompressible", mu=..., tau=[...], beta=[...])``)
    experiments : list of :class:`~.experiments.Experiment` or an HDF5 path
    free, fixed : parameter names or labels (``"tau"``, ``"beta[1]"``, ``"mu"``)
    residual, units, weights : as in :func:`constitutive.calibration.fitting.fit`
    jacobian : ``"autograd"`` (exact) or scipy's ``"2-point"`` / ``"3-point"``
    """
    if isinstance(experiments, (str, bytes)) or hasattr(experiments, "__fspath__"):
        experiments = load_experiments(experiments)
    experiments = list(experiments)
    if not experiments:
        raise ValueError("experiments: the list is empty; nothing to fit")
    if jacobian not in ("autograd", "2-point", "3-point"):
        raise ValueError(f"jacobian: expected 'autograd', '2-point' or '3-point', got {jacobian!r}")
    t0 = _time.perf_counter()
    space = HistorySpace(material, free=free, fixed=fixed)
    problem = HistoryFitProblem(space, experiments, units, residual, weights)
    x0 = space.x0()
    problem.residuals(x0)
    if problem.penalized:
        raise ValueError(f"start values are inadmissible for these data: {problem.last_error}")
    jac = problem.residual_jacobian if jacobian == "autograd" else jacobian
    r = least_squares(
        problem.residuals,
        x0,
        jac=jac,
        bounds=space.bounds(),
        method="trf",
        x_scale="jac",
        ftol=tol,
        xtol=tol,
        gtol=tol,
        max_nfev=max_nfev,
    )
    J = problem.residual_jacobian(r.x)
    fitted, _ = space.material(r.x)
    preds = problem.predictions(r.x)
    fits = []
    for c, p in zip(problem.cases, preds, strict=True):
        d = c.data
        ss = float(((d - d.mean(0)) ** 2).sum())
        big = np.abs(d) > 0.02 * np.abs(d).max()
        rel = np.abs(p - d)[big] / np.abs(d[big]) if big.any() else np.array([math.nan])
        quantity = (
            "stretch" if c.hist.control == "stress" else f"{c.exp.stress_measure} stress [{problem.units}]"
        )
        fits.append(
            HistoryExperimentFit(
                c.exp.name,
                np.asarray(c.exp.time),
                np.asarray(c.exp.stress if c.hist.control == "stress" else c.exp.control()),
                d[:, 0] if d.shape[1] == 1 else d,
                p[:, 0] if p.shape[1] == 1 else p,
                1.0 - float(((p - d) ** 2).sum()) / ss if ss > 0 else math.nan,
                float(rel.mean()),
                quantity,
            )
        )
    return HistoryFitResult(
        model=material.name or type(material).__name__,
        parameters=space.full_values(r.x),
        labels=space.labels,
        x=r.x,
        cost=float(r.cost),
        success=bool(r.success),
        message=str(r.message),
        nfev=int(r.nfev),
        njev=int(r.njev or 0),
        std_errors=_standard_errors(space, J, float(r.cost), r.x),
        experiments=fits,
        material=fitted,
        units=problem.units,
        wall_time=_time.perf_counter() - t0,
    )


def _cyclic(x: np.ndarray) -> bool:
    d = np.sign(np.diff(np.asarray(x, dtype=np.float64)))
    d = d[d != 0]
    return bool(d.size and (d != d[0]).any())


def history_fit_figure(result: HistoryFitResult, time_unit: str = "s"):
    """A :class:`matplotlib.figure.Figure`, one panel per experiment: data (markers) and model
    (line) against time (relaxation, creep; log axis over several decades) or against the
    stretch (cyclic loading)."""
    from constitutive.optional import require

    Figure = require("matplotlib.figure").Figure
    n = len(result.experiments)
    fig = Figure(figsize=(4.8 * n, 3.9))
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, e in zip(axes, result.experiments, strict=True):
        creep = e.quantity == "stretch"
        if _cyclic(e.control if not creep else e.time):
            x, xlabel = e.control, "stretch λ [-]"
        else:
            x, xlabel = e.time, f"time t [{time_unit}]"
            pos = np.asarray(e.time) > 0
            if pos.sum() > 2 and e.time[pos].max() / e.time[pos].min() > 300:
                ax.set_xscale("log")
                x = np.where(pos, e.time, np.nan)
        ax.plot(x, e.data, "o", ms=3.5, mfc="none", color="0.25", label="data")
        ax.plot(x, e.prediction, "-", lw=1.6, color="C3", label=f"fit (R² = {e.r2:.4f})")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("stretch λ [-]" if creep else e.quantity.replace(" stress", " stress P11"))
        ax.set_title(e.name, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, frameon=False)
    values = ", ".join(f"{k} = {np.round(v, 4).tolist() if isinstance(v, list) else round(v, 4)}"
                       for k, v in result.parameters.items())
    fig.suptitle(f"{result.model}: {values}", fontsize=9)
    fig.tight_layout()
    return fig
