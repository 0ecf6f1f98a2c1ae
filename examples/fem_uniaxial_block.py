"""Uniaxial tension of a block with the FE driver; compares with the material-point response.

Run: python examples/fem_uniaxial_block.py  ->  examples/results/uniaxial_block/*.vtu, .pvd, .csv, .png
"""

import os

import materials
from constitutive.fem import Problem, box

OUT = os.path.join(os.path.dirname(__file__), "results", "uniaxial_block")

material = materials.get("neo-hooke", mu=1.0, lmbda=10.0)
problem = Problem(box(n=4, size=1.0), material)          # 4^3 linear hexahedra
problem.fix("xmin", components=0)                        # symmetry planes
problem.fix("ymin", components=1)
problem.fix("zmin", components=2)
problem.displace("xmax", 0.5, components=0)              # 50 % stretch, ramped
result = problem.solve(steps=5, output_dir=OUT, name="uniaxial_block", plot=("xmax", 0), verbose=True)

for u, f in zip(result.displacement("xmax"), result.reaction("xmax"), strict=True):
    print(f"stretch {1 + u:.3f}  nominal stress {f:.6f}")
print("files:", *result.files[-4:], sep="\n  ")
