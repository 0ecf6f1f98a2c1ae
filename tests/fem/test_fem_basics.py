"""FE driver building blocks: shape functions, quadrature, meshes, surfaces, meshio I/O."""

import numpy as np
import pytest

from constitutive.fem import Mesh, box, cook_membrane_mesh, distort, quadrature
from constitutive.fem.boundary import Pressure, SurfaceLoad
from constitutive.fem.elements import ELEMENTS, get_element

pytest.importorskip("meshio")


@pytest.mark.parametrize("name", sorted(ELEMENTS))
def test_shape_functions_interpolate_and_gradients_match_fd(name, rng):
    el = ELEMENTS[name]
    N, _ = el.shape_functions(el.nodes)
    np.testing.assert_allclose(N, np.eye(el.nen), atol=1e-14)
    xi = el.center() + 0.1 * rng.uniform(-1, 1, (5, el.dim))
    N, dN = el.shape_functions(xi)
    np.testing.assert_allclose(N.sum(1), 1.0, atol=1e-14)
    # polynomial completeness: sum_a N_a X_a = xi for the reference nodes
    np.testing.assert_allclose(N @ el.nodes, xi, atol=1e-14)
    h = 1e-6
    for d in range(el.dim):
        e = np.zeros(el.dim)
        e[d] = h
        fd = (el.shape_functions(xi + e)[0] - el.shape_functions(xi - e)[0]) / (2 * h)
        np.testing.assert_allclose(dN[..., d], fd, atol=1e-8)


@pytest.mark.parametrize("rule,degree,volume", [
    (quadrature.hexahedron, 3, 8.0), (quadrature.tetrahedron, 2, 1 / 6),
    (quadrature.tetrahedron, 3, 1 / 6), (quadrature.triangle, 2, 0.5), (quadrature.triangle, 4, 0.5),
    (quadrature.quadrilateral, 3, 4.0),
])
def test_quadrature_exact_for_monomials(rule, degree, volume):
    pts, w = rule(degree)
    assert w.sum() == pytest.approx(volume, rel=1e-13)
    dim = pts.shape[1]
    simplex = volume < 1
    from math import factorial
    for total in range(degree + 1):
        for p in range(total + 1):
            exps = (p, total - p, 0) if dim == 3 else (p, total - p)
            val = (w * np.prod(pts ** np.array(exps), axis=1)).sum()
            if simplex:  # int x^a y^b z^c over the unit simplex = a! b! c! / (a+b+c+dim)!
                exact = np.prod([factorial(k) for k in exps]) / factorial(sum(exps) + dim)
            else:
                exact = np.prod([(1 - (-1) ** (k + 1)) / (k + 1) for k in exps])
            assert val == pytest.approx(exact, abs=1e-12)


@pytest.mark.parametrize("cell_type", ["hexahedron", "tetra", "tetra10"])
def test_box_volume_and_outward_normals(cell_type):
    m = distort(box((2, 3, 2), (1.0, 2.0, 0.5), cell_type=cell_type), 0.2, seed=3)
    assert m.volume() == pytest.approx(1.0, rel=1e-12)
    faces, _ = m.boundary_faces()
    load = SurfaceLoad(faces, m.element.face_type)
    t1, t2 = load.tangents(m.points)
    n = np.cross(t1, t2) * load.w[:, None]
    Xq = np.einsum("fai,qa->fqi", m.points[faces], load.N)
    # divergence theorem: closed surface sum n dA = 0, int X . n dA = 3 V
    np.testing.assert_allclose(n.sum((0, 1)), 0.0, atol=1e-12)
    assert (Xq * n).sum() == pytest.approx(3.0 * m.volume(), rel=1e-12)
    assert load.area(m.points) == pytest.approx(2 * (2 + 0.5 + 1), rel=1e-12)


def test_cook_membrane_geometry():
    m = cook_membrane_mesh((4, 4, 1), thickness=1.0)
    # trapezoid area: (44 + 16) / 2 * 48
    assert m.volume() == pytest.approx(0.5 * (44 + 16) * 48, rel=1e-12)
    assert np.allclose(m.points[m.point_sets["loaded"], 0], 48.0)


def test_faces_pressure_force_is_pressure_times_area():
    m = box(2, size=2.0)
    p = Pressure(m.faces("xmax"), "quad", 3.0)
    f = p.force(m.points, 1.0).reshape(-1, 3).sum(0)
    np.testing.assert_allclose(f, [-3.0 * 4.0, 0, 0], atol=1e-12)


