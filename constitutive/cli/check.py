"""``constitutive check MODEL --param NAME=VALUE ...``: run the public verifiers."""

from __future__ import annotations

from .common import add_model_arguments, make_model


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="run the verifiers (FD tangent, symmetry, objectivity, ...)")
    add_model_arguments(p)
    p.add_argument("--points", type=int, default=8, help="random deformations (default 8)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--amplitude", type=float, default=0.15, help="size of random stretches")
    p.set_defaults(func=run)


def run(args) -> int:
    from constitutive import Inelastic
    from constitutive.checks import format_table, run_all_checks
    from constitutive.checks_state import run_state_checks

    mat = make_model(args.model, args.param, args.fit, args.bulk_modulus)
    print(f"{mat!r}")
    checks = run_state_checks if isinstance(mat, Inelastic) else run_all_checks
    results = checks(mat, n=args.points, seed=args.seed, amplitude=args.amplitude)
    print(format_table(results))
    return 0 if all(r.passed for r in results) else 1
