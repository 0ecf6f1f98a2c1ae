"""Load stepping and Newton-Raphson with the consistent tangent.

Each load step sets the prescribed displacements at the new load factor and iterates
``K du_f = -R_f`` on the free DOFs until the residual norm ``|R_f| <= atol + rtol * ref``
(``ref`` = max of |f_int| and |f_ext| over all DOFs, i.e. the size of reactions and loads) or
the energy norm ``|du . R_f| <= etol * |du_0 . R_0|``. Optional backtracking line search on
``|R_f|``. A step that diverges, exceeds ``max_iter`` or inverts an element (det F <= 0) is
restarted from the last converged state with half the increment; below ``min_step``
:class:`ConvergenceError` is raised. The internal state of a state-carrying material is
committed (``problem.commit``) only after a converged step, so a restarted step begins from it.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from constitutive.domain import DomainError

from .errors import ConvergenceError, ElementInversion, StepDiverged
from .linsolve import make_solver

if TYPE_CHECKING:
    from .problem import Problem


@dataclass
class Step:
    """Record of one converged load step."""

    t: float
    iterations: int
    residuals: list[float]
    energies: list[float]
    reactions: dict[str, list[float]]
    displacements: dict[str, list[float]]
    cutbacks: int = 0


@dataclass
class Result:
    """Solution history; ``u`` is the final displacement (npoints, 3)."""

    u: np.ndarray
    steps: list[Step] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    linear_solver: str = ""
    #: why the solve stopped early (empty when it reached t = 1): the history is still written
    failure: str = ""

    def reaction(self, name: str, component: int = 0) -> np.ndarray:
        """Reaction force component of a Dirichlet set over the steps (including t = 0)."""
        return np.array([0.0] + [s.reactions[name][component] for s in self.steps])

    def displacement(self, name: str, component: int = 0) -> np.ndarray:
        """Mean prescribed displacement of a Dirichlet set over the steps (including t = 0)."""
        return np.array([0.0] + [s.displacements[name][component] for s in self.steps])

    @property
    def load_factors(self) -> np.ndarray:
        """Load factors of the history: 0 and each converged step."""
        return np.array([0.0] + [s.t for s in self.steps])


def solve(problem: Problem, steps: int = 10, max_iter: int = 20, rtol: float = 1e-8,
          atol: float = 1e-12, etol: float = 1e-16, line_search: bool = False,
          min_step: float = 1e-4, linear_solver: str = "auto", writer=None,
          verbose: bool = False, stream=None, u0: np.ndarray | None = None,
          predictor: bool = True) -> Result:
    """Solve ``problem`` from t = 0 to 1 in ``steps`` equal increments (cut back on failure).

    Parameters
    ----------
    writer : optional :class:`~constitutive.fem.output.Writer`, called after every step
    verbose : print one line per iteration and per step to ``stream`` (default stderr)
    predictor : start each step from the tangent predictor ``u + du_p + du_f`` with
        ``K_ff du_f = -(K_fp du_p - df_ext)`` (``K_fp du_p`` by a directional difference of the
        residual, ``K_ff`` from the last converged state) instead of moving only the prescribed
        DOFs; it spreads the increment over the body and avoids inverting boundary elements.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps: expected a positive integer, got {steps!r}")
    if not 0.0 < min_step <= 1.0:
        raise ValueError(f"min_step: expected 0 < min_step <= 1, got {min_step}")
    stream = stream or sys.stderr
    problem.setup()
    solver = make_solver(linear_solver, problem.symmetric)
    if hasattr(solver, "set_dofs"):
        solver.set_dofs(problem.mesh.points, problem.free)
    u = np.zeros(problem.ndof) if u0 is None else np.asarray(u0, dtype=float).reshape(-1).copy()
    result = Result(u.reshape(-1, 3), linear_solver=solver.name)
    timings = {"material": 0.0, "assembly": 0.0, "solve": 0.0, "iterations": 0, "evaluations": 0,
               "predictor": 0.0}
    result.timings = timings
    t, dt, cutbacks = 0.0, 1.0 / steps, 0
    last = problem.linearize(u, 0.0)  # converged state (with tangent) used by the predictor
    _add(timings, last)
    if writer is not None:
        writer.write(problem, u, last, 0.0)
    t_start = time.perf_counter()
    try:
        while t < 1.0 - 1e-12:
            t_new = min(t + dt, 1.0)
            dofs, vals = problem.prescribed(t_new)
            trial = _predict(problem, solver, u, last, t, t_new, dofs, vals, timings) if predictor else None
            if trial is None:
                trial = u.copy()
                trial[dofs] = vals
            try:
                trial, state, res, en = _newton(problem, solver, trial, t_new, max_iter, rtol, atol, etol,
                                                line_search, timings, verbose, stream)
            except (StepDiverged, ElementInversion, DomainError, np.linalg.LinAlgError, RuntimeError) as exc:
                if isinstance(exc, ConvergenceError):
                    raise
                dt *= 0.5
                cutbacks += 1
                if verbose:
                    print(f"  step to t={t_new:.4g} failed ({exc}); cutback to dt={dt:.3g}", file=stream)
                if dt < min_step:
                    raise ConvergenceError(
                        f"load step cut back below min_step={min_step:g} at t={t:.6g} "
                        f"(last failure: {exc})") from exc
                continue
            u, t, last = trial, t_new, state
            if hasattr(problem, "commit"):  # state-carrying materials: accept the step's state
                problem.commit(state, t)
            rec = Step(t, len(res) - 1, res, en, *_bc_summary(problem, u, state), cutbacks=cutbacks)
            result.steps.append(rec)
            if writer is not None:
                writer.write(problem, u, state, t)
            if verbose:
                print(f"step {len(result.steps)}: t={t:.4f} iterations={rec.iterations} "
                      f"|R|={res[-1]:.3e} elapsed={time.perf_counter() - t_start:.2f}s", file=stream)
            cutbacks = 0
            dt = min(2.0 * dt, 1.0 / steps) if rec.iterations <= max_iter // 2 else dt
    except (ConvergenceError, KeyboardInterrupt) as exc:
        # keep the history of the converged steps: VTU/PVD, reaction CSV, JSON log
        result.u = u.reshape(-1, 3)
        result.failure = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if writer is not None:
            result.files = writer.finish(result)
        if isinstance(exc, ConvergenceError):
            exc.result = result
        raise
    result.u = u.reshape(-1, 3)
    result.linear_solver = solver.name
    _solver_stats(solver, timings)
    if writer is not None:
        result.files = writer.finish(result)
    return result


