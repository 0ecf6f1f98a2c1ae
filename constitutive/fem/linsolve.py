"""Sparse linear solvers for the Newton corrections ``K du = -R``.

``make_solver(name, symmetric)`` returns an object with ``solve(K, b)``:

* ``"pardiso"`` - MKL PARDISO through ``pypardiso`` (optional extra ``solvers``): symmetric
  indefinite (mtype -2, upper triangle) or nonsymmetric (mtype 11); the symbolic analysis is
  done once per sparsity pattern and reused;
* ``"cholmod"`` - ``scikit-sparse`` CHOLMOD, symbolic analysis reused (SPD only);
* ``"superlu"`` - scipy's SuperLU (always available);
* ``"cg"`` - conjugate gradients (GMRES if nonsymmetric) preconditioned by smoothed-aggregation
  algebraic multigrid (:class:`AMGSolver`, ``pyamg``; scipy's incomplete LU without it);
* ``"auto"`` (default) - :class:`AMGSolver` from ``AMG_MIN_DOFS`` free DOFs on (symmetric
  tangents, pyamg installed), with the best direct solver as its fallback; below that, and for
  nonsymmetric tangents, the fastest available direct solver: pardiso, cholmod, superlu.

Iterative solvers have ``iterative = True`` and accept ``solve(K, b, rtol=...)`` (the Newton
driver passes a forcing term, see :func:`constitutive.fem.newton.solve`).
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

SOLVERS = ("auto", "pardiso", "cholmod", "superlu", "cg")
#: "auto" takes the AMG-preconditioned CG from this many free DOFs on (measured on the 2-core
#: reference machine: PARDISO 0.012 s vs AMG 0.02 s per solve at 3 993 DOFs, 0.35 s vs
#: 0.10 s at 27 783, 3.5 s vs 0.3 s at 89 373; docs/fem.md)
AMG_MIN_DOFS = 15000


def available(name: str) -> bool:
    """Whether the backend for ``name`` can be imported."""
    mod = {"pardiso": "pypardiso", "cholmod": "sksparse", "amg": "pyamg"}.get(name)
    return True if mod is None else importlib.util.find_spec(mod) is not None


def _direct(symmetric: bool):
    if available("pardiso"):
        return PardisoSolver(symmetric)
    if symmetric and available("cholmod"):
        return CholmodSolver()
    return SuperLUSolver(symmetric)


def make_solver(name: str = "auto", symmetric: bool = True, rtol: float = 1e-9):
    """Linear solver by name (see module docstring)."""
    if name not in SOLVERS:
        raise ValueError(f"linear_solver: expected one of {SOLVERS}, got {name!r}")
    if name == "auto":
        return AutoSolver(symmetric)
    if name == "pardiso":
        if not available("pardiso"):
            raise ValueError("linear_solver 'pardiso' needs pypardiso (pip install pypardiso)")
        return PardisoSolver(symmetric)
    if name == "cholmod":
        if not available("cholmod"):
            raise ValueError("linear_solver 'cholmod' needs scikit-sparse")
        if not symmetric:
            return SuperLUSolver(False)
        return CholmodSolver()
    if name == "cg":
        return AMGSolver(symmetric, rtol) if available("amg") else IterativeSolver(symmetric, rtol)
    return SuperLUSolver(symmetric)


class AutoSolver:
    """``"auto"``: AMG-CG for large symmetric problems (direct fallback), else direct; the
    choice is made when the free DOFs are known (:meth:`set_dofs`) or at the first solve."""

    def __init__(self, symmetric: bool):
        self.symmetric = symmetric
        self.impl = None

    def _choose(self, nfree: int) -> None:
        if self.impl is None:
            big = nfree >= AMG_MIN_DOFS and self.symmetric and available("amg")
            self.impl = AMGSolver(True) if big else _direct(self.symmetric)

    def set_dofs(self, points: np.ndarray, free: np.ndarray) -> None:
        """Choose the solver for ``len(free)`` unknowns and pass the DOFs on."""
        self._choose(len(free))
        if hasattr(self.impl, "set_dofs"):
            self.impl.set_dofs(points, free)

    @property
    def name(self) -> str:
        """Name of the chosen solver (``"auto"`` before the choice)."""
        return self.impl.name if self.impl is not None else "auto"

    @property
    def iterative(self) -> bool:
        """Whether the chosen solver is iterative (accepts ``rtol``)."""
        return bool(getattr(self.impl, "iterative", False))

    def solve(self, K: sp.csr_matrix, b: np.ndarray, **kw) -> np.ndarray:
        """``K^-1 b`` by the chosen solver."""
        self._choose(K.shape[0])
        return self.impl.solve(K, b, **kw)


class SuperLUSolver:
    """scipy's SuperLU (always available; slow beyond ~10^4 DOFs in 3D)."""

    name = "superlu"

    def __init__(self, symmetric: bool):
        self.permc = "MMD_AT_PLUS_A" if symmetric else "COLAMD"

    def solve(self, K: sp.csr_matrix, b: np.ndarray) -> np.ndarray:
        """``K^-1 b`` (a fresh factorisation)."""
        return spla.splu(K.tocsc(), permc_spec=self.permc).solve(b)


