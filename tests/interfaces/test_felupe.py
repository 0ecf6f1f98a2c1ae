"""felupe adapter: our neo-Hooke inside felupe against felupe's own NeoHookeCompressible.

felupe's NeoHookeCompressible is W = mu/2 tr C - mu ln J + lmbda/2 (ln J)^2 (felupe docs), i.e. our
``neo-hooke`` with the default ln J volumetric form (the constant -3 mu/2 does not change P or A).
"""

import numpy as np
import pytest

import materials

fem = pytest.importorskip("felupe")
from constitutive.interfaces.felupe import FelupeMaterial  # noqa: E402

MU, LMBDA = 1.0, 5.0
NEWTON = getattr(fem, "newtonraphson", None) or fem.newtonrhapson  # renamed in felupe 10.2


def _ours():
    return FelupeMaterial(materials.get("neo-hooke", mu=MU, lmbda=LMBDA))


def _random_F(shape=(8, 5), seed=3):
    rng = np.random.default_rng(seed)
    F = np.eye(3)[:, :, None, None] + 0.25 * rng.standard_normal((3, 3, *shape))
    detF = np.linalg.det(np.moveaxis(F, (0, 1), (-2, -1)))
    F[:, 0] *= np.sign(detF)  # flip a column where det F < 0
    return F


def test_gradient_hessian_function_match_felupe_pointwise():
    F = _random_F()
    x = [F, np.zeros((0, 8, 5))]
    ref, ours = fem.NeoHookeCompressible(mu=MU, lmbda=LMBDA), _ours()
    P_ref, P = ref.gradient(x)[0], ours.gradient(x)[0]
    A_ref, A = ref.hessian(x)[0], ours.hessian(x)[0]
    assert P.shape == (3, 3, 8, 5) and A.shape == (3, 3, 3, 3, 8, 5)
    np.testing.assert_allclose(P, P_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(A, A_ref, rtol=1e-12, atol=1e-12)
    W_ref = ref.function(x)[0] - 1.5 * MU  # our W has the -3 mu/2 constant
    np.testing.assert_allclose(ours.function(x)[0], W_ref, rtol=1e-12, atol=1e-12)
    assert ours.gradient(x)[1] is x[1]
    # the tangent cached by gradient() is only reused for the same F
    F2 = F.copy()
    F2[0, 0] += 0.01
    ours.gradient([F2, x[1]])
    np.testing.assert_allclose(ours.hessian(x)[0], A_ref, rtol=1e-12, atol=1e-12)


def _solve_uniaxial(umat, moves=(0.15, 0.3, 0.45, -0.2)):
    """Quarter cube, symmetry planes, clamped loaded face (inhomogeneous), displacement steps."""
    region = fem.RegionHexahedron(fem.Cube(n=4))
    field = fem.FieldContainer([fem.Field(region, dim=3)])
    bnd = fem.dof.uniaxial(field, clamped=True, return_loadcase=False)
    solid = fem.SolidBody(umat, field)
    iterations, displacements = [], []
    for move in moves:
        bnd["move"].value = move
        dof0, dof1 = fem.dof.partition(field, bnd)
        ext0 = fem.dof.apply(field, bnd, dof0)
        res = NEWTON(items=[solid], x0=field, dof1=dof1, dof0=dof0, ext0=ext0, tol=1e-12, verbose=0)
        assert res.success
        iterations.append(res.iterations)
        displacements.append(field[0].values.copy())
    return np.array(displacements), iterations, field.region.mesh.points


@pytest.mark.parametrize("cache", [True, False])
def test_uniaxial_cube_same_displacements_and_iterations(cache):
    u_ref, it_ref, _ = _solve_uniaxial(fem.NeoHookeCompressible(mu=MU, lmbda=LMBDA))
    u, it, _ = _solve_uniaxial(FelupeMaterial(materials.get("neo-hooke", mu=MU, lmbda=LMBDA), cache_tangent=cache))
    assert it == it_ref
    assert np.abs(u_ref[2]).max() > 0.4  # the load was applied
    rel = np.abs(u - u_ref).max() / np.abs(u_ref).max()
    assert rel < 1e-8, rel
    # the deformation is inhomogeneous (clamped face): lateral displacements vary along x
    assert np.ptp(u_ref[2][:, 1]) > 1e-2


def test_bad_x():
    with pytest.raises(ValueError, match="x"):
        _ours().gradient([np.eye(3)])
    with pytest.raises(TypeError, match="material"):
        FelupeMaterial("neo-hooke")
