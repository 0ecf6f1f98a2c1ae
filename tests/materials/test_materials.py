"""Every registered model through every public verifier (constitutive.checks), construction
errors, options, the CLI, and a user-defined model in five lines."""

import math

import pytest
import torch

import materials
from constitutive import Hyperelastic, param
from constitutive.checks import format_table, run_all_checks
from constitutive.invariants import isochoric_I1, volume_ratio

torch.set_default_dtype(torch.float64)

ALL = materials.available()

EXPECTED = {
    "linear-elastic", "saint-venant-kirchhoff", "neo-hooke", "neo-hooke-decoupled",
    "mooney-rivlin", "yeoh", "gent", "arruda-boyce", "ogden",
    "neo-hooke-decoupled-incompressible", "neo-hooke-incompressible", "mooney-rivlin-incompressible",
    "yeoh-incompressible", "gent-incompressible", "arruda-boyce-incompressible", "ogden-incompressible",
    "holzapfel-gasser-ogden", "transversely-isotropic",
}

# non-default parameter sets (besides the defaults) run through the verifiers as well
VARIANTS = [
    ("neo-hooke", dict(mu=0.7, lmbda=3.0, volumetric="J-1")),
    ("neo-hooke", dict(mu=0.7, lmbda=3.0, volumetric="simo-taylor")),
    ("neo-hooke-decoupled", dict(mu=0.7, K=3.0, volumetric="lnJ")),
    ("neo-hooke-decoupled", dict(mu=0.7, K=3.0, volumetric="simo-taylor")),
    ("mooney-rivlin", dict(c10=0.5, c01=-0.1, K=4.0, volumetric="lnJ")),
    ("yeoh", dict(c10=0.4, c20=0.05, c30=0.01, K=2.0)),
    ("gent", dict(mu=0.5, Jm=5.0, K=2.0, volumetric="simo-taylor")),
    ("arruda-boyce", dict(mu=0.5, lambda_m=1.8, K=2.0, volumetric="J-1")),
    ("ogden", dict(mu=[1.0, -0.2], alpha=[3.5, -1.5], K=3.0, volumetric="lnJ")),
    ("ogden-incompressible", dict(mu=[0.4], alpha=[7.0])),
    ("holzapfel-gasser-ogden", dict(mu=0.5, K=5.0, k1=2.0, k2=3.0, kappa=0.1,
                                    a1=[1.0, 1.0, 0.2], a2=[0.0, 1.0, -1.0], volumetric="lnJ")),
    ("holzapfel-gasser-ogden", dict(mu=0.5, K=5.0, k1=2.0, k2=0.0, kappa=1.0 / 3.0)),
    ("transversely-isotropic", dict(mu=0.5, K=5.0, k1=3.0, k2=0.0, a=[0.3, -1.0, 2.0])),
    ("linear-elastic", dict(lmbda=-0.2, mu=1.0)),
]


def test_registry_has_every_model():
    assert EXPECTED <= set(ALL)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("seed,amplitude", [(0, 0.15), (11, 0.3)])
def test_every_model_passes_every_verifier(name, seed, amplitude):
    mat = materials.get(name)  # defaults only
    results = run_all_checks(mat, n=6, seed=seed, amplitude=amplitude)
    assert all(r.passed for r in results), f"{name}\n{format_table(results)}"


@pytest.mark.parametrize("name,params", VARIANTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(VARIANTS)])
def test_parameter_variants_pass_every_verifier(name, params):
    mat = materials.get(name, **params)
    results = run_all_checks(mat, n=6, seed=3, amplitude=0.25)
    assert all(r.passed for r in results), f"{name} {params}\n{format_table(results)}"


@pytest.mark.parametrize("name", ALL)
def test_cli_check_with_defaults(name, capsys):
    from constitutive.cli import main

    assert main(["check", name, "--points", "3"]) == 0
    out = capsys.readouterr().out
    assert "0 failed" in out


@pytest.mark.parametrize("name", ALL)
def test_metadata(name):
    cls = materials.model_class(name)
    assert cls.reference and cls.__doc__ and len(cls.__doc__) > 100
    mat = materials.get(name)
    G, K = mat.initial_moduli()
    assert G > 0 and K > 0
    assert math.isinf(K) == bool(cls.incompressible) == name.endswith("-incompressible")
    for pname, spec in cls.parameters.items():
        assert spec.unit in ("stress", "-", "direction"), pname
        assert spec.default is not None, pname
    # parameters round-trip through replace()
    again = mat.replace()
    assert again.parameter_values() == mat.parameter_values()


