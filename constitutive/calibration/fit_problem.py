"""Residuals of a fit and their exact Jacobian with respect to the material parameters.

For each experiment the driver solves the mixed-control problem ``R(z, theta) = 0`` for the
unknowns ``z`` (free stretches, pressure) at every point; the prediction is ``y(z, theta)``
(measured stress components). The residual Jacobian is exact:

* ``dR/dz``, ``dy/dz`` (per point, block-diagonal): reverse passes of ``sum_points R_j``;
* ``dR/dtheta``, ``dy/dtheta``: the stress is itself a derivative of ``W`` (built with
  ``create_graph=True``); its Jacobian with respect to the few parameter leaves is taken column
  by column with the double-vector-Jacobian trick: ``g(u) = (dout/dtheta)^T u`` by one reverse
  pass with ``create_graph``, then ``d g_k / d u`` is column ``k``;
* implicit function theorem: ``dz/dtheta = -(dR/dz)^-1 dR/dtheta`` and
  ``dy/dtheta = dy/dtheta|_z + dy/dz dz/dtheta``.

Residual of point ``i``: ``r_i = sqrt(w_i) (y_i - d_i) / s_i`` with ``s_i = 1`` (absolute) or
``s_i = max(|d_i|, floor * max|d|)`` per experiment (relative).

Compiled evaluation (``compiled``): the material's ``P``, ``A = dP/dF`` and ``dP/dtheta`` (every
scalar parameter) at a point come from one kernel of the fast path (:class:`FitKernel`: the
engine's own autograd traced once and compiled, no hand-written derivative). The driver then
runs on it, and the Jacobian above is taken on the first-order model
``P0 + A : (F - F0) + dP/dtheta (theta - theta0)`` about the solution, whose first derivatives
are those of the material: the same Jacobian, without eager autograd on the energy. On the
53 Treloar points the compiled residual and Jacobian take milliseconds instead of 0.05-0.1 s
(``benchmarks/fitting.py``).
"""

from __future__ import annotations

import contextlib
import threading
import warnings

import numpy as np
import torch

from constitutive import fast, mandel
from constitutive import kinematics as kin
from constitutive.domain import DomainError, domain_message
from constitutive.tensors import det

from . import driver, loadpaths
from .experiments import Experiment

RELATIVE_FLOOR = 0.02
#: with ``compiled=None`` a problem switches to the compiled kernel after this many evaluations
#: (residuals or Jacobian) unless the kernel is already built in the process: a short single
#: fit does not pay the one-off trace and compilation, a long or multi-start one does once
COMPILE_AFTER = 12
#: evaluations with fewer points than this run on one torch thread: on the 53 Treloar points
#: two threads made a residual 8x and a Jacobian 3x slower (synchronisation of tiny kernels)
SERIAL_BELOW = 20000


@contextlib.contextmanager
def _serial(n_points: int):
    n = torch.get_num_threads()
    serial = n > 1 and n_points < SERIAL_BELOW
    if serial:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if serial:
            torch.set_num_threads(n)


def experiment_path(exp: Experiment, dtype=torch.float64) -> loadpaths.LoadPath:
    """Driver load path of an experiment."""
    if exp.mode == "general":
        free = tuple((int(c[0]) - 1, int(c[1]) - 1) for c in exp.free)
        pc = (int(exp.pressure_component[0]) - 1, int(exp.pressure_component[1]) - 1)
        return loadpaths.general(exp.F, free=free, pressure_component=pc, dtype=dtype)
    return loadpaths.load_path(exp.mode, exp.control(), dtype=dtype)


def _grad(out, x, retain_graph=True):
    if not out.requires_grad:
        return torch.zeros_like(x)
    (g,) = torch.autograd.grad(out, x, retain_graph=retain_graph, allow_unused=True)
    return torch.zeros_like(x) if g is None else g


_DIFF, _ZERO = 18, 19  # output columns: sigma11 - sigma22, and the zero used for padding


