"""The main job, end to end on the bundled data: ``constitutive demo`` (``python -m constitutive.cli.demo``).

1. Fit an incompressible Ogden-3 model to Treloar's (1944) uniaxial, equibiaxial and pure-shear
   data (the bundled data set ``treloar``), with the exact autograd Jacobian; save JSON, HDF5 and
   a plot; check stability; write the Abaqus ``*HYPERELASTIC, OGDEN`` card.
2. Turn the fit into a nearly incompressible compressible Ogden material (bulk modulus
   ``K = bulk_ratio * G``) and export its tangents along the uniaxial path in Abaqus conventions;
   read the file back and show the conventions it records.
3. Solve a small finite-element problem with the fitted material: a cube stretched to
   ``stretch`` (F-bar hexahedra, symmetry planes), compare the reaction force with the
   material-point driver's uniaxial curve, write VTU files and a force-displacement plot.

Everything is written under ``--output`` (default ``out/demo``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

#: the bundled Treloar (1944) data set (constitutive.calibration.datasets)
DATA = "treloar"


def _say(msg: str) -> None:
    print(msg, flush=True)


def fit_treloar(data: str, out: str, n_starts: int):
    """Step 1: Ogden-3 fit of Treloar's data; returns the FitResult."""
    from constitutive.calibration import fit, load_experiments
    from constitutive.files import write_text_atomic
    from constitutive.interfaces.abaqus_cards import abaqus_material_card

    exps = load_experiments(data)
    _say(f"[1/3] fitting ogden-incompressible (3 terms) to {len(exps)} experiments of {data}")
    start = {"mu": [0.63, 0.0012, -0.01], "alpha": [1.3, 5.0, -2.0]}

    def progress(k, n, cost, best):
        _say(f"      start {k}/{n}: cost {cost:.5g} (best {best:.5g})")

    t0 = time.perf_counter()
    res = fit("ogden-incompressible", exps, start=start, n_starts=n_starts, progress=progress)
    _say(f"      done in {time.perf_counter() - t0:.1f} s")
    _say(res.summary())
    res.save_json(os.path.join(out, "fit_ogden3.json"))
    res.save_hdf5(os.path.join(out, "fit_ogden3.h5"))
    res.plot(os.path.join(out, "fit_ogden3.png"))
    card = abaqus_material_card(res.material, name="TRELOAR_RUBBER")
    write_text_atomic(os.path.join(out, "treloar_ogden3.inp"), card)
    _say("      Abaqus card:\n" + "\n".join("        " + line for line in card.splitlines()))
    return res


def compressible_from_fit(res, bulk_ratio: float):
    """Compressible (decoupled) Ogden with the fitted isochoric part and ``K = bulk_ratio G``."""
    import materials

    iso = res.material
    G = float(iso.initial_moduli()[0])
    return materials.get("ogden", mu=iso.mu.detach(), alpha=iso.alpha.detach(), K=bulk_ratio * G)


def export_uniaxial_tangents(mat, out: str):
    """Step 2: tangents along the uniaxial path, Abaqus conventions; read back."""
    import numpy as np

    from constitutive.calibration.driver import solve
    from constitutive.calibration.loadpaths import load_path
    from constitutive.interfaces.export import export_tangents, read_tangents

    stretch = np.linspace(1.0, 3.0, 21)
    path = solve(mat, load_path("uniaxial", stretch))
    target = os.path.join(out, "tangents_uniaxial_abaqus.h5")
    export_tangents(target, mat, path.F, tangent="abaqus", notation="abaqus", units="MPa")
    tf = read_tangents(target)
    _say(f"[2/3] exported {len(stretch)} tangents to {target}")
    for key in ("notation", "ordering", "strain_shear_factor", "stress_measure", "tangent_kind"):
        _say(f"      {key:<20} {tf.attrs[key]}")
    return path


def fe_uniaxial(mat, out: str, stretch: float, n: int, steps: int):
    """Step 3: FE cube under uniaxial stretch; compare with the material-point driver."""
    import numpy as np
    import torch

    from constitutive.calibration.driver import predict
    from constitutive.fem import Problem, box

    _say(f"[3/3] FE: {n}^3 F-bar hexahedra, uniaxial stretch {stretch} in {steps} steps")
    prob = Problem(box(n), mat, formulation="fbar")
    prob.fix("xmin", components=(0,))
    prob.fix("ymin", components=(1,))
    prob.fix("zmin", components=(2,))
    prob.displace("xmax", stretch - 1.0, components=(0,), name="pull")
    res = prob.solve(steps=steps, output_dir=os.path.join(out, "fe_uniaxial"), name="cube", plot=("pull", 0))
    force = res.reaction("pull", 0)  # unit cube: reaction force = nominal stress
    lam = 1.0 + res.displacement("pull", 0)
    ref = predict(mat, "uniaxial", torch.as_tensor(lam[1:])).numpy()
    err = float(np.max(np.abs(force[1:] - ref) / np.abs(ref)))
    iters = [s.iterations for s in res.steps]
    _say(f"      Newton iterations per step: {iters}")
    _say(f"      nominal stress at stretch {lam[-1]:.3f}: FE {force[-1]:.6g} MPa, "
         f"material point {ref[-1]:.6g} MPa (max rel. difference {err:.2e})")
    for f in res.files[-3:]:
        _say(f"      wrote {f}")
    return err


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The demo's options (shared by ``constitutive demo`` and ``python -m constitutive.cli.demo``)."""
    p.add_argument("--data", default=DATA, help="experiments file or bundled data set (default: treloar)")
    p.add_argument("--output", default="out/demo", help="output folder")
    p.add_argument("--starts", type=int, default=3, help="multi-start count of the Ogden fit")
    p.add_argument("--bulk-ratio", type=float, default=200.0, help="K / G of the FE material")
    p.add_argument("--stretch", type=float, default=2.0, help="FE cube stretch")
    p.add_argument("--n", type=int, default=4, help="FE elements per edge")
    p.add_argument("--steps", type=int, default=8, help="FE load steps")


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="the main job on the bundled data: fit, export, FE solve")
    add_arguments(p)
    p.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m constitutive.cli.demo", description=__doc__.split("\n")[0])
    add_arguments(p)
    return run(p.parse_args(argv))


def run(args) -> int:
    import torch

    torch.set_default_dtype(torch.float64)
    os.makedirs(args.output, exist_ok=True)
    res = fit_treloar(args.data, args.output, args.starts)
    if not res.success:
        _say("demo: the fit did not converge")
        return 1
    mat = compressible_from_fit(res, args.bulk_ratio)
    export_uniaxial_tangents(mat, args.output)
    err = fe_uniaxial(mat, args.output, args.stretch, args.n, args.steps)
    _say(f"demo finished; outputs in {args.output}/")
    return 0 if err < 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