class PardisoSolver:
    """PARDISO with the symbolic analysis (phase 11) reused while the pattern is unchanged."""

    name = "pardiso"

    def __init__(self, symmetric: bool):
        import pypardiso

        self.symmetric = symmetric
        self.factorizations = 0
        self._factor = None
        self.solver = pypardiso.PyPardisoSolver(mtype=-2 if symmetric else 11)
        self.solver.set_iparm(1, 1)   # use non-default iparms below
        self.solver.set_iparm(2, 3)   # parallel nested dissection (1.17 s vs 1.24 s, 27k DOFs)
        self.solver.set_iparm(10, 8)  # pivot perturbation 1e-8
        self.solver.set_iparm(13, 0 if symmetric else 1)  # weighted matching only if nonsymmetric
        self._pattern = None

    def _upper(self, K: sp.csr_matrix):
        if self._pattern is None or not (
            np.array_equal(self._pattern[0], K.indptr) and np.array_equal(self._pattern[1], K.indices)
        ):
            rows = np.repeat(np.arange(K.shape[0]), np.diff(K.indptr))
            keep = K.indices >= rows
            indptr = np.zeros(K.shape[0] + 1, dtype=np.int32)
            np.cumsum(np.bincount(rows[keep], minlength=K.shape[0]), out=indptr[1:])
            self._pattern = (K.indptr.copy(), K.indices.copy(), keep, indptr, K.indices[keep].copy())
            self._analysed = False
        _, _, keep, indptr, indices = self._pattern
        return sp.csr_matrix((K.data[keep], indices, indptr), shape=K.shape)

    def solve(self, K: sp.csr_matrix, b: np.ndarray) -> np.ndarray:
        """``K^-1 b``: numerical factorisation and solve, symbolic analysis reused."""
        if self.symmetric:
            A = self._upper(K)
        else:
            A = K if K.has_sorted_indices else K.sorted_indices()
            key = (A.indptr, A.indices)
            same = self._pattern is not None and all(
                np.array_equal(x, y) for x, y in zip(self._pattern, key, strict=True))
            if not same:
                self._pattern = (A.indptr.copy(), A.indices.copy())
                self._analysed = False
        s = self.solver
        s._check_A(A)
        rhs = np.asarray(b, dtype=float)
        if not self._analysed:
            self._call(11, A, rhs)
            self._analysed = True
            self._factor = None
        x = self._call(23, A, rhs)
        self.factorizations += 1
        return x.reshape(np.shape(b))

    def _call(self, phase: int, A, b: np.ndarray) -> np.ndarray:
        """One PARDISO call. The arrays of the factorised matrix are kept alive: PARDISO may
        refer to them again in later solve-only calls (iterative refinement)."""
        import ctypes

        arrays = (np.ascontiguousarray(A.data, dtype=np.float64), A.indptr.astype(np.int32) + 1,
                  A.indices.astype(np.int32) + 1)
        if phase == 33 and self._factor is not None:
            arrays = self._factor
        elif phase in (22, 23):
            self._factor = arrays
        data, ia, ja = arrays
        b = np.ascontiguousarray(b, dtype=np.float64)
        x = np.zeros_like(b)
        err = ctypes.c_int32(0)
        s, i32 = self.solver, ctypes.POINTER(ctypes.c_int32)
        s._mkl_pardiso(s.pt.ctypes.data_as(ctypes.POINTER(s._pt_type[0])), ctypes.byref(ctypes.c_int32(1)),
                       ctypes.byref(ctypes.c_int32(1)), ctypes.byref(ctypes.c_int32(s.mtype)),
                       ctypes.byref(ctypes.c_int32(phase)), ctypes.byref(ctypes.c_int32(A.shape[0])),
                       data.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), ia.ctypes.data_as(i32),
                       ja.ctypes.data_as(i32), s.perm.ctypes.data_as(i32), ctypes.byref(ctypes.c_int32(1)),
                       s.iparm.ctypes.data_as(i32), ctypes.byref(ctypes.c_int32(s.msglvl)),
                       b.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
                       x.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), ctypes.byref(err))
        if err.value != 0:
            raise RuntimeError(f"PARDISO phase {phase} failed with error {err.value}")
        return x