def _selection(experiments: list[Experiment]) -> tuple[torch.Tensor, list[int]]:
    """Per point, indices into ``[P.flat (9), sigma.flat (9), sigma11 - sigma22, 0]`` of its
    measured components."""
    rows, ks = [], []
    for e in experiments:
        if e.stress_measure == "cauchy_difference":
            comps = [_DIFF]
        else:
            off = 9 if e.stress_measure == "cauchy" else 0
            comps = [off + 3 * i + j for i, j in loadpaths.MEASURED[e.mode]]
        ks.append(len(comps))
        rows += [comps] * e.n
    kmax = max(ks)
    idx = [r + [_ZERO] * (kmax - len(r)) for r in rows]
    return torch.tensor(idx, dtype=torch.long), ks


class _Group:
    """Experiments solved as one batch: a (concatenated) load path and the output selection."""

    def __init__(self, members: list[int], experiments: list[Experiment], dtype):
        self.members = members
        exps = [experiments[k] for k in members]
        paths = [experiment_path(e, dtype) for e in exps]
        self.path = paths[0] if len(paths) == 1 else loadpaths.concat(paths)
        self.idx, self.ks = _selection(exps)
        self.rows = np.cumsum([0] + [e.n for e in exps])
        self.cauchy = any(e.stress_measure in ("cauchy", "cauchy_difference") for e in exps)
        self.z = self.K = None

    def outputs(self, P: torch.Tensor, F: torch.Tensor) -> torch.Tensor:
        """Measured components of every point (N, kmax), zero-padded."""
        n = P.shape[0]
        sigma = (P @ F.transpose(-1, -2) / det(F)[:, None, None]).reshape(n, 9) if self.cauchy \
            else P.new_zeros(n, 9)
        cols = [P.reshape(n, 9), sigma, (sigma[:, 0] - sigma[:, 4])[:, None], P.new_zeros(n, 1)]
        return torch.gather(torch.cat(cols, -1), 1, self.idx.to(P.device))

    def split(self, y):
        """Per-member blocks (n_e, k_e) of a (N, kmax, ...) array."""
        return [y[self.rows[i]:self.rows[i + 1], : self.ks[i]] for i in range(len(self.members))]


