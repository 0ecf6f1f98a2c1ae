"""Cook's membrane (tapered plate, plane strain) under an end shear load, nearly incompressible
neo-Hookean solid (nu ~ 0.4995): F-bar hexahedra versus plain hexahedra (which lock).

Run: python examples/fem_cook_membrane.py  ->  examples/results/cook_membrane/
"""

import os

import materials
from constitutive.fem.examples import cook_membrane_problem

OUT = os.path.join(os.path.dirname(__file__), "results", "cook_membrane")
material = materials.get("neo-hooke", mu=0.6, lmbda=600.0)

for n in (4, 8, 16):
    fbar = cook_membrane_problem(material, load=0.02, n=n, steps=3, formulation="fbar",
                         output_dir=OUT if n == 16 else None)
    plain = cook_membrane_problem(material, load=0.02, n=n, steps=3, formulation="displacement")
    print(f"n = {n:2d}: tip displacement F-bar {fbar['tip_displacement']:.4f}, "
          f"plain {plain['tip_displacement']:.4f}")
print("files:", *fbar["files"][-4:], sep="\n  ")
