"""The same boundary-value problem solved by felupe (peer code) and by constitutive.fem must give
the same displacements: same mesh, same element, same quadrature, same compressible
neo-Hookean energy W = mu/2 (I1 - 3) - mu ln J + lmbda/2 (ln J)^2."""

import numpy as np
import pytest

import materials
from constitutive.fem import Problem, box, distort
from constitutive.fem.newton import solve

fem = pytest.importorskip("felupe")

MU, LMBDA = 1.0, 10.0
MOVE = np.array([0.35, 0.10, -0.05])


def solve_felupe(mesh):
    fmesh = fem.Mesh(mesh.points.copy(), mesh.cells.copy(), mesh.cell_type)
    region = {"hexahedron": fem.RegionHexahedron, "tetra": fem.RegionTetra,
              "tetra10": fem.RegionQuadraticTetra}[mesh.cell_type](fmesh)
    field = fem.FieldContainer([fem.Field(region, dim=3)])
    x = mesh.points[:, 0]
    left = fem.Boundary(field[0], mask=np.isclose(x, 0.0))
    right = [fem.Boundary(field[0], mask=np.isclose(x, 1.0), skip=tuple(int(j != i) for j in range(3)),
                          value=MOVE[i]) for i in range(3)]
    solid = fem.SolidBody(fem.NeoHookeCompressible(mu=MU, lmbda=LMBDA), field)
    boundaries = {"left": left, **{f"right{i}": b for i, b in enumerate(right)}}
    ramp = {b: fem.math.linsteps([0, 1], num=3) * MOVE[i] for i, b in enumerate(right)}
    step = fem.Step(items=[solid], ramp=ramp, boundaries=boundaries)
    fem.Job(steps=[step]).evaluate(tol=1e-12, verbose=0)
    return field[0].values


@pytest.mark.parametrize("cell_type", ["hexahedron", "tetra", "tetra10"])
def test_same_displacements_as_felupe(cell_type):
    mesh = distort(box((3, 2, 2), cell_type=cell_type), 0.15, seed=5)
    prob = Problem(mesh, materials.get("neo-hooke", mu=MU, lmbda=LMBDA))
    prob.fix("xmin")
    prob.displace("xmax", MOVE)
    ours = solve(prob, steps=3, rtol=1e-12).u
    theirs = solve_felupe(mesh)
    assert np.abs(ours).max() > 0.3
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
