"""``constitutive data import|info``: create and inspect HDF5 experiment files."""

from __future__ import annotations

import os

from .common import split_pairs


def add_parser(sub) -> None:
    p = sub.add_parser("data", help="import CSV into HDF5 experiment files, inspect them")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")
    imp = dsub.add_parser("import", help="convert CSV file(s) into an HDF5 experiment file")
    imp.add_argument("csv", nargs="+", help="CSV file(s); '#' lines are kept as provenance")
    imp.add_argument("--output", "-o", required=True, help="HDF5 file to write")
    imp.add_argument("--mode", required=True,
                     help="uniaxial, equibiaxial, pure_shear, simple_shear, biaxial or general")
    imp.add_argument("--stress-measure", default="nominal",
                     help="nominal (= pk1 = engineering), cauchy (= true), or for biaxial cauchy_difference "
                          "(sigma11 - sigma22)")
    imp.add_argument("--units", default=None,
                     help="stress unit, e.g. MPa, kPa, Pa, psi (default: from a header such as "
                          "'stress [kPa]')")
    imp.add_argument("--control", choices=("stretch", "strain"), default="stretch",
                     help="what the control column holds: stretch, or engineering strain (stretch - 1)")
    imp.add_argument("--name", action="append", default=None,
                     help="experiment name per CSV (default: file name)")
    imp.add_argument("--source", default=None, help="provenance (default: the CSV comments)")
    imp.add_argument("--columns", default=None,
                     help="comma-separated column indices or header names (control then stress)")
    imp.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE",
                     help="keep only rows where COLUMN equals VALUE")
    imp.add_argument("--temperature", type=float, default=None)
    imp.add_argument("--append", action="store_true", help="add to an existing file")
    imp.add_argument("--force", action="store_true",
                     help="replace an existing file (its experiments are lost)")
    imp.set_defaults(func=run_import)
    info = dsub.add_parser("info", help="validate an HDF5 experiment file and list its contents")
    info.add_argument("file")
    info.set_defaults(func=run_info)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_import(args) -> int:
    """``constitutive data import``: CSV file(s) -> an HDF5 experiment file."""
    from constitutive.calibration.csvio import experiment_from_csv
    from constitutive.calibration.experiments import normalise_mode, read_experiments, write_experiments
    from constitutive.units import normalise_units

    if args.name and len(args.name) != len(args.csv):
        raise ValueError(f"--name: give one name per CSV file ({len(args.csv)}), got {len(args.name)}")
    where = dict(split_pairs(args.where, "--where"))
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    normalise_mode(args.mode)  # metadata first: fail before touching any file
    if args.units is not None:
        normalise_units(args.units)
    if os.path.isdir(args.output):
        raise ValueError(f"--output: {args.output!r} is a directory; give an .h5 file name")
    if os.path.exists(args.output) and not (args.append or args.force):
        raise ValueError(f"--output: {args.output!r} exists; pass --append to add the experiments to it or "
                         "--force to replace it")
    exps = read_experiments(args.output) if args.append and os.path.exists(args.output) else []
    notes: list[list[str]] = []
    for k, path in enumerate(args.csv):
        notes.append([])
        exps.append(experiment_from_csv(
            path, args.mode, args.stress_measure, args.units,
            name=args.name[k] if args.name else None, source=args.source, columns=columns,
            where=where, temperature=args.temperature, control=args.control, notes=notes[-1]))
    write_experiments(args.output, exps)
    for e, note in zip(exps[-len(args.csv):], notes, strict=True):
        print(f"{e.name}: {e.mode}, {e.n} points, {e.stress_measure} stress in {e.units}")
        for line in note:
            print(f"  assumed: {line}")
    print(f"wrote {args.output} ({len(exps)} experiment(s))")
    return 0


def run_info(args) -> int:
    """``constitutive data info``: validate an experiment file and list its contents."""
    from constitutive.calibration.experiments import read_experiments

    exps = read_experiments(args.file)
    print(f"{args.file}: {len(exps)} experiment(s), valid")
    for e in exps:
        c = e.control()
        rng = f"{c.min():.4g}..{c.max():.4g}" if e.mode != "general" else "F"
        print(f"  {e.name:<24} {e.mode:<13} n={e.n:<4} {e.stress_measure:<17} {e.units:<6} "
              f"control {rng}, stress {e.stress.min():.4g}..{e.stress.max():.4g}")
        if e.source:
            print(f"      source: {e.source[:100]}{'...' if len(e.source) > 100 else ''}")
    return 0
