"""Code generation by branch (leaf programs), the IR rewrite and the disk cache of generated
sources: values, not speed. Principal-stretch models take one of three branches per point; the
compiled kernel runs only the branch of each block of points, and mixed blocks every branch
they need, so every ordering of states must give the eager path's values."""

import math

import numpy as np
import pytest
import torch

import materials
from constitutive import fast, kinematics
from constitutive.checks import random_rotations
from constitutive.fast import stage4_codegen_c as codegen
from constitutive.fast.stage1_trace import trace_program
from constitutive.fast.stage3_ir import UNARY, Builder, plan_branches, rewrite, topo_order

torch.set_default_dtype(torch.float64)
OGDEN = {"mu": [0.63, 0.0012, -0.01], "alpha": [1.3, 5.0, -2.0], "K": 50.0}


def mixed_states(n_each=40, seed=0):
    """E = 0, uniaxial, equibiaxial (rotated), generic and nearly coincident states, shuffled."""
    g = torch.Generator().manual_seed(seed)
    lam = 0.7 + 0.8 * torch.rand(n_each, generator=g)
    one = torch.ones(n_each)
    Q = random_rotations(n_each, g)
    uni = Q @ torch.diag_embed(torch.stack([lam, lam**-0.5, lam**-0.5], -1)) @ Q.mT
    equi = Q @ torch.diag_embed(torch.stack([lam, lam, lam**-2], -1)) @ Q.mT
    near = Q @ torch.diag_embed(torch.stack([one, one + 1e-3 * lam, one + 0.5], -1)) @ Q.mT
    gen = torch.eye(3) + 0.2 * torch.randn(n_each, 3, 3, generator=g)
    gen[:, :, 0] *= torch.sign(torch.linalg.det(gen))[:, None]
    F = torch.cat([torch.eye(3).expand(n_each, 3, 3), uni, equi, near, gen])
    return F[torch.randperm(F.shape[0], generator=g)]


def assert_same(a, b, rtol=1e-12):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=rtol * max(float(b.abs().max()), 1.0))