def _newton(problem, solver, u, t, max_iter, rtol, atol, etol, line_search, timings, verbose, stream):
    free = problem.free
    state = problem.linearize(u, t)
    _add(timings, state)
    residuals, energies = [], []
    energy0 = None
    for it in range(max_iter + 1):
        r = state.R[free]
        rn = float(np.linalg.norm(r))
        ref = max(float(np.linalg.norm(state.R + state.f_ext)), float(np.linalg.norm(state.f_ext)))
        residuals.append(rn)
        if not math.isfinite(rn):
            raise StepDiverged("residual is not finite")
        if verbose:
            print(f"    iteration {it}: |R|={rn:.3e} (ref {ref:.3e})", file=stream)
        if rn <= atol + rtol * ref or (energy0 and energies[-1] <= etol * energy0):
            return u, state, residuals, energies
        if it == max_iter:
            break
        if it >= 3 and rn > 1e3 * residuals[0]:
            raise StepDiverged(f"residual grew to {rn:.3e}")
        t0 = time.perf_counter()
        du_f = _linear_solve(solver, state.K, -r, _forcing(rn, ref, rtol, atol))
        timings["solve"] += time.perf_counter() - t0
        timings["iterations"] += 1
        energy = abs(float(du_f @ r))
        energies.append(energy)
        energy0 = energy0 or energy
        du = np.zeros_like(u)
        du[free] = du_f
        step, new_state = 1.0, None
        for _ in range(8 if line_search else 1):
            try:
                new_state = problem.linearize(u + step * du, t)
                _add(timings, new_state)
            except (ElementInversion, DomainError):
                if not line_search:
                    raise
                new_state = None
            if new_state is not None and (not line_search or
                                          np.linalg.norm(new_state.R[free]) <= (1 - 1e-4 * step) * rn):
                break
            step *= 0.5
        if new_state is None:
            raise ElementInversion("line search could not avoid det F <= 0")
        u = u + step * du
        state = new_state
    raise StepDiverged(f"no convergence in {max_iter} iterations (|R|={residuals[-1]:.3e})")


