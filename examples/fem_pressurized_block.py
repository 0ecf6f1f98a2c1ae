"""Nearly incompressible block indented by a follower pressure (quarter model, F-bar hexahedra).

Run: python examples/fem_pressurized_block.py  ->  examples/results/pressurized_block/
"""

import os

import materials
from constitutive.fem.examples import pressurized_block

OUT = os.path.join(os.path.dirname(__file__), "results", "pressurized_block")
material = materials.get("neo-hooke", mu=0.6, lmbda=600.0)  # K / mu ~ 1000

out = pressurized_block(material, pressure=0.3, n=6, steps=5, output_dir=OUT, verbose=False)
for p, r in zip(out["pressure"], out["reaction"], strict=True):
    print(f"pressure {p:.3f}  bottom reaction {r:.5f}")
print(f"indentation of the loaded corner: {out['corner_displacement']:.5f}")
print("files:", *out["files"][-4:], sep="\n  ")