class FitProblem:
    """Least-squares problem: experiments, units, weights and residual type.

    Experiments whose load paths have free components are solved together as one batch
    (:func:`constitutive.calibration.loadpaths.concat`); the others (fully prescribed ``F``) one by one.
    """

    def __init__(self, space, experiments: list[Experiment], units: str | None = None,
                 residual: str = "relative", weights: dict | None = None, compiled: bool | None = None):
        if residual not in ("relative", "absolute"):
            raise ValueError(f"residual: expected 'relative' or 'absolute', got {residual!r}")
        if not experiments:
            raise ValueError("experiments: at least one experiment is needed")
        self.space, self.experiments, self.residual = space, list(experiments), residual
        self.units = units or experiments[0].units
        weights = weights or {}
        unknown = sorted(set(weights) - {e.name for e in experiments})
        if unknown:
            raise ValueError(f"weights: unknown experiment(s) {unknown}")
        dtype = space.base.dtype
        self.paths = [experiment_path(e, dtype) for e in experiments]
        batched = [k for k, p in enumerate(self.paths) if p.free]
        single = [[k] for k, p in enumerate(self.paths) if not p.free]
        self.groups = [_Group(m, self.experiments, dtype) for m in ([batched] if batched else []) + single]
        self.data, self.factor = [], []
        for e in experiments:
            d = e.stress_in(self.units).reshape(e.n, -1)
            w = e.weights() * float(weights.get(e.name, 1.0))
            s = np.ones_like(d)
            if residual == "relative":
                s = np.maximum(np.abs(d), RELATIVE_FLOOR * np.abs(d).max())
                s[s == 0] = 1.0  # an experiment of zero stresses: absolute residual
            self.data.append(d)
            self.factor.append(np.sqrt(w)[:, None] / s)
        self.n_solves = self.n_evaluations = 0
        self._penalty = 1e6
        self.compiled = compiled
        self._kernel = None  # FitKernel once built, False where it cannot be

    def kernel(self):
        """The compiled :class:`FitKernel` to use now, or ``None`` (eager autograd)."""
        self.n_evaluations += 1
        if self._kernel is None and self.compiled is not False and fast.enabled():
            cached = FitKernel.cached(self.space.base)
            if cached is not None or self.compiled or self.n_evaluations > COMPILE_AFTER:
                self._kernel = cached or FitKernel.build(self.space.base) or False
        return self._kernel or None

    @property
    def n_residuals(self) -> int:
        """Number of residuals (measured components over all points)."""
        return sum(d.size for d in self.data)

    def _solve(self, mat, g: _Group) -> driver.DriverResult:
        res = driver.solve(mat, g.path, z0=g.z, K0=g.K)
        if not bool(res.converged.all()) and g.z is not None:
            res = driver.solve(mat, g.path)
        self.n_solves += 1
        if not bool(res.converged.all()):
            bad = int((~res.converged).sum())
            names = [self.experiments[k].name for k in g.members]
            raise FloatingPointError(f"driver did not converge at {bad} point(s) of {names}")
        g.z, g.K = res.z.detach(), res.K
        return res

    @property
    def n_points(self) -> int:
        """Number of material points over all experiments."""
        return sum(e.n for e in self.experiments)

    def predictions(self, x: np.ndarray) -> list[np.ndarray]:
        """Model predictions (n_e, k_e) of every experiment at parameters ``x``."""
        with _serial(self.n_points):
            return self._predictions(x)

    def _predictions(self, x: np.ndarray) -> list[np.ndarray]:
        mat, _ = self.space.material(x)
        kernel = self.kernel()
        if kernel is not None:
            mat = _CompiledMaterial(kernel, mat)
        out = [None] * len(self.experiments)
        for g in self.groups:
            res = self._solve(mat, g)
            y = g.outputs(res.P, res.F).detach().cpu().numpy()
            for k, block in zip(g.members, g.split(y), strict=False):
                out[k] = block
        return out

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """Residual vector; parameters the model rejects (``validate``) or where the driver
        fails give a large constant residual, so the optimiser rejects the step."""
        self.penalized = True
        try:
            preds = self.predictions(x)
        except (ValueError, FloatingPointError) as exc:
            self.last_error = str(exc)
            return np.full(self.n_residuals, self._penalty)
        parts = zip(preds, self.data, self.factor, strict=True)
        r = np.concatenate([((p - d) * f).ravel() for p, d, f in parts])
        if not np.isfinite(r).all():
            self.last_error = "non-finite model stress"
            return np.full(self.n_residuals, self._penalty)
        self.penalized = False
        self._penalty = max(getattr(self, "_penalty", 0.0), 1e3 * max(1.0, float(np.abs(r).max())))
        return r

    def residual_jacobian(self, x: np.ndarray) -> np.ndarray:
        """Exact ``dr/dx`` (N, P) by autograd and the implicit function theorem."""
        with _serial(self.n_points):
            return self._residual_jacobian(x)

    def _residual_jacobian(self, x: np.ndarray) -> np.ndarray:
        mat0, _ = self.space.material(x)
        mat, leaves = self.space.material(x, requires_grad=True)
        kernel = self.kernel()
        if kernel is not None:
            mat0 = _CompiledMaterial(kernel, mat0)
        blocks = [None] * len(self.experiments)
        for g in self.groups:
            res = self._solve(mat0, g)
            if kernel is not None:
                lin = _Linearized(mat0, driver.assemble_F(g.path, res.z).detach(), self.space.flat_columns())
                dy = self._group_jacobian_linear(lin, g, res.z)
            else:
                dy = self._group_jacobian(mat, leaves, g, res.z)
            for k, block in zip(g.members, g.split(dy), strict=False):
                f = torch.as_tensor(self.factor[k], dtype=block.dtype, device=block.device)
                blocks[k] = (block * f[..., None]).reshape(-1, len(leaves))
        return torch.cat(blocks, 0).detach().cpu().numpy()

    @staticmethod
    def _group_jacobian(mat, leaves, g: _Group, z0: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            z = z0.detach().clone().requires_grad_(True)
            P, F, R = driver.stress_of(mat, g.path, z, create_graph=True)
            y = g.outputs(P, F)
            q = z.shape[1]
            out = torch.cat([R, y], -1)
            u = torch.zeros_like(out, requires_grad=True)
            gr = torch.autograd.grad(out, leaves, grad_outputs=u, create_graph=True, allow_unused=True)
            gr = [out.new_zeros(()) if gk is None else gk for gk in gr]
            dtheta = _batched_vjp(torch.stack(gr), u).permute(1, 2, 0)  # (n, q+m, P)
            if q == 0:
                return dtheta[:, q:]
            k = out.shape[1]
            seeds = torch.eye(k, dtype=out.dtype, device=out.device)[:, None, :].expand(k, out.shape[0], k)
            oz = _batched_vjp(out, z, seeds).permute(1, 0, 2)  # (n, q+m, q): d out_j / d z
        Rz, yz = oz[:, :q], oz[:, q:]
        dz = -torch.linalg.solve(Rz, dtheta[:, :q])
        return dtheta[:, q:] + yz @ dz

    @staticmethod
    def _group_jacobian_linear(lin: _Linearized, g: _Group, z0: torch.Tensor) -> torch.Tensor:
        """:meth:`_group_jacobian` on the first-order model: ``P = Pv + A : (F - F0)`` with a
        leaf ``Pv`` (value ``P0``) standing for ``P0 + dP/dtheta (theta - theta0)``, so that one
        batched reverse pass gives ``d[R, y]/dPv`` and ``d[R, y]/dz``, and
        ``d[R, y]/dtheta = d[R, y]/dPv : dP/dtheta``."""
        with torch.enable_grad():
            z = z0.detach().clone().requires_grad_(True)
            Pv = lin.P0.clone().requires_grad_(True)
            P, F, R = driver.stress_of(lin.frozen(Pv), g.path, z, create_graph=True)
            out = torch.cat([R, g.outputs(P, F)], -1)
            n, k = out.shape
            seeds = torch.eye(k, dtype=out.dtype)[:, None, :].expand(k, n, k)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    gP, gz = torch.autograd.grad(out, (Pv, z), grad_outputs=seeds, is_grads_batched=True,
                                                 allow_unused=True)
            except RuntimeError:
                rows = [torch.autograd.grad(out, (Pv, z), grad_outputs=s_, retain_graph=True,
                                            allow_unused=True) for s_ in seeds]
                gP, gz = (torch.stack([r[i] if r[i] is not None else torch.zeros_like(v) for r in rows])
                          for i, v in enumerate((Pv, z)))
        gP = torch.zeros(k, *Pv.shape, dtype=Pv.dtype) if gP is None else gP.detach()
        gz = torch.zeros(k, *z.shape, dtype=z.dtype) if gz is None else gz.detach()
        dtheta = torch.einsum("knij,npij->nkp", gP, lin.dP)
        return _ift(gz.permute(1, 0, 2), dtheta, z.shape[1])


def _ift(oz: torch.Tensor, dtheta: torch.Tensor, q: int) -> torch.Tensor:
    """``dy/dtheta = dy/dtheta|_z - dy/dz (dR/dz)^-1 dR/dtheta`` from ``oz = d[R, y]/dz``
    (n, q+m, q) and ``dtheta = d[R, y]/dtheta`` (n, q+m, P); NumPy's batched solve (torch's
    costs 1 ms of thread start-up on 53 3x3 systems)."""
    if q == 0:
        return dtheta[:, q:]
    Rz, yz = oz[:, :q], oz[:, q:]
    dz = -torch.from_numpy(np.linalg.solve(Rz.numpy(), dtheta[:, :q].numpy()))
    return dtheta[:, q:] + yz @ dz


def _batched_vjp(out: torch.Tensor, x: torch.Tensor, seeds: torch.Tensor | None = None) -> torch.Tensor:
    """Vector-Jacobian products of ``out`` for each seed (default: the unit vectors of a 1-D
    ``out``), stacked on dim 0; one vmapped reverse pass, a loop if vmap cannot."""
    if seeds is None:
        seeds = torch.eye(out.shape[0], dtype=out.dtype, device=out.device)
    if not out.requires_grad:
        return torch.zeros((seeds.shape[0], *x.shape), dtype=x.dtype, device=x.device)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (g,) = torch.autograd.grad(out, x, grad_outputs=seeds, is_grads_batched=True,
                                       retain_graph=True, allow_unused=True)
    except RuntimeError:
        rows = [torch.autograd.grad(out, x, grad_outputs=s, retain_graph=True, allow_unused=True)[0]
                for s in seeds]
        rows = [torch.zeros_like(x) if r is None else r for r in rows]
        return torch.stack(rows).detach()
    return x.new_zeros((seeds.shape[0], *x.shape)) if g is None else g.detach()


# ------------------------------------------------------------------ compiled evaluation
def _fit_outputs(F: torch.Tensor, m) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """What :class:`FitKernel` traces at one point: ``P``, ``A = dP/dF`` and ``dP/dtheta``
    (``(n_par, 3, 3)``, every scalar parameter in declaration order), all by the engine's
    autograd: six reverse passes of the stress with respect to the parameters besides the
    engine's own stress and tangent passes."""
    params = [getattr(m, n) for n in m.parameters]
    for p in params:
        p.requires_grad_(True)
    s, D = m.stress_tangent_mandel_unchecked(kin.strain_mandel_from_F(F), True)
    cols = []
    for i in range(6):
        gs = torch.autograd.grad(s[..., i].sum(), params, retain_graph=True, allow_unused=True)
        cols.append(torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1)
                               for g, p in zip(gs, params, strict=True)]))
    S, CC = mandel.from_mandel(s.detach()), mandel.from_mandel4(D.detach())
    dS = mandel.from_mandel(torch.stack(cols, -1))  # (n_par, 3, 3)
    return kin.pk1_from_pk2(F, S), kin.dPdF_from_material_tangent(F, S, CC), (F @ dS)[None]