#: forcing term of iterative linear solves: |K du + R| <= eta |R| with
#: eta = min(ETA_MAX, max(ETA_QUADRATIC * |R| / ref, ETA_TARGET * tol / |R|))
ETA_MAX, ETA_QUADRATIC, ETA_TARGET = 1e-2, 1e-3, 1e-1
#: relative accuracy of the predictor's linear solve (iterative solvers)
ETA_PREDICTOR = 1e-3


def _forcing(rn: float, ref: float, rtol: float, atol: float) -> float:
    """Relative tolerance of an iterative solve of ``K du = -R`` (inexact Newton).

    The linear error adds ``eta |R|`` to the next residual. Taking ``eta`` proportional to
    ``|R| / ref`` keeps it below the quadratic term of Newton's method (so the iteration count
    does not grow, tested against the direct solvers), and no tighter than a tenth of the
    convergence tolerance requires: the last iterations of a step need far fewer CG iterations
    than a fixed 1e-9 (Eisenstat & Walker (1996), SIAM J. Sci. Comput. 17:16, choice 2 in
    spirit, with the tolerance floor of Dembo, Eisenstat & Steihaug (1982))."""
    if rn <= 0.0 or ref <= 0.0:
        return ETA_MAX
    tol = atol + rtol * ref
    return min(ETA_MAX, max(ETA_QUADRATIC * rn / ref, ETA_TARGET * tol / rn, 1e-14))


def _linear_solve(solver, K, b, eta: float):
    if getattr(solver, "iterative", False):
        return solver.solve(K, b, rtol=eta)
    return solver.solve(K, b)


def _solver_stats(solver, timings) -> None:
    """Counters of an iterative solver (Krylov iterations, setups, solves handed to a direct
    solver)."""
    impl = getattr(solver, "impl", None) or solver
    its = getattr(impl, "iterations", None)
    if its:
        timings["krylov_iterations"] = list(its)
    for key in ("setups", "direct_solves"):
        if hasattr(impl, key):
            timings[f"solver_{key}"] = getattr(impl, key)


def _add(timings, state):
    for k, v in state.timings.items():
        timings[k] += v
    timings["evaluations"] += 1


def _predict(problem, solver, u, last, t, t_new, dofs, vals, timings):
    """Tangent predictor (None if it fails, e.g. an element would invert)."""
    free = problem.free
    t0 = time.perf_counter()
    du_p = np.zeros_like(u)
    du_p[dofs] = vals - u[dofs]
    scale = float(np.abs(du_p).max())
    try:
        rhs = -(problem.external_force(u, t_new) - problem.external_force(u, t))[free]
        if scale > 0.0:
            eps = 1e-6 / scale
            # the residual only: no element matrices (Problem.linearize still takes the
            # material's compiled P and dP/dF where it can, faster than its eager P alone)
            r_eps = problem.linearize(u + eps * du_p, t, tangent=False).R[free]
            rhs += (r_eps - last.R[free]) / eps
        if not np.any(rhs):
            return None
        trial = u + du_p
        trial[free] += _linear_solve(solver, last.K, -rhs, ETA_PREDICTOR)
        problem.kinematics(trial)
    except (ElementInversion, RuntimeError, ValueError):
        return None
    finally:
        timings["predictor"] += time.perf_counter() - t0
    return trial


def _bc_summary(problem, u, state):
    """Per Dirichlet set: summed reaction force (3,) and mean displacement (3,)."""
    R = state.R.reshape(-1, 3)
    U = u.reshape(-1, 3)
    reactions, disp = {}, {}
    for bc in problem.dirichlet:
        reactions[bc.name] = [float(x) for x in R[bc.nodes].sum(axis=0)]
        disp[bc.name] = [float(x) for x in U[bc.nodes].mean(axis=0)]
    return reactions, disp