def test_mesh_rejects_bad_input():
    with pytest.raises(ValueError, match="points"):
        Mesh(np.zeros((4, 2)), np.zeros((1, 4), int), "tetra")
    with pytest.raises(ValueError, match="cells"):
        Mesh(np.zeros((4, 3)), np.zeros((1, 3), int), "tetra")
    with pytest.raises(ValueError, match="cell_type"):
        get_element("wedge")
    with pytest.raises(ValueError, match="det"):  # inverted element
        Mesh(np.array([[0, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1.0]]), [[0, 1, 2, 3]], "tetra").volume()
    m = box(1)
    with pytest.raises(ValueError, match="unknown node set"):
        m.nodes("nowhere")
    with pytest.raises(ValueError, match="no node"):
        m.nodes(lambda X: X[:, 0] > 5)


@pytest.mark.parametrize("suffix", [".vtu", ".msh"])
@pytest.mark.parametrize("cell_type", ["hexahedron", "tetra10"])
def test_meshio_roundtrip(tmp_path, suffix, cell_type):
    m = box((2, 1, 1), cell_type=cell_type)
    path = tmp_path / f"m{suffix}"
    m.write(path, point_data={"u": m.points.copy()})
    back = Mesh.read(path)
    assert back.cell_type == m.cell_type
    np.testing.assert_allclose(back.points, m.points)
    np.testing.assert_array_equal(back.cells, m.cells)
    assert back.volume() == pytest.approx(m.volume())


@pytest.mark.parametrize("nen, nq, g", [(8, 8, 3), (4, 1, 3), (10, 4, 3), (8, 8, 6)])
def test_compiled_element_stiffness_equals_the_index_sums(nen, nq, g):
    """The C kernel and the torch products both equal K[e,a,i,k,b] = sum_q dN_aJ A_iJkL dN_bL dV,
    written here as a plain einsum (hexahedra, tetrahedra, quadratic tetrahedra, F-bar's g = 6)."""
    import torch

    from constitutive.fem import assembly, ckernel
    from constitutive.native import compiler

    rng = np.random.default_rng(nen * 100 + g)
    ne = 150
    A = torch.from_numpy(rng.standard_normal((ne, nq, 3, g, 3, g)))
    dN = torch.from_numpy(rng.standard_normal((ne, nq, nen, g)))
    dV = torch.from_numpy(rng.uniform(0.1, 1.0, (ne, nq)))
    ref = torch.einsum("eqaJ,eqiJkL,eqbL,eq->eaikb", dN, A, dN, dV)
    used = assembly.element_stiffness(A, dN, dV)
    np.testing.assert_allclose(used.numpy(), ref.numpy(), rtol=0, atol=1e-13 * float(ref.abs().max()))
    if compiler() is None:
        pytest.skip("no C compiler: the torch path was checked")
    np.testing.assert_allclose(ckernel.element_stiffness_c(A, dN, dV).numpy(), ref.numpy(),
                               rtol=0, atol=1e-13 * float(ref.abs().max()))
    from constitutive import fast

    with fast.disabled():
        torch_path = assembly.element_stiffness(A, dN, dV)
    np.testing.assert_allclose(torch_path.numpy(), ref.numpy(), rtol=0, atol=1e-13 * float(ref.abs().max()))


def test_compiled_element_stiffness_out_argument():
    """``out`` is filled in place (same values as a fresh array); a wrong buffer is refused."""
    import torch

    from constitutive.fem import ckernel
    from constitutive.native import compiler

    if compiler() is None:
        pytest.skip("no C compiler")
    rng = np.random.default_rng(3)
    A = torch.from_numpy(rng.standard_normal((70, 8, 3, 3, 3, 3)))
    dN = torch.from_numpy(rng.standard_normal((70, 8, 8, 3)))
    dV = torch.from_numpy(rng.uniform(0.1, 1.0, (70, 8)))
    out = torch.full((70, 8, 3, 3, 8), np.nan)
    K = ckernel.element_stiffness_c(A, dN, dV, out=out)
    assert K.data_ptr() == out.data_ptr()
    np.testing.assert_array_equal(out.numpy(), ckernel.element_stiffness_c(A, dN, dV).numpy())
    with pytest.raises(ValueError, match="out: expected a contiguous float64 tensor of shape"):
        ckernel.element_stiffness_c(A, dN, dV, out=torch.empty(70, 8, 3, 3, 7))