class FitKernel:
    """Compiled ``F -> (P, dP/dF, dP/dtheta)`` of one model (class, options, parameter shapes):
    the fast path's tracer and C backend on :func:`_fit_outputs`. Parameters are kernel inputs,
    so one kernel serves every parameter vector of a fit; kernels are kept per process."""

    _CACHE: dict[tuple, FitKernel | None] = {}
    _LOCK = threading.Lock()

    def __init__(self, material):
        from constitutive.fast.stage1_trace import parameter_tensors, trace_function
        from constitutive.fast.stage5_compile import CKernel

        self._parameter_tensors = parameter_tensors
        self.n_par = sum(int(p.numel()) for p in parameter_tensors(material))
        x0 = torch.eye(3, dtype=material.dtype)[None]
        prog = trace_function(material, _fit_outputs, x0, [(3, 3), (3, 3, 3, 3), (self.n_par, 3, 3)], "fit")
        self.conditions = list(prog.conditions)
        self._k = CKernel(prog)

    @staticmethod
    def _key(material) -> tuple:
        shapes = tuple(tuple(getattr(material, n).shape) for n in material.parameters)
        return (type(material), shapes, repr(sorted(material.option_values().items())), material.dtype)

    @classmethod
    def cached(cls, material) -> FitKernel | None:
        """The kernel of ``material``'s model if it was built in this process."""
        return cls._CACHE.get(cls._key(material))

    @classmethod
    def build(cls, material) -> FitKernel | None:
        """Build (or fetch) the kernel; ``None`` where the model cannot be traced or compiled
        (then the eager path is used, as by the engine's fast path)."""
        key = cls._key(material)
        with cls._LOCK:
            if key not in cls._CACHE:
                try:
                    cls._CACHE[key] = cls(material) if material.device.type == "cpu" else None
                except (fast.FastPathUnavailable, RuntimeError, OSError, TypeError, ValueError) as exc:
                    warnings.warn(f"fit: eager autograd for {type(material).__name__} ({exc})",
                                  RuntimeWarning, stacklevel=3)
                    cls._CACHE[key] = None
            return cls._CACHE[key]

    def __call__(self, material, F: torch.Tensor):
        """``P`` (n,3,3), ``A`` (n,3,3,3,3), ``dP/dtheta`` (n,n_par,3,3) at ``F`` (n,3,3).
        Raises :class:`ValueError` for non-finite ``F`` or ``det F <= 0`` and
        :class:`~constitutive.domain.DomainError` outside the model's domain (as eagerly)."""
        F = F.detach().to(torch.float64).reshape(-1, 3, 3).contiguous()
        if not bool(torch.isfinite(F).all()) or not bool((det(F) > 0).all()):
            raise ValueError("F: non-finite entries or det F <= 0")
        n = F.shape[0]
        outs = [torch.empty(n, size, dtype=torch.float64) for size in self._k.out_sizes]
        p = torch.cat([t.detach().reshape(-1).to(torch.float64)
                       for t in self._parameter_tensors(material)]).contiguous()
        self._k(n, F.data_ptr(), p.data_ptr(), [o.data_ptr() for o in outs])
        if self.conditions:
            bad = outs[-1] == 0
            for c, message in enumerate(self.conditions):
                if bool(bad[:, c].any()):
                    first = int(torch.nonzero(bad[:, c])[0])
                    raise DomainError(domain_message(message, int(bad[:, c].sum()), (first,)))
        return outs[0].view(n, 3, 3), outs[1].view(n, 3, 3, 3, 3), outs[2].view(n, self.n_par, 3, 3)