class CholmodSolver:
    """CHOLMOD (scikit-sparse) with the symbolic factorisation reused."""

    name = "cholmod"

    def __init__(self):
        self._factor = None
        self._key = None

    def solve(self, K: sp.csr_matrix, b: np.ndarray) -> np.ndarray:
        """``K^-1 b`` (Cholesky, symbolic factorisation reused)."""
        from sksparse.cholmod import cholesky

        A = K.tocsc()
        key = (A.shape, A.nnz)
        if self._factor is None or key != self._key:
            self._factor, self._key = cholesky(A), key
        else:
            self._factor.cholesky_inplace(A)
        return self._factor(b)


class IterativeSolver:
    """scipy CG (GMRES if nonsymmetric) with an incomplete-LU preconditioner (without pyamg)."""

    name = "cg+ilu"
    iterative = True

    def __init__(self, symmetric: bool, rtol: float):
        self.symmetric, self.rtol = symmetric, rtol
        self.iterations: list[int] = []

    def solve(self, K: sp.csr_matrix, b: np.ndarray, rtol: float | None = None) -> np.ndarray:
        """``K^-1 b`` to ``rtol`` relative (default: the solver's)."""
        count = [0]

        def cb(_):
            count[0] += 1

        ilu = spla.spilu(K.tocsc(), drop_tol=1e-5, fill_factor=10)
        M = spla.LinearOperator(K.shape, ilu.solve)
        method = spla.cg if self.symmetric else spla.gmres
        extra = {} if self.symmetric else {"callback_type": "pr_norm"}
        x, info = method(K, b, rtol=self.rtol if rtol is None else rtol, atol=0.0, M=M, maxiter=2000,
                         callback=cb, **extra)
        self.iterations.append(count[0])
        if info != 0:
            raise RuntimeError(f"iterative solver did not converge (info={info})")
        return x


def rigid_body_modes(points: np.ndarray, dofs: np.ndarray) -> np.ndarray:
    """The six rigid-body modes (3 translations, 3 rotations about the centroid) restricted to
    ``dofs`` (node-major ``3 a + i``): the near-nullspace of an elasticity tangent, (n, 6)."""
    node, comp = dofs // 3, dofs % 3
    X = points[node] - points.mean(axis=0)
    B = np.zeros((len(dofs), 6))
    for c in range(3):
        B[comp == c, c] = 1.0
    x, y, z = X.T
    B[:, 3] = np.where(comp == 0, -y, np.where(comp == 1, x, 0.0))
    B[:, 4] = np.where(comp == 1, -z, np.where(comp == 2, y, 0.0))
    B[:, 5] = np.where(comp == 2, -x, np.where(comp == 0, z, 0.0))
    return B


