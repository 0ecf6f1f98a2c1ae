"""``constitutive solve input.toml``: run the finite-element driver on a TOML problem file."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("solve", help="solve a finite-element problem defined in a TOML file")
    p.add_argument("input", nargs="?", default=None,
                   help="TOML input file (`constitutive solve --template` prints an annotated example)")
    p.add_argument("--template", action="store_true", help="print an annotated example input file and exit")
    p.add_argument("--steps", type=int, default=None, help="override [solver] steps")
    p.add_argument("--output", "-o", default=None, help="override [output] directory")
    p.add_argument("--linear-solver", default=None, help="auto, pardiso, cholmod, superlu or cg")
    p.add_argument("--quiet", "-q", action="store_true", help="no per-iteration progress")
    p.set_defaults(func=run)


def template() -> str:
    """The annotated example input of :mod:`constitutive.fem.inputfile`, as TOML text."""
    from constitutive.fem import inputfile

    doc = inputfile.__doc__.split("::", 1)[1]
    lines = doc.strip("\n").splitlines()
    return "\n".join(line[4:] if line.startswith("    ") else line for line in lines) + "\n"


def run(args) -> int:
    import time

    from constitutive.fem import inputfile

    from .common import material_from as material_factory

    if args.template:
        print(template(), end="")
        return 0
    if args.input is None:
        raise ValueError("input: give a TOML input file (or --template for an example)")

    t0 = time.perf_counter()
    prob, res = inputfile.run(args.input, material_factory, steps=args.steps, output_dir=args.output,
                              linear_solver=args.linear_solver, verbose=not args.quiet)
    tm = res.timings
    print(f"{prob.mesh.ncells} {prob.mesh.cell_type} cells, {prob.ndof} DOFs, "
          f"{len(res.steps)} steps, {tm['iterations']} Newton iterations "
          f"({time.perf_counter() - t0:.2f} s; material {tm['material']:.2f} s, assembly "
          f"{tm['assembly']:.2f} s, solve {tm['solve']:.2f} s with {res.linear_solver})")
    if res.steps:
        for name, f in res.steps[-1].reactions.items():
            print(f"reaction on {name!r}: [{f[0]:.6g}, {f[1]:.6g}, {f[2]:.6g}]")
    for path in res.files:
        if path.endswith((".pvd", ".xdmf", ".csv", ".png")):
            print(f"wrote {path}")
    return 0