class _CompiledMaterial:
    """The material as the driver sees it (``pk1``, ``pk1_tangent``), evaluated by a kernel."""

    def __init__(self, kernel: FitKernel, material):
        self.kernel, self.material = kernel, material
        self.incompressible = bool(getattr(material, "incompressible", False))
        self.dtype, self.device = material.dtype, material.device

    def pk1(self, F, create_graph: bool = False) -> torch.Tensor:
        return self.kernel(self.material, F)[0]

    def pk1_tangent(self, F) -> tuple[torch.Tensor, torch.Tensor]:
        P, A, _ = self.kernel(self.material, F)
        return P, A


class _Linearized:
    """First-order data of the material about ``F0`` and the current parameters: ``P0``,
    ``A = dP/dF`` and ``dP/dtheta`` for the free parameters (``columns`` of the kernel's)."""

    def __init__(self, compiled: _CompiledMaterial, F0: torch.Tensor, columns: list[int]):
        self.P0, self.A, dP = compiled.kernel(compiled.material, F0)
        self.F0, self.dP = F0, dP[:, columns]
        self.incompressible = compiled.incompressible
        self.dtype, self.device = compiled.dtype, compiled.device

    def frozen(self, Pv: torch.Tensor) -> _Frozen:
        """The model ``P = Pv + A : (F - F0)`` as a material for :func:`driver.stress_of`."""
        return _Frozen(self, Pv)


class _Frozen:
    def __init__(self, lin: _Linearized, Pv: torch.Tensor):
        self.lin, self.Pv = lin, Pv
        self.incompressible, self.dtype, self.device = lin.incompressible, lin.dtype, lin.device

    def pk1(self, F, create_graph: bool = False) -> torch.Tensor:
        return self.Pv + torch.einsum("nijkl,nkl->nij", self.lin.A, F - self.lin.F0)