class AMGSolver:
    """Conjugate gradients preconditioned by smoothed-aggregation multigrid, the hierarchy kept
    across Newton iterations and load steps while it still converges fast; a direct solver
    when it does not.

    * Setup (``pyamg.smoothed_aggregation_solver``): aggregation of the free DOFs with the six
      rigid-body modes as near-nullspace (:meth:`set_dofs`), Jacobi-smoothed prolongators,
      Galerkin coarse operators down to ``max_coarse`` unknowns (dense Cholesky there).
    * Cycle (:class:`_Hierarchy`, our own): a V-cycle with Chebyshev smoothing of degree 2
      (Jacobi-scaled, on ``[lambda_max / 30, 1.1 lambda_max]`` of ``D^-1 A``): two matrix-vector
      products per smoothing and no sequential sweep. On the finest level it works on the
      current tangent; the coarse levels are those of the last setup.
    * Reuse: the setup of one tangent preconditions the later ones; it is repeated when CG
      needs more than ``rebuild_factor`` times the iterations per decade of residual reduction
      it needed right after the setup, or when CG fails (then the solve is retried once).
    * Fallback: where multigrid does not suit the tangent (nearly incompressible solids: F-bar
      with ``K / mu = 1000`` needed 170 CG iterations per solve), the solve and all later ones
      go to ``fallback`` (by default the best direct solver): after a failed retry, or when a
      fresh setup needs more than ``max_rate`` iterations per decade.
    * CG itself (:func:`pcg`): own loop, dot products without BLAS threads (which cost more than
      the products on a shared 2-core machine).

    Measured on the 20^3 / 30^3 unit-cube benchmark (``benchmarks/fem.py``): 18 CG iterations
    to 1e-8 at 23 ms each (30^3, 89k DOFs; ``pyamg``'s own cycle with Gauss-Seidel smoothing:
    70-130 ms each), setup 1.2 s, one setup for the whole solve.

    Reference: Vanek, Mandel & Brezina (1996), Computing 56:179 (smoothed aggregation);
    Adams, Brezina, Hu & Tuminaro (2003), J. Comput. Phys. 188:593 (Chebyshev smoothers).
    """

    iterative = True

    def __init__(self, symmetric: bool = True, rtol: float = 1e-9, fallback=None, max_iter: int = 200,
                 rebuild_factor: float = 1.6, max_coarse: int = 300, max_rate: float = 10.0):
        self.symmetric, self.rtol, self.max_iter = symmetric, rtol, max_iter
        self.rebuild_factor, self.max_coarse, self.max_rate = rebuild_factor, max_coarse, max_rate
        self.direct_only = False
        self._fallback = fallback
        self.B = None
        self.hierarchy = None
        self.iterations: list[int] = []
        self.setups = self.direct_solves = 0
        self._rate = None  # CG iterations per decade right after the last setup
        self._stale = False

    def set_dofs(self, points: np.ndarray, free: np.ndarray) -> None:
        """Rigid-body modes of the free DOFs (near-nullspace for smoothed aggregation)."""
        self.B = rigid_body_modes(points, free)

    def _setup(self, A: sp.csr_matrix) -> None:
        B = self.B if self.B is not None and self.B.shape[0] == A.shape[0] else None
        self.hierarchy = _Hierarchy(A, B, self.max_coarse)
        self.setups += 1
        self._rate, self._stale = None, False

    def solve(self, K: sp.csr_matrix, b: np.ndarray, rtol: float | None = None) -> np.ndarray:
        """``K^-1 b`` to ``|K x - b| <= rtol |b|`` (default: the solver's ``rtol``)."""
        rtol = self.rtol if rtol is None else float(rtol)
        b = np.asarray(b, dtype=float)
        if self.direct_only:
            return self._direct(K, b)
        A = sp.csr_matrix(K) if self.symmetric else sp.csr_matrix(0.5 * (K + K.T))
        for _ in range(2):
            if self.hierarchy is None or self._stale or self.hierarchy.n != K.shape[0]:
                self._setup(A)
            else:
                self.hierarchy.update(A)
            if self.symmetric:
                x, its = pcg(K, b, self.hierarchy, rtol, self.max_iter)
            else:
                x, its = _gmres(K, b, self.hierarchy, rtol, self.max_iter)
            if its >= 0:
                self.iterations.append(its)
                rate = its / max(1.0, -math.log10(max(rtol, 1e-300)))
                if self._rate is None:
                    self._rate = rate
                    self.direct_only = rate > self.max_rate  # multigrid does not suit these tangents
                elif rate > self.rebuild_factor * self._rate + 0.5:
                    self._stale = True  # converged, but the next solve gets a fresh setup
                return x
            self.iterations.append(self.max_iter)
            self._stale = True
        self.direct_only = True
        return self._direct(K, b)

    @property
    def name(self) -> str:
        """``"cg+amg"``, or the direct solver's name once the solves went to it."""
        if self.direct_only and self._fallback is not None:
            return f"{self._fallback.name} (after cg+amg)"
        return "cg+amg"

    def _direct(self, K, b):
        self.direct_solves += 1
        if self._fallback is None:
            self._fallback = _direct(self.symmetric)
        return self._fallback.solve(K, b)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.einsum("i,i->", a, b))


def pcg(A, b: np.ndarray, M, rtol: float, max_iter: int) -> tuple[np.ndarray, int]:
    """Preconditioned conjugate gradients from ``x = 0`` until ``|b - A x| <= rtol |b|``.
    Returns ``(x, iterations)``, iterations ``-1`` if ``max_iter`` was not enough."""
    x = np.zeros_like(b)
    r = b.copy()
    nb = math.sqrt(_dot(b, b))
    if nb == 0.0:
        return x, 0
    z = M(r)
    p = z.copy()
    rz = _dot(r, z)
    for k in range(1, max_iter + 1):
        q = A @ p
        alpha = rz / _dot(p, q)
        x += alpha * p
        r -= alpha * q
        if math.sqrt(_dot(r, r)) <= rtol * nb:
            return x, k
        z = M(r)
        rz_new = _dot(r, z)
        p *= rz_new / rz
        p += z
        rz = rz_new
    return x, -1