def test_by_class_and_by_name_agree():
    e = torch.tensor([0.02, -0.01, 0.03, 0.01, 0.0, -0.02])
    a = materials.get("ogden", mu=[0.5], alpha=[3.0], K=10.0)
    b = materials.Ogden(mu=[0.5], alpha=[3.0], K=10.0)
    assert torch.equal(a.stress_mandel(e), b.stress_mandel(e))


def test_linear_elastic_from_young_and_small_strain_stress():
    mat = materials.LinearElastic.from_young(210000.0, 0.3)
    G, K = mat.initial_moduli()
    assert math.isclose(G, 210000.0 / 2.6) and math.isclose(K, 210000.0 / (3 * 0.4))
    eps = torch.tensor([1e-3, -3e-4, -3e-4, 0.0, 0.0, 0.0])  # uniaxial stress state for nu = 0.3
    s = mat.stress_mandel(eps)
    assert torch.allclose(s, torch.tensor([210.0, 0, 0, 0, 0, 0]), atol=1e-9)
    with pytest.raises(ValueError, match="nu"):
        materials.LinearElastic.from_young(1.0, 0.5)
    with pytest.raises(ValueError, match="E"):
        materials.LinearElastic.from_young(-1.0, 0.2)


@pytest.mark.parametrize(
    "name,params,match",
    [
        ("neo-hooke-decoupled", dict(mu=-1.0), "mu"),
        ("neo-hooke-decoupled", dict(K=0.0), "K"),
        ("mooney-rivlin", dict(c10=-0.3, c01=0.1), "shear modulus"),
        ("yeoh", dict(c10=0.0), "c10"),
        ("gent", dict(Jm=-1.0), "Jm"),
        ("arruda-boyce", dict(lambda_m=1.0), "lambda_m"),
        ("ogden", dict(mu=[1.0, 1.0], alpha=[2.0]), "same length"),
        ("holzapfel-gasser-ogden", dict(kappa=0.4), "kappa"),
        ("holzapfel-gasser-ogden", dict(kappa=-0.01), "kappa"),
        ("holzapfel-gasser-ogden", dict(a1=[0.0, 0.0, 0.0]), "zero length"),
        ("holzapfel-gasser-ogden", dict(a2=[1.0, 0.0]), "shape"),
        ("holzapfel-gasser-ogden", dict(k1=-1.0), "k1"),
        ("transversely-isotropic", dict(a=[0.0, 0.0, 0.0]), "zero length"),
        ("neo-hooke", dict(volumetric="quadratic"), "volumetric"),
        ("linear-elastic", dict(lmbda=-1.0, mu=1.0), "bulk modulus"),
    ],
)
def test_invalid_parameters_raise_at_construction(name, params, match):
    with pytest.raises(ValueError, match=match):
        materials.get(name, **params)


def test_unknown_parameter_and_model():
    with pytest.raises(TypeError, match="unknown parameter"):
        materials.get("mooney-rivlin-incompressible", K=10.0)
    with pytest.raises(KeyError, match="available"):
        materials.get("mooney")


