"""Gauss quadrature rules on the reference cells.

Each rule is a pair ``(points (nq, dim), weights (nq,))``; the weights sum to the reference
volume (8 for the cube [-1, 1]^3, 1/6 for the unit tetrahedron, 4 for the square [-1, 1]^2,
1/2 for the unit triangle).

References: Hughes (2000), The Finite Element Method, tables 3.I.1 and 3.I.2; Zienkiewicz,
Taylor & Zhu (2013), The Finite Element Method, 7th ed., table 6.3 (tetrahedra) and 6.2
(triangles).
"""

from __future__ import annotations

import itertools

import numpy as np

Rule = tuple[np.ndarray, np.ndarray]


def gauss_legendre(n: int) -> Rule:
    """1-D Gauss-Legendre rule with ``n`` points on [-1, 1] (exact to degree 2n - 1)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    x, w = np.polynomial.legendre.leggauss(n)
    return x.reshape(-1, 1), w


def tensor_rule(n: int, dim: int) -> Rule:
    """Tensor-product Gauss rule with ``n`` points per direction on [-1, 1]^dim.

    Points are ordered with the first coordinate varying fastest.
    """
    x, w = gauss_legendre(n)
    x, w = x[:, 0], w
    pts, wts = [], []
    for idx in itertools.product(range(n), repeat=dim):
        idx = idx[::-1]
        pts.append([x[i] for i in idx])
        wts.append(np.prod([w[i] for i in idx]))
    return np.asarray(pts, dtype=float), np.asarray(wts, dtype=float)


def hexahedron(degree: int = 3) -> Rule:
    """Gauss rule on [-1, 1]^3 exact for polynomials of ``degree`` in each coordinate."""
    return tensor_rule(max(1, (degree + 2) // 2), 3)


def quadrilateral(degree: int = 3) -> Rule:
    """Gauss rule on [-1, 1]^2 exact to ``degree`` in each coordinate."""
    return tensor_rule(max(1, (degree + 2) // 2), 2)


def tetrahedron(degree: int = 2) -> Rule:
    """Symmetric rule on the unit tetrahedron (vertices 0, e1, e2, e3).

    degree 1: centroid (1 point); degree 2: 4 points at barycentric (a, b, b, b) with
    a = (5 + 3 sqrt 5)/20, b = (5 - sqrt 5)/20; degree 3: 5 points (one negative weight);
    all weights sum to 1/6.
    """
    if degree <= 1:
        return np.full((1, 3), 0.25), np.array([1.0 / 6.0])
    if degree == 2:
        a, b = (5.0 + 3.0 * np.sqrt(5.0)) / 20.0, (5.0 - np.sqrt(5.0)) / 20.0
        pts = np.array([[b, b, b], [a, b, b], [b, a, b], [b, b, a]])
        return pts, np.full(4, 1.0 / 24.0)
    if degree == 3:
        pts = np.array([[0.25, 0.25, 0.25], [1 / 6, 1 / 6, 1 / 6], [0.5, 1 / 6, 1 / 6],
                        [1 / 6, 0.5, 1 / 6], [1 / 6, 1 / 6, 0.5]])
        w = np.array([-4.0 / 5.0, 9.0 / 20.0, 9.0 / 20.0, 9.0 / 20.0, 9.0 / 20.0]) / 6.0
        return pts, w
    raise ValueError(f"degree: tetrahedron rules available up to 3, got {degree}")


def triangle(degree: int = 2) -> Rule:
    """Symmetric rule on the unit triangle (vertices 0, e1, e2); weights sum to 1/2.

    degree 1: centroid; degree 2: 3 points at barycentric (2/3, 1/6, 1/6);
    degree 3/4: 6-point rule (Dunavant degree 4).
    """
    if degree <= 1:
        return np.full((1, 2), 1.0 / 3.0), np.array([0.5])
    if degree == 2:
        pts = np.array([[1 / 6, 1 / 6], [2 / 3, 1 / 6], [1 / 6, 2 / 3]])
        return pts, np.full(3, 1.0 / 6.0)
    if degree <= 4:
        a1, w1 = 0.445948490915965, 0.223381589678011
        a2, w2 = 0.091576213509771, 0.109951743655322
        pts, w = [], []
        for a, wt in ((a1, w1), (a2, w2)):
            b = 1.0 - 2.0 * a
            pts += [[a, a], [b, a], [a, b]]
            w += [wt] * 3
        w = np.asarray(w)
        return np.asarray(pts), 0.5 * w / w.sum()
    raise ValueError(f"degree: triangle rules available up to 4, got {degree}")
