"""scikit-fem helpers: consistent tangent, and the same nonlinear problem solved in felupe."""

import numpy as np
import pytest

import materials

skfem = pytest.importorskip("skfem")
from skfem import Basis, ElementHex1, ElementVector, MeshHex, condense, solve  # noqa: E402

from constitutive.interfaces.skfem import SkfemHyperelastic, deformation_gradient  # noqa: E402

MU, LMBDA = 1.0, 5.0
MOVES = (0.15, 0.3, 0.45, -0.2)


def _setup(n=4):
    x = np.linspace(0.0, 1.0, n)
    mesh = MeshHex.init_tensor(x, x, x)
    basis = Basis(mesh, ElementVector(ElementHex1()), intorder=3)  # 2x2x2 Gauss, as felupe
    return mesh, basis, SkfemHyperelastic(materials.get("neo-hooke", mu=MU, lmbda=LMBDA), basis)


def _dofs(basis, comp, where):
    return basis.get_dofs(where).nodal[f"u^{comp + 1}"]


def test_tangent_is_derivative_of_residual():
    _, basis, hyper = _setup(3)
    rng = np.random.default_rng(0)
    u = 0.05 * rng.standard_normal(basis.N)
    du = rng.standard_normal(basis.N)
    K, _ = hyper.assemble(u)
    h = 1e-6
    fd = (hyper.residual(u + h * du) - hyper.residual(u - h * du)) / (2 * h)
    np.testing.assert_allclose(K @ du, fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max())
    F = deformation_gradient(basis, u)
    assert F.shape == (3, 3, basis.nelems, 8)


def _solve_skfem():
    mesh, basis, hyper = _setup()
    at = {0: lambda p: np.isclose(p[0], 0.0), 1: lambda p: np.isclose(p[1], 0.0), 2: lambda p: np.isclose(p[2], 0.0)}
    right = lambda p: np.isclose(p[0], 1.0)  # noqa: E731
    move_dofs = _dofs(basis, 0, right)
    D = np.unique(np.concatenate([_dofs(basis, c, at[c]) for c in range(3)]
                                 + [_dofs(basis, 1, right), _dofs(basis, 2, right), move_dofs]))
    free = np.setdiff1d(np.arange(basis.N), D)
    u = np.zeros(basis.N)
    iterations, displacements = [], []
    for move in MOVES:
        xD = np.zeros(basis.N)
        xD[move_dofs] = move - u[move_dofs]  # prescribed increment in the first iteration
        for it in range(1, 20):  # noqa: B007 (used after the loop)
            K, r = hyper.assemble(u)
            u += solve(*condense(K, -r, x=xD, D=D))
            xD[:] = 0.0
            r = hyper.residual(u)
            if np.linalg.norm(r[free]) / (1e-3 + np.linalg.norm(r[D])) < 1e-12:  # felupe's criterion
                break
        iterations.append(it)
        displacements.append(u[basis.nodal_dofs].T.copy())
    return np.array(displacements), iterations, mesh.p.T


def _solve_felupe():
    """The same problem in felupe with felupe's own NeoHookeCompressible."""
    fem = pytest.importorskip("felupe")
    region = fem.RegionHexahedron(fem.Cube(n=4))
    field = fem.FieldContainer([fem.Field(region, dim=3)])
    bnd = fem.dof.uniaxial(field, clamped=True, return_loadcase=False)
    solid = fem.SolidBody(fem.NeoHookeCompressible(mu=MU, lmbda=LMBDA), field)
    iterations, displacements = [], []
    for move in MOVES:
        bnd["move"].value = move
        dof0, dof1 = fem.dof.partition(field, bnd)
        ext0 = fem.dof.apply(field, bnd, dof0)
        newton = getattr(fem, "newtonraphson", None) or fem.newtonrhapson  # renamed in felupe 10.2
        res = newton(items=[solid], x0=field, dof1=dof1, dof0=dof0, ext0=ext0, tol=1e-12, verbose=0)
        iterations.append(res.iterations)
        displacements.append(field[0].values.copy())
    return np.array(displacements), iterations, region.mesh.points


def _order(points):
    return np.lexsort(np.round(points, 9).T[::-1])


def test_same_problem_as_felupe():
    u_ref, it_ref, pts_ref = _solve_felupe()
    u, it, pts = _solve_skfem()
    i_ref, i = _order(pts_ref), _order(pts)
    np.testing.assert_allclose(pts[i], pts_ref[i_ref], atol=1e-14)
    rel = np.abs(u[:, i] - u_ref[:, i_ref]).max() / np.abs(u_ref).max()
    assert rel < 1e-8, rel
    assert it == it_ref


def test_bad_material():
    _, basis, _ = _setup(2)
    with pytest.raises(TypeError, match="material"):
        SkfemHyperelastic("neo-hooke", basis)
