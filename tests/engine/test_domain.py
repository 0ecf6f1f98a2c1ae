"""constitutive.domain.require: one primitive for out-of-domain energies, eager and compiled."""

import pytest
import torch

from constitutive import DomainError, Hyperelastic, fast, param, require
from constitutive.invariants import I1


class Bounded(Hyperelastic):
    """W = -mu/2 ln(1 - (I1 - 3)/a): defined only where I1 - 3 < a (a Gent-like toy)."""

    mu: float = param(1.0, bounds=(0.0, None), unit="stress")
    a: float = param(0.5, bounds=(0.0, None), unit="-")

    def energy(self, E):
        x = (I1(E) - 3.0) / self.a
        require(x < 1.0, "Bounded: I1 - 3 reached a")
        return -0.5 * self.mu * torch.log1p(-x)


def _strains(n, bad):
    e = torch.zeros(n, 6)
    e[:, 0] = 0.01
    e[bad, 0] = 1.0  # I1 - 3 = 2 tr E = 2 > a
    return e


def test_require_raises_with_count_and_first_index():
    with pytest.raises(DomainError, match=r"Bounded: I1 - 3 reached a at 2 point\(s\) \(first at index \(3\)\)"):
        Bounded().stress_mandel(_strains(10, [3, 7]))
    assert issubclass(DomainError, ValueError)


def test_require_passes_inside_the_domain():
    s = Bounded().stress_mandel(_strains(10, []))
    assert torch.isfinite(s).all()


def test_batch_index_is_reported_in_the_batch_shape():
    e = _strains(12, [7]).reshape(3, 4, 6)
    with pytest.raises(DomainError, match=r"first at index \(1, 3\)"):
        Bounded().stress_tangent_mandel(e, fast=False)


@pytest.mark.parametrize("kind", ["mandel", "pk1"])
def test_compiled_kernel_raises_the_same_error(kind):
    """The traced condition is a kernel output; the fast path raises word for word the eager error."""
    mat = Bounded()
    e = _strains(fast.MIN_POINTS + 5, [11, 12, 2000])
    F = torch.linalg.cholesky(torch.eye(3) + 2 * torch.diag_embed(e[:, :3])).transpose(-1, -2)
    x = e if kind == "mandel" else F
    call = mat.stress_tangent_mandel if kind == "mandel" else mat.pk1_tangent
    with pytest.raises(DomainError) as eager:
        call(x, fast=False)
    with pytest.raises(DomainError) as compiled:
        call(x, fast=True)
    assert str(compiled.value) == str(eager.value)
    assert "at 3 point(s) (first at index (11))" in str(eager.value)
    assert any(k["material"] == "Bounded" and k["kind"] == kind for k in fast.info())


def test_inside_the_domain_the_kernel_equals_eager():
    mat = Bounded()
    e = 0.02 * torch.rand(fast.MIN_POINTS + 5, 6, generator=torch.Generator().manual_seed(1))
    s0, D0 = mat.stress_tangent_mandel(e, fast=False)
    s1, D1 = mat.stress_tangent_mandel(e, fast=True)
    assert torch.allclose(s1, s0, rtol=1e-12, atol=1e-14) and torch.allclose(D1, D0, rtol=1e-12, atol=1e-13)