@pytest.mark.parametrize("order", ["shuffled", "sorted", "blocks"])
def test_ogden_leaves_equal_eager_in_any_order(order):
    """Shuffled (mixed blocks), sorted by branch (uniform blocks, leaf changes between blocks)
    and blocks of 16 alternating branches; both kernels, finite at coincident stretches."""
    mat = materials.get("ogden", **OGDEN)
    F = mixed_states(48)  # 240 states: 15 blocks of 16
    if order != "shuffled":
        C = F.mT @ F
        q = torch.sqrt(((C - C.diagonal(dim1=-2, dim2=-1).mean(-1)[:, None, None] * torch.eye(3)) ** 2).sum((-1, -2)))
        F = F[torch.argsort(q)]
        if order == "blocks":
            F = F.reshape(-1, 16, 3, 3)[torch.randperm(F.shape[0] // 16)].reshape(-1, 3, 3)
    e = kinematics.strain_mandel_from_F(F)
    s0, D0 = mat.stress_tangent_mandel(e, fast=False)
    s1, D1 = mat.stress_tangent_mandel(e, fast=True)
    assert torch.isfinite(D1).all()
    assert_same(s1, s0)
    assert_same(D1, D0)
    P0, A0 = mat.pk1_tangent(F, fast=False)
    P1, A1 = mat.pk1_tangent(F, fast=True)
    assert torch.isfinite(A1).all()
    assert_same(P1, P0)
    assert_same(A1, A0)


def test_ogden_plan_has_three_leaves_and_a_small_generic_one():
    prog = trace_program(materials.get("ogden", **OGDEN), "mandel")
    roots = [int(i) for o in prog.outputs for i in o.reshape(-1)]
    plan = plan_branches(prog.builder, roots)
    sizes = [len(topo_order(nb, nr)) for _, nb, nr in plan.leaves]
    full = len(topo_order(prog.builder, roots))
    assert len(plan.conditions) == 2 and len(sizes) == 3
    assert min(sizes) < 0.3 * full and max(sizes) < 0.6 * full
    # every combination of the conditions maps to a leaf; the generic point (both false)
    # goes to the smallest
    assert plan.leaf_of((False, False)) == int(np.argmin(sizes))
    assert {plan.leaf_of((a, b)) for a in (False, True) for b in (False, True)} == {0, 1, 2}


def test_models_without_costly_branches_keep_one_program():
    for name in ("neo-hooke", "mooney-rivlin", "holzapfel-gasser-ogden"):
        prog = trace_program(materials.get(name), "mandel")
        plan = plan_branches(prog.builder, [int(i) for o in prog.outputs for i in o.reshape(-1)])
        assert len(plan.leaves) == 1 and plan.conditions == []


def _evaluate(builder, roots, x, p):
    """Reference evaluation of a program in Python floats (IEEE where Python raises)."""
    val = {}
    ops = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "div": lambda a, b: a / b if b != 0 else math.copysign(math.inf, a) * math.copysign(1, b),
           "pow": lambda a, b: a**b, "max": max, "min": min, "atan2": math.atan2,
           "gt": lambda a, b: float(a > b), "ge": lambda a, b: float(a >= b), "lt": lambda a, b: float(a < b),
           "le": lambda a, b: float(a <= b), "eq": lambda a, b: float(a == b), "ne": lambda a, b: float(a != b),
           "and": lambda a, b: float(bool(a) and bool(b)), "or": lambda a, b: float(bool(a) or bool(b))}
    for i in topo_order(builder, roots):
        nd = builder.nodes[i]
        op = nd[0]
        if op == "const":
            val[i] = nd[1]
        elif op == "x":
            val[i] = x[nd[1]]
        elif op == "p":
            val[i] = p[nd[1]]
        elif op == "powc":
            val[i] = val[nd[1]] ** nd[2]
        elif op == "where":
            val[i] = val[nd[2]] if val[nd[1]] else val[nd[3]]
        elif op in UNARY:
            val[i] = UNARY[op](val[nd[1]])
        else:
            val[i] = ops[op](val[nd[1]], val[nd[2]])
    return np.array([val[r] for r in roots])


def test_rewrite_keeps_values_and_removes_negations_and_divisions():
    b = Builder()
    x, y, z = (b.input("x", k) for k in range(3))
    exprs = [x + (-y), (-x) * (-y), -(x * -1.0) / y, (x / z) + (y / z), (-x) ** 2.0, (-x) ** 3.0, y / (-z),
             b.where(b.binary("gt", x, y), -x * z, -y * z), x ** -1.0 + (z ** -2.0), -(x - y) - (-z)]
    roots = [e.i for e in exprs]
    nb, nr = rewrite(b, roots)
    ops = [nb.nodes[i][0] for i in topo_order(nb, nr)]
    assert ops.count("div") == 3  # one reciprocal per distinct denominator (x, y, z)
    for pt in ([0.3, -1.7, 2.5], [-2.0, 0.5, -0.25], [1.1, 1.1, 3.0]):
        want = _evaluate(b, roots, pt, [])
        got = _evaluate(nb, nr, pt, [])
        np.testing.assert_allclose(got, want, rtol=1e-15)


def test_rewrite_under_assumptions_is_the_branch_taken():
    """A leaf program (conditions assumed) gives the full program's values at the points where
    its assumptions hold, and every leaf's probes choose the point's leaf (a condition is
    evaluated as in the full program wherever its ancestors in the decision tree hold)."""
    prog = trace_program(materials.get("ogden", mu=[0.7], alpha=[3.0], K=5.0), "mandel")
    roots = [int(i) for o in prog.outputs for i in o.reshape(-1)]
    plan = plan_branches(prog.builder, roots)
    pvals = [0.7, 3.0, 5.0]
    F = mixed_states(3, seed=4)
    for e in kinematics.strain_mandel_from_F(F).tolist():
        full = _evaluate(prog.builder, roots + plan.conditions, e, pvals)
        bits = tuple(bool(v) for v in full[len(roots):])
        _, nb, nr = plan.leaves[plan.leaf_of(bits)]
        leaf = _evaluate(nb, nr, e, pvals)
        np.testing.assert_allclose(leaf[: len(roots)], full[: len(roots)], rtol=1e-13, atol=1e-13)
        for _, ob, orr in plan.leaves:  # the probes of any leaf (the block's current one)
            probe = _evaluate(ob, orr[len(roots):], e, pvals)
            assert plan.leaf_of(tuple(bool(v) for v in probe)) == plan.leaf_of(bits)


def test_pk1_tangent_has_exact_major_symmetry():
    mat = materials.get("ogden", **OGDEN)
    F = mixed_states(8)
    _, A = mat.pk1_tangent(F, fast=True)
    A9 = A.reshape(-1, 9, 9)
    assert torch.equal(A9, A9.mT)


def test_generated_source_is_cached_on_disk(monkeypatch, tmp_path):
    monkeypatch.setenv("CONSTITUTIVE_CACHE_DIR", str(tmp_path))
    prog = trace_program(materials.get("neo-hooke"), "mandel")
    src = codegen.generate_source(prog)
    files = list(tmp_path.glob("src-*.c"))
    assert len(files) == 1 and files[0].read_text() == src

    def boom(*a, **k):
        raise AssertionError("regenerated")

    monkeypatch.setattr(codegen, "build_source", boom)
    assert codegen.generate_source(trace_program(materials.get("neo-hooke"), "mandel")) == src


def test_fast_kernels_still_compile_for_every_model():
    """Every registered model builds both kernels (the rewrite and the planner accept every
    program); values are compared in test_fast.py."""
    for name in materials.available():
        mat = materials.get(name)
        for kind in ("mandel", "pk1"):
            fast.kernel_for(mat, kind, torch.device("cpu"))
