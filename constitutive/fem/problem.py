"""Problem definition: mesh + material + boundary conditions -> residual and tangent.

>>> prob = Problem(box(4), materials.get("neo-hooke", mu=1.0, lmbda=10.0))
>>> prob.fix("xmin", 0); prob.fix("ymin", 1); prob.fix("zmin", 2)
>>> prob.displace("xmax", 0.5, components=0)
>>> result = prob.solve(steps=5)

The residual is ``R = f_int(u) - f_ext(u, t)`` on all DOFs (node-major, ``3 a + i``); on
constrained DOFs it is the reaction force. The material is evaluated once per iteration on all
quadrature points: ``material.pk1_tangent(F)`` with ``F`` of shape (ne * nq, 3, 3).

State-carrying materials (:class:`constitutive.inelastic.Inelastic`: viscoelasticity, Mullins)
keep their state at the quadrature points (``Problem.state``, (ne, nq, n_state)). Each
evaluation updates it from the last committed state over ``dt = (t - t_committed) * duration``
(``duration``: the physical time of load factor 1, :meth:`Problem.solve`); the Newton driver
commits it only when a load step has converged, so a cut-back step starts again from the
committed state.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch

from constitutive import fast
from constitutive.inelastic import Inelastic
from constitutive.tensors import det

from . import assembly as asm
from . import fbar as fb
from .boundary import BodyForce, Dirichlet, Pressure, Traction
from .errors import ElementInversion
from .geometry import Geometry
from .mesh import Mesh
from .newton import solve
from .output import Writer

FORMULATIONS = ("displacement", "fbar")
#: below this many quadrature points the evaluation runs on one torch thread
SERIAL_BELOW = 20000


@dataclass
class State:
    """Residual, tangent of the free block and quadrature-point fields of one evaluation."""

    R: np.ndarray
    K: sp.csr_matrix | None
    F: torch.Tensor  # (ne, nq, 3, 3), the F fed to the material (Fbar for F-bar)
    P: torch.Tensor
    f_ext: np.ndarray
    timings: dict = field(default_factory=dict)
    #: state of a state-carrying material after this evaluation (ne, nq, n_state), else None
    internal: torch.Tensor | None = None


_MODE_NAMES = ("translation along x", "translation along y", "translation along z",
               "rotation about x", "rotation about y", "rotation about z")


def free_rigid_body_modes(points: np.ndarray, fixed_dofs: np.ndarray, tol: float = 1e-9) -> list[str]:
    """The rigid-body motions that Dirichlet conditions on ``fixed_dofs`` do not prevent.

    The six infinitesimal rigid modes ``u = a + w x (X - X_c)`` restricted to the fixed DOFs
    form a matrix ``R`` (n_fixed, 6); its null space (singular values below ``tol`` times the
    largest possible) is the set of free motions, described in words (rotations about axes
    through the centroid ``X_c``). Returns ``[]`` when all six are suppressed.
    """
    X = np.asarray(points, dtype=float)
    Xc = X - X.mean(axis=0)
    scale = max(float(np.abs(Xc).max()), 1e-300)
    modes = np.zeros((X.shape[0], 3, 6))
    modes[:, 0, 0] = modes[:, 1, 1] = modes[:, 2, 2] = 1.0
    x, y, z = (Xc[:, k] / scale for k in range(3))
    modes[:, 1, 3], modes[:, 2, 3] = -z, y
    modes[:, 0, 4], modes[:, 2, 4] = z, -x
    modes[:, 0, 5], modes[:, 1, 5] = -y, x
    R = modes.reshape(-1, 6)[np.asarray(fixed_dofs, dtype=np.int64)]
    if R.shape[0] == 0:
        return list(_MODE_NAMES)
    sv = np.linalg.svd(R, compute_uv=False)
    sv = np.concatenate([sv, np.zeros(6 - len(sv))])
    limit = tol * np.sqrt(X.shape[0])
    n_free = int((sv <= limit).sum())
    named = [_MODE_NAMES[k] for k in range(6) if np.linalg.norm(R[:, k]) <= limit]
    if n_free > len(named):
        named.append(f"{n_free - len(named)} combination(s) of translations and rotations")
    return named[:n_free] if n_free else []


class Problem:
    """Quasi-static total-Lagrangian hyperelastic boundary-value problem.

    Parameters
    ----------
    mesh : :class:`~constitutive.fem.mesh.Mesh`
    material : a :class:`constitutive.Hyperelastic` (any registered model)
    formulation : ``"displacement"`` or ``"fbar"`` (linear hexahedra; near incompressibility)
    quadrature : optional ``(points, weights)`` rule (default: full Gauss integration)
    """

    def __init__(self, mesh: Mesh, material, formulation: str = "displacement", quadrature=None):
        if not isinstance(mesh, Mesh):
            raise TypeError(f"mesh: expected a constitutive.fem.Mesh, got {type(mesh).__name__}")
        if not (hasattr(material, "pk1_tangent") or isinstance(material, Inelastic)):
            raise TypeError("material: expected a constitutive.Hyperelastic (with pk1_tangent) or a "
                            "state-carrying constitutive.inelastic.Inelastic")
        if formulation not in FORMULATIONS:
            raise ValueError(f"formulation: expected one of {FORMULATIONS}, got {formulation!r}")
        if formulation == "fbar" and mesh.cell_type != "hexahedron":
            raise ValueError("formulation 'fbar' is implemented for linear hexahedra only")
        if getattr(material, "incompressible", False):
            raise ValueError(
                "material: incompressible models need a pressure field; use the compressible "
                "variant with a large bulk modulus (and formulation='fbar' on hexahedra)")
        self.mesh, self.material, self.formulation = mesh, material, formulation
        self.dtype = torch.float64
        self.geometry = Geometry(mesh, quadrature)
        self.dN = torch.from_numpy(self.geometry.dN)
        self.dV = torch.from_numpy(self.geometry.dV)
        self._dN_aqj = self.dN.permute(0, 2, 1, 3).contiguous()  # (ne, nen, nq, 3) for F
        self.ndof = 3 * mesh.npoints
        self.dofs = asm.element_dofs(mesh.cells)
        self.dirichlet: list[Dirichlet] = []
        self.tractions: list[Traction] = []
        self.pressures: list[Pressure] = []
        self.body_forces: list[BodyForce] = []
        self._pattern = None
        self._work: dict[str, torch.Tensor] = {}  # tangent-sized arrays reused every iteration
        #: physical time of load factor 1 (state-carrying materials: dt = duration * dt_load)
        self.duration = 1.0
        #: state-carrying materials: include d(state)/dF in the tangent (False: the frozen-state
        #: tangent, for comparison; Newton then converges linearly)
        self.consistent_tangent = True
        self.reset_state()

    # ------------------------------------------------------------------ definition
    def displace(self, where, value, components=(0, 1, 2), name: str | None = None) -> Dirichlet:
        """Prescribe displacement components on nodes (named set, predicate or indices).

        ``value``: displacement at load factor 1 (scalar or per component, ramped linearly),
        or ``value(X (n, 3), t) -> (n, 3)``.
        """
        bc = Dirichlet(self.mesh.nodes(where), components, value,
                       name or (where if isinstance(where, str) else f"bc{len(self.dirichlet)}"))
        self.dirichlet.append(bc)
        self._pattern = None
        return bc

    def fix(self, where, components=(0, 1, 2), name: str | None = None) -> Dirichlet:
        """Zero displacement of ``components`` on nodes ``where``."""
        return self.displace(where, 0.0, components, name)

    def traction(self, where, traction, name: str = "") -> Traction:
        """Dead traction (3,) per unit reference area on boundary faces within ``where``."""
        load = Traction(self.mesh.faces(where), self.mesh.element.face_type, traction, name)
        self.tractions.append(load)
        return load

    def pressure(self, where, pressure: float, name: str = "") -> Pressure:
        """Follower pressure (positive = compressive) on boundary faces within ``where``."""
        load = Pressure(self.mesh.faces(where), self.mesh.element.face_type, pressure, name)
        self.pressures.append(load)
        self._pattern = None
        return load

    def body_force(self, b) -> BodyForce:
        """Body force per unit reference volume (3,)."""
        load = BodyForce(b)
        self.body_forces.append(load)
        return load

    def reset_state(self) -> None:
        """The virgin state at every quadrature point (state-carrying materials) and t = 0."""
        self.t_committed = 0.0
        self.state = None
        if isinstance(self.material, Inelastic):
            ne, nq = self.dV.shape
            self.state = self.material.initial_state((ne, nq))

    def commit(self, state: State, t: float) -> None:
        """Accept a converged evaluation at load factor ``t``: its state becomes the start of the
        next step (the Newton driver calls this after each converged step only)."""
        if state.internal is not None:
            self.state = state.internal.detach().clone()
        self.t_committed = float(t)

    def solve(self, steps: int = 10, output_dir: str | None = None, name: str = "solution",
              fmt: str = "vtu", plot=None, duration: float | None = None, **kwargs):
        """Solve from load factor 0 to 1 (:func:`constitutive.fem.newton.solve`; keywords
        ``max_iter, rtol, atol, etol, line_search, min_step, linear_solver, predictor,
        verbose``); with ``output_dir`` write the VTU/XDMF series, reaction CSV/JSON and, with
        ``plot=(dirichlet name, component)``, a PNG (:class:`~constitutive.fem.output.Writer`).
        ``duration``: physical time of load factor 1 for state-carrying materials (the load steps
        are the time steps; default 1); the solve starts from the virgin state."""
        if duration is not None:
            if not (isinstance(duration, (int, float)) and duration > 0):
                raise ValueError(f"duration: expected a positive number, got {duration!r}")
            self.duration = float(duration)
        self.reset_state()
        if plot is not None:  # checked before the solve, not after it
            names = [bc.name for bc in self.dirichlet if bc.name]
            if not (isinstance(plot, (tuple, list)) and len(plot) == 2 and plot[0] in names
                    and plot[1] in (0, 1, 2)):
                raise ValueError(f"plot: expected (Dirichlet set name, component 0/1/2) with a name among "
                                 f"{names}, got {plot!r}")
        if output_dir is not None and os.path.exists(output_dir) and not os.path.isdir(output_dir):
            raise ValueError(f"output_dir: {output_dir!r} exists and is not a directory")
        unit = getattr(self.material, "stress_unit", None)
        writer = Writer(output_dir, name, fmt, plot, unit) if output_dir else None
        return solve(self, steps=steps, writer=writer, **kwargs)

    # ------------------------------------------------------------------ DOF bookkeeping
    def setup(self) -> None:
        """Constrained/free DOFs and the sparsity pattern (done once, reused)."""
        if self._pattern is not None:
            return
        fixed = np.zeros(self.ndof, dtype=bool)
        for bc in self.dirichlet:
            fixed[bc.dofs()] = True
        self.fixed = np.flatnonzero(fixed)
        self.free = np.flatnonzero(~fixed)
        if len(self.free) == 0:
            raise ValueError("problem: every DOF is constrained")
        free_modes = free_rigid_body_modes(self.mesh.points, self.fixed)
        if free_modes:
            raise ValueError(
                f"problem: the Dirichlet conditions leave {len(free_modes)} rigid-body mode(s) free "
                f"({'; '.join(free_modes)}): the stiffness is singular and the solution would be an "
                "arbitrary rigid motion; fix more components (problem.fix / problem.displace)")
        self._pattern = asm.SparsityPattern(self.dofs, self.ndof, self.free)
        self._pressure_maps = [self._surface_map(p) for p in self.pressures]

    def _surface_map(self, load) -> np.ndarray:
        """Positions of face-matrix entries in the CSR data (nnz means 'discard')."""
        pat = self._pattern
        index = -np.ones(self.ndof, dtype=np.int64)
        index[self.free] = np.arange(len(self.free))
        loc = index[load.dofs()]
        m = loc.shape[1]
        r = np.broadcast_to(loc[:, :, None], (len(loc), m, m)).ravel()
        c = np.broadcast_to(loc[:, None, :], (len(loc), m, m)).ravel()
        out = np.full(r.shape, pat.nnz, dtype=np.int64)
        keep = (r >= 0) & (c >= 0)
        key = r[keep] * pat.nfree + c[keep]
        pos = np.searchsorted(pat.keys, key)
        if np.any(pat.keys[np.minimum(pos, pat.nnz - 1)] != key):
            raise ValueError("surface load couples DOFs outside the element pattern")
        out[keep] = pos
        return out

    @property
    def symmetric(self) -> bool:
        """The tangent is symmetric unless follower pressure is applied."""
        return not self.pressures

    def prescribed(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(dofs, values) of all Dirichlet conditions at load factor t (later ones win)."""
        dofs = [bc.dofs() for bc in self.dirichlet]
        vals = [bc.values(self.mesh.points, t) for bc in self.dirichlet]
        return np.concatenate(dofs), np.concatenate(vals)

    # ------------------------------------------------------------------ evaluation
    def external_force(self, u: np.ndarray, t: float) -> np.ndarray:
        """External nodal forces at displacement ``u`` and load factor ``t`` (tractions, follower
        pressure on the current faces, body force)."""
        f = np.zeros(self.ndof)
        X = self.mesh.points
        for load in self.tractions:
            f += asm.scatter_vector(load.force(X, t), load.dofs(), self.ndof)
        x = X + u.reshape(-1, 3)
        for load in self.pressures:
            f += asm.scatter_vector(load.force(x, t), load.dofs(), self.ndof)
        for load in self.body_forces:
            N = torch.from_numpy(self.geometry.N)
            fe = torch.einsum("qa,eq,i->eai", N, self.dV, torch.from_numpy(t * load.b))
            f += asm.scatter_vector(fe.reshape(len(self.dofs), -1).numpy(), self.dofs, self.ndof)
        return f

    def kinematics(self, u: np.ndarray) -> torch.Tensor:
        """F at the quadrature points (ne, nq, 3, 3); :class:`ElementInversion` if det F <= 0."""
        u_e = torch.from_numpy(u.reshape(-1, 3)[self.mesh.cells])
        F = asm.deformation_gradient(u_e, self._dN_aqj, node_major=True)
        J = det(F)
        if not bool(torch.all(J > 0.0)):
            bad = int((J <= 0).nonzero()[0, 0])
            raise ElementInversion(f"det F <= 0 in element {bad} (min {float(J.min()):.3g})")
        return F

    def _workspace(self, name: str, shape: tuple[int, ...]) -> torch.Tensor:
        """A float64 work array of ``shape`` kept between evaluations (contents overwritten)."""
        buf = self._work.get(name)
        if buf is None or tuple(buf.shape) != shape:
            buf = self._work[name] = torch.empty(shape, dtype=self.dtype)
        return buf

    def linearize(self, u: np.ndarray, t: float, tangent: bool = True) -> State:
        """Residual (ndof,) and, if ``tangent``, the free-free CSR tangent at ``u``.

        Small problems (fewer than ``SERIAL_BELOW`` quadrature points) run torch on one thread:
        intra-op parallelism only costs synchronisation there (8x slower on a busy machine).
        """
        self.setup()
        n = torch.get_num_threads()
        serial = self.geometry.nqp_total < SERIAL_BELOW and n > 1
        if serial:
            torch.set_num_threads(1)
        try:
            return self._evaluate(u, t, tangent)
        finally:
            if serial:
                torch.set_num_threads(n)

    def _evaluate(self, u: np.ndarray, t: float, tangent: bool) -> State:
        tm = {}
        t0 = time.perf_counter()
        F = self.kinematics(u)
        ne, nq = F.shape[:2]
        fbar = self.formulation == "fbar"
        if fbar:
            Fm, alpha, J, v = fb.mean_dilatation(F, self.dV)
        else:
            Fm = F
        t1 = time.perf_counter()
        internal = None
        if self.state is not None:
            dt = max(t - self.t_committed, 0.0) * self.duration
            P, A, internal = self.material.pk1_tangent_state(Fm.reshape(-1, 3, 3),
                                                             self.state.reshape(ne * nq, -1), dt,
                                                             consistent=self.consistent_tangent)
            internal = internal.reshape(ne, nq, -1)
            A = A.reshape(ne, nq, 3, 3, 3, 3) if tangent else None
        elif tangent:
            # A is consumed below (element matrices), so its 40 MB-per-8000-hexahedra buffer is
            # reused (no page faults); P is kept in the returned state and allocated afresh
            P = torch.empty(ne * nq, 3, 3, dtype=Fm.dtype)
            P, A = self.material.pk1_tangent(Fm.reshape(-1, 3, 3),
                                             out=(P, self._workspace("A", (ne * nq, 3, 3, 3, 3))))
            A = A.reshape(ne, nq, 3, 3, 3, 3)
        else:
            Ff = Fm.reshape(-1, 3, 3)
            if fast.should_use(self.material, Ff, 9, False, None):
                # residual only (the predictor): the compiled P comes with A, which is dropped;
                # still several times faster than the eager P alone, and no element matrices
                P = torch.empty(ne * nq, 3, 3, dtype=Fm.dtype)
                P, _ = self.material.pk1_tangent(Ff, out=(P, self._workspace("A", (ne * nq, 3, 3, 3, 3))))
            else:
                P = self.material.pk1(Ff)
            A = None
        P = P.reshape(ne, nq, 3, 3)
        t2 = time.perf_counter()
        tm["material"] = t2 - t1
        if fbar:
            fe = fb.residual(F, P, alpha, J, v, self.dN, self.dV)
        else:
            fe = asm.element_forces(P, self.dN, self.dV)
        f_int = asm.scatter_vector(fe.reshape(ne, -1).numpy(), self.dofs, self.ndof)
        f_ext = self.external_force(u, t)
        K = None
        if tangent:
            if fbar:
                A_eff, Rk = fb.tangent_parts(F, P, A, alpha, J, v, self.dN, self.dV)
                Ke = asm.element_stiffness(A_eff, self.dN, self.dV) + Rk
            else:
                Ke = asm.element_stiffness(A, self.dN, self.dV, out=self._workspace(
                    "Ke", (ne, self.geometry.nen, 3, 3, self.geometry.nen)))
            data = self._pattern.assemble_data(Ke)
            x = self.mesh.points + u.reshape(-1, 3)
            for load, pos in zip(self.pressures, self._pressure_maps, strict=True):
                data += np.bincount(pos, weights=load.stiffness(x, t).ravel(),
                                    minlength=self._pattern.nnz + 1)[:-1]
            p = self._pattern
            K = sp.csr_matrix((data, p.indices, p.indptr), shape=(p.nfree, p.nfree))
        tm["assembly"] = time.perf_counter() - t2 + (t1 - t0)
        return State(f_int - f_ext, K, Fm, P, f_ext, tm, internal)