def test_fibre_directions_are_normalised():
    m = materials.get("holzapfel-gasser-ogden", a1=[2.0, 0.0, 0.0], a2=[0.0, 3.0, 4.0])
    assert torch.allclose(m.a1, torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(m.a2, torch.tensor([0.0, 0.6, 0.8]))
    t = materials.get("transversely-isotropic", a=[0.0, 0.0, -5.0])
    assert torch.allclose(t.a, torch.tensor([0.0, 0.0, -1.0]))


def test_locking_raises_clear_error():
    F = torch.diag(torch.tensor([4.0, 0.5, 0.5]))
    with pytest.raises(ValueError, match="locking"):
        materials.get("arruda-boyce-incompressible", lambda_m=2.0).pk1(F)
    with pytest.raises(ValueError, match="locking"):
        materials.get("gent-incompressible", Jm=5.0).pk1(F)


# ----------------------------------------------------------------------- user-defined models
class MyRubber(Hyperelastic):
    """The five-line user model of docs/materials.md (Yeoh-like, two terms)."""

    c10: float = param(0.5, bounds=(0, None))
    c20: float = param(0.01)
    kappa: float = param(100.0, bounds=(0, None))

    def energy(self, E):
        I1b, J = isochoric_I1(E), volume_ratio(E)
        return self.c10 * (I1b - 3) + self.c20 * (I1b - 3) ** 2 + self.kappa / 2 * (J - 1) ** 2

    def initial_moduli(self):
        return 2 * float(self.c10), float(self.kappa)


def test_user_defined_model_gets_everything():
    mat = MyRubber(c10=0.4)
    results = run_all_checks(mat, n=6)
    assert all(r.passed for r in results), format_table(results)
    # it is the library's Yeoh with c30 = 0 and the J-1 volumetric function
    ref = materials.get("yeoh", c10=0.4, c20=0.01, c30=0.0, K=100.0, volumetric="J-1")
    F = torch.tensor([[1.2, 0.1, 0.0], [0.0, 0.9, 0.05], [0.02, 0.0, 1.05]])
    assert torch.allclose(mat.pk1_tangent(F)[1], ref.pk1_tangent(F)[1], rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="c10"):
        MyRubber(c10=-1.0)


def test_user_defined_decoupled_model_with_incompressible_variant():
    """Write W_iso once; the library adds K u(J) (selectable) or the incompressible variant."""

    class _Iso:
        c10: float = param(0.5, bounds=(0, None))
        c20: float = param(0.02)

        def isochoric_energy(self, k):
            return self.c10 * (k.I1b - 3) + self.c20 * (k.I1b - 3) ** 2

        def shear_modulus(self):
            return 2 * float(self.c10)

    class Mine(_Iso, materials.Decoupled):
        K: float = materials.BULK_MODULUS

    class MineIncompressible(_Iso, materials.Incompressible):
        pass

    for mat in (Mine(volumetric="lnJ"), MineIncompressible()):
        results = run_all_checks(mat, n=5)
        assert all(r.passed for r in results), format_table(results)
    assert list(Mine.parameters) == ["c10", "c20", "K"]
    assert MineIncompressible.incompressible and math.isinf(MineIncompressible().initial_moduli()[1])


PARAM_GRADS = [
    ("mooney-rivlin", dict(c10=0.4, c01=0.1, K=20.0), "c01"),
    ("yeoh-incompressible", dict(c10=0.5, c20=-0.02, c30=0.003), "c20"),
    ("gent", dict(mu=0.5, Jm=8.0, K=20.0), "Jm"),
    ("arruda-boyce-incompressible", dict(mu=0.7, lambda_m=2.2), "lambda_m"),
    ("arruda-boyce", dict(mu=0.7, lambda_m=2.2, K=20.0), "mu"),
    ("holzapfel-gasser-ogden", dict(mu=0.5, K=5.0, k1=2.0, k2=3.0, kappa=0.1), "kappa"),
    ("holzapfel-gasser-ogden", dict(mu=0.5, K=5.0, k1=2.0, k2=3.0, kappa=0.1), "k2"),
    ("transversely-isotropic", dict(mu=0.5, K=5.0, k1=2.0, k2=0.5), "k2"),
]


@pytest.mark.parametrize("name,params,pname", PARAM_GRADS, ids=[f"{n}-{p}" for n, _, p in PARAM_GRADS])
def test_parameter_gradients_of_stress_and_tangent(name, params, pname):
    """create_graph=True (fitting): d(sum w D + sum s)/dp by autograd vs central differences."""
    from constitutive.checks import random_deformations
    from constitutive.kinematics import strain_mandel_from_F

    e = strain_mandel_from_F(random_deformations(4, seed=21, amplitude=0.25))
    w = torch.linspace(-1.0, 1.0, 36).reshape(6, 6)

    def loss(value):
        mat = materials.get(name, **{**params, pname: value})
        s, D = mat.stress_tangent_mandel(e, create_graph=True)
        return (w * D).sum() + s.sum()

    p = torch.tensor(float(params[pname]), requires_grad=True)
    (g,) = torch.autograd.grad(loss(p), p)
    p0 = float(params[pname])
    h = 1e-6 * max(1.0, abs(p0))
    with torch.no_grad():
        fd = (loss(torch.tensor(p0 + h)) - loss(torch.tensor(p0 - h))) / (2 * h)
    assert abs(float(g) - float(fd)) <= 1e-6 * max(1.0, abs(float(fd))), (float(g), float(fd))