def _gmres(A, b, M, rtol, max_iter):
    count = [0]

    def cb(_):
        count[0] += 1

    op = spla.LinearOperator(A.shape, M, dtype=float)
    x, info = spla.gmres(A, b, rtol=rtol, atol=0.0, M=op, maxiter=max_iter, restart=60, callback=cb,
                         callback_type="pr_norm")
    return x, (count[0] if info == 0 else -1)


class _Level:
    """One level of the V-cycle: matrix, inverse diagonal, Chebyshev interval, transfers."""

    def __init__(self, A, P=None):
        self.P = None if P is None else sp.csr_matrix(P)
        self.R = None if P is None else sp.csr_matrix(P.T)
        self.v = np.random.default_rng(0).standard_normal(A.shape[0])
        self.set_matrix(sp.csr_matrix(A), 15)

    def set_matrix(self, A: sp.csr_matrix, power_steps: int = 6) -> None:
        """A new matrix on this level; ``lambda_max(D^-1 A)`` by power steps warm-started from
        the previous dominant vector (an underestimate would let Chebyshev amplify the modes
        above it: 8 cold steps cost 2.5x the CG iterations on the 20^3 benchmark)."""
        self.A = A
        d = A.diagonal()
        self.dinv = 1.0 / np.where(d != 0.0, d, 1.0)
        lam, self.v = _spectral_radius(A, self.dinv, self.v, power_steps)
        self.hi, self.lo = 1.1 * lam, 1.1 * lam / 30.0

    def smooth(self, x: np.ndarray | None, b: np.ndarray, degree: int = 2) -> np.ndarray:
        """Chebyshev iteration of ``degree`` steps for ``A x = b`` (``x = None``: from zero)."""
        theta, delta = 0.5 * (self.hi + self.lo), 0.5 * (self.hi - self.lo)
        sigma = theta / delta
        rho = 1.0 / sigma
        if x is None:
            x, r = np.zeros_like(b), b.copy()
        else:
            r = b - self.A @ x
        d = (self.dinv / theta) * r
        for k in range(degree):
            x += d
            if k == degree - 1:
                break
            r -= self.A @ d
            rho_new = 1.0 / (2.0 * sigma - rho)
            d *= rho_new * rho
            d += (2.0 * rho_new / delta) * (self.dinv * r)
            rho = rho_new
        return x


def _spectral_radius(A, dinv, v: np.ndarray, steps: int) -> tuple[float, np.ndarray]:
    """Power-iteration estimate of the largest eigenvalue of ``D^-1 A`` from ``v``; returns the
    estimate and the last iterate (to warm-start the next estimate)."""
    lam = 1.0
    for _ in range(steps):
        w = dinv * (A @ v)
        nw = math.sqrt(_dot(w, w))
        if nw == 0.0:
            return 1.0, v
        lam = nw / math.sqrt(_dot(v, v))
        v = w / nw
    return lam, v


class _Hierarchy:
    """Smoothed-aggregation hierarchy (pyamg setup) applied as a Chebyshev V-cycle."""

    def __init__(self, A: sp.csr_matrix, B: np.ndarray | None, max_coarse: int):
        import pyamg

        ml = pyamg.smoothed_aggregation_solver(
            A, B=B, symmetry="symmetric", max_coarse=max_coarse, coarse_solver="splu",
            improve_candidates=None, presmoother=None, postsmoother=None)
        L = ml.levels
        self.n = A.shape[0]
        self.levels = [_Level(L[k].A, L[k].P) for k in range(len(L) - 1)]
        coarse = L[-1].A.toarray()
        try:
            self._coarse = ("cho", sla.cho_factor(coarse))
        except np.linalg.LinAlgError:  # not positive definite (near an instability)
            self._coarse = ("lu", sla.lu_factor(coarse))

    def update(self, A: sp.csr_matrix) -> None:
        """Use the current tangent on the finest level (the coarse levels are kept)."""
        if self.levels and A is not self.levels[0].A:
            self.levels[0].set_matrix(A)

    def _solve_coarse(self, b):
        kind, f = self._coarse
        return sla.cho_solve(f, b) if kind == "cho" else sla.lu_solve(f, b)

    def __call__(self, b: np.ndarray, k: int = 0) -> np.ndarray:
        if k == len(self.levels):
            return self._solve_coarse(b)
        lv = self.levels[k]
        x = lv.smooth(None, b)
        r = b - lv.A @ x
        x += lv.P @ self(lv.R @ r, k + 1)
        return lv.smooth(x, b)
