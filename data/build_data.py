"""Rebuild data/treloar.h5, data/kawabata1981.h5, data/jones_treloar1975.h5 and data/budday2017.h5
from the reference CSVs.

    python data/build_data.py [REFERENCE_DIR]     (default /work/shared/reference-data)

All sets are nominal (1st Piola-Kirchhoff) stress, MPa (rubber) or kPa (brain), except the
Jones & Treloar (1975) biaxial curves, which give the Cauchy stress difference sigma11 - sigma22
(stress_measure ``cauchy_difference``); provenance
(the CSV header comments: publication, digitisation source and commit) is stored in each
group's ``source`` attribute.
"""

from __future__ import annotations

import os
import sys

from constitutive.calibration.csvio import experiment_from_csv, read_csv
from constitutive.calibration.experiments import write_experiments

HERE = os.path.dirname(os.path.abspath(__file__))
TRELOAR = ("Treloar, L.R.G. (1944) Stress-strain data for vulcanised rubber under various types of "
           "deformation. Trans. Faraday Soc. 40:59-70.")
KAWABATA = ("Kawabata, S., Matsuda, M., Tei, K., Kawai, H. (1981) Experimental survey of the strain "
            "energy density function of isoprene rubber vulcanizate. Macromolecules 14:154-162.")


def treloar(ref: str) -> None:
    exps = []
    for tag, mode in (("UT", "uniaxial"), ("ET", "equibiaxial"), ("PS", "pure_shear")):
        e = experiment_from_csv(os.path.join(ref, f"treloar1944_{tag}_zhao.csv"), mode,
                                "nominal", "MPa", name=mode, temperature=20.0,
                                description=f"Treloar (1944) {mode.replace('_', ' ')} tension, "
                                "vulcanised natural rubber (8% S), 20 C")
        exps.append(e)
    write_experiments(os.path.join(HERE, "treloar.h5"), exps, title="Treloar (1944) vulcanised rubber",
                      source=TRELOAR)


def kawabata(ref: str) -> None:
    exps = []
    path = os.path.join(ref, "kawabata1981_UT_ET_PS_zhao.csv")
    for tag, mode in (("UT", "uniaxial"), ("ET", "equibiaxial"), ("PS", "pure_shear")):
        exps.append(experiment_from_csv(path, mode, "nominal", "MPa", name=mode,
                                        where={"mode": tag}, columns=[1, 2],
                                        description=f"Kawabata (1981) {mode} curve "
                                        "(reduced from the biaxial set)"))
    path = os.path.join(ref, "kawabata1981_biaxial.csv")
    comments, header, rows = read_csv(path)
    for l1 in dict.fromkeys(r[0] for r in rows):
        exps.append(experiment_from_csv(
            path, "biaxial", "nominal", "MPa", name=f"biaxial_lambda1_{float(l1):.2f}",
            where={0: l1}, columns=[0, 1, 3, 4],
            description=f"Kawabata (1981) general biaxial: lambda1 = {l1} fixed, lambda2 varied"))
    write_experiments(os.path.join(HERE, "kawabata1981.h5"), exps,
                      title="Kawabata et al. (1981) isoprene rubber, general biaxial", source=KAWABATA)


JONES = ("Jones, D.F., Treloar, L.R.G. (1975) The properties of rubber in pure homogeneous strain. "
         "J. Phys. D: Appl. Phys. 8:1285-1304.")


def jones_treloar(ref: str) -> None:
    exps = [experiment_from_csv(os.path.join(ref, "jones_treloar1975_UT.csv"), "uniaxial", "nominal",
                                "MPa", name="uniaxial", description="Jones & Treloar (1975) uniaxial "
                                "tension, natural rubber")]
    path = os.path.join(ref, "jones_treloar1975_biaxial.csv")
    comments, header, rows = read_csv(path)
    for l2 in dict.fromkeys(r[0] for r in rows):
        # columns: lambda2 (fixed), lambda1 (varied), lambda3, sigma11 - sigma22; stored with
        # stretch = (lambda1, lambda2)
        exps.append(experiment_from_csv(
            path, "biaxial", "cauchy_difference", "MPa", name=f"biaxial_lambda2_{float(l2):.3f}",
            where={0: l2}, columns=[1, 0, 3],
            description=f"Jones & Treloar (1975) pure homogeneous strain: lambda2 = {l2} fixed, "
                        "lambda1 varied; stress = Cauchy sigma11 - sigma22"))
    write_experiments(os.path.join(HERE, "jones_treloar1975.h5"), exps,
                      title="Jones & Treloar (1975) natural rubber, pure homogeneous strain", source=JONES)


BUDDAY = ("Budday, S. et al. (2017) Mechanical characterization of human brain tissue. Acta Biomaterialia "
          "48:319-340. Quasi-static loading curves averaged per region.")
REGIONS = {"CX": "cortex", "BG": "basal_ganglia", "CR": "corona_radiata", "CC": "corpus_callosum"}


def budday(ref: str) -> None:
    path = os.path.join(ref, "budday2017_brain_cann.csv")
    exps = []
    for code, region in REGIONS.items():
        for mode_csv, mode in (("tension", "uniaxial"), ("compression", "uniaxial"),
                               ("simple_shear", "simple_shear")):
            exps.append(experiment_from_csv(
                path, mode, "nominal", "kPa", name=f"{region}_{mode_csv}",
                where={"region_code": code, "mode": mode_csv}, columns=[3, 4],
                description=f"Budday et al. (2017) human brain, {region.replace('_', ' ')}, "
                            f"{mode_csv.replace('_', ' ')} (loading curve)"))
    write_experiments(os.path.join(HERE, "budday2017.h5"), exps,
                      title="Budday et al. (2017) human brain tissue", source=BUDDAY)


if __name__ == "__main__":
    ref = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference-data"
    treloar(ref)
    kawabata(ref)
    jones_treloar(ref)
    budday(ref)
    print("wrote", *(os.path.join(HERE, f) for f in ("treloar.h5", "kawabata1981.h5", "jones_treloar1975.h5",
                                                     "budday2017.h5")))
