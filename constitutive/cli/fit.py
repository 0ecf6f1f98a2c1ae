"""``constitutive fit DATA.h5 --model NAME ...``: fit a model to HDF5 experiments."""

from __future__ import annotations

from .common import check_outputs, make_model, parse_params
from .progress import Progress


def add_parser(sub) -> None:
    p = sub.add_parser("fit", help="fit material parameters to experiments in an HDF5 file",
                       description="Fit a registered model to homogeneous experiments (see "
                       "docs/calibration.md). By default the incompressible variant "
                       "<model>-incompressible is used when it exists.")
    p.add_argument("data", help="HDF5 experiment file, or a bundled data set: treloar, kawabata1981, "
                   "jones_treloar1975, budday2017")
    p.add_argument("--model", "-m", required=True, help="registered model name (e.g. ogden, yeoh)")
    p.add_argument("--terms", type=int, default=None, help="number of Ogden terms (mu/alpha lists)")
    p.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE",
                   help="start value (lists as a,b,c); repeatable")
    p.add_argument("--fix", action="append", default=[], metavar="NAME[=VALUE]",
                   help="hold a parameter (or element mu[1]) fixed, optionally at VALUE; repeatable")
    p.add_argument("--compressible", action="store_true",
                   help="fit the compressible model NAME itself (K fixed unless --free-bulk)")
    p.add_argument("--free-bulk", action="store_true", help="also fit K of a compressible model")
    p.add_argument("--experiments", default=None, help="comma-separated experiment names to fit")
    p.add_argument("--weight", action="append", default=[], metavar="EXPERIMENT=W",
                   help="weight of an experiment; repeatable")
    p.add_argument("--residual", choices=("relative", "absolute"), default="relative")
    p.add_argument("--units", default=None, help="stress unit of the fit (default: the data's)")
    p.add_argument("--starts", type=int, default=None,
                   help="number of starts (multi-start: the start values, then random "
                   "perturbations; default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jacobian", choices=("autograd", "2-point", "3-point"), default="autograd")
    p.add_argument("--output", "-o", default=None, help="write the result as JSON")
    p.add_argument("--hdf5", default=None, help="write the result as HDF5")
    p.add_argument("--plot", default=None, help="write a PNG plot of data vs model")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.add_argument("--quiet", "-q", action="store_true")
    p.set_defaults(func=run)


def _fixed(items: list[str]) -> tuple[list[str], dict]:
    names, values = [], {}
    for item in items:
        if "=" in item:
            values.update(parse_params([item]))
            names.append(item.split("=", 1)[0].strip())
        else:
            names.append(item.strip())
    return names, values


def run(args) -> int:
    import warnings

    from constitutive.calibration import fit, load_experiments
    from constitutive.calibration.starts import resolve_model, start_values

    # outputs checked before the fit, not after it
    check_outputs([(args.output, "--output", (".json",)), (args.hdf5, "--hdf5", (".h5", ".hdf5")),
                   (args.plot, "--plot", (".png", ".pdf", ".svg"))], args.force)
    if args.starts is not None and args.starts < 1:
        raise ValueError(f"--starts: expected a positive integer, got {args.starts}")
    exps = load_experiments(args.data, args.experiments.split(",") if args.experiments else None)
    import materials

    if args.model.strip().lower().replace("_", "-") in materials.available_state_models():
        return _run_state_fit(args, exps)
    name = resolve_model(args.model, args.compressible)
    fixed, fixed_values = _fixed(args.fix)
    elements = {k: v for k, v in fixed_values.items() if "[" in k}
    given = {**parse_params(args.param), **{k: v for k, v in fixed_values.items() if "[" not in k}}
    start = start_values(name, exps, args.terms, given, args.units)
    for label, value in elements.items():  # e.g. --fix mu[1]=0.001
        pname, idx = label.rstrip("]").split("[")
        if not isinstance(start.get(pname), list) or not idx.isdigit() or int(idx) >= len(start[pname]):
            raise ValueError(f"--fix: {label!r} is not an element of a list parameter")
        start[pname][int(idx)] = float(value)
    weights = {k: float(v) for k, v in parse_params(args.weight).items()}
    n_starts = args.starts or 1

    bar = Progress(n_starts, f"fitting {name} to {len(exps)} experiment(s) of {args.data}", "start",
                   enabled=not args.quiet)

    def progress(k, n, cost, best):
        bar.update(1)
        bar.note(f"best cost {best:.4g}")

    with bar, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(name, exps, start=start, fixed=fixed or None, weights=weights,
                  residual=args.residual, units=args.units, n_starts=n_starts, seed=args.seed,
                  jacobian=args.jacobian, progress=progress, fix_volumetric=not args.free_bulk)
    print(res.summary())
    if args.output:
        res.save_json(args.output)
        print(f"wrote {args.output}")
    if args.hdf5:
        res.save_hdf5(args.hdf5)
        print(f"wrote {args.hdf5}")
    if args.plot:
        res.plot(args.plot)
        print(f"wrote {args.plot}")
    return 0 if res.success else 1


def _run_state_fit(args, exps) -> int:
    """A state model (viscoelastic, mullins) on time series: :func:`fit_history` from the
    ``--param`` start values (the model's defaults otherwise), exact Jacobian by default."""
    from constitutive.calibration.fit_history import fit_history, history_fit_figure

    for flag, value in (("--hdf5", args.hdf5), ("--compressible", args.compressible),
                        ("--free-bulk", args.free_bulk), ("--terms", args.terms)):
        if value:
            raise ValueError(f"{flag}: not available for a state model ({args.model}); give list lengths "
                             "by their start values (--param tau=0.1,10) and write results with --output")
    if args.starts not in (None, 1):
        raise ValueError(f"--starts: state-model fits run from one start (the --param values), "
                         f"got {args.starts}")
    fixed, fixed_values = _fixed(args.fix)
    mat = make_model(args.model, args.param)
    if fixed_values:
        mat = mat.replace(**fixed_values)
    weights = {k: float(v) for k, v in parse_params(args.weight).items()}
    if not args.quiet:
        print(f"fitting {args.model} ({mat!r}) to {len(exps)} experiment(s) of {args.data} ...", flush=True)
    res = fit_history(mat, exps, fixed=fixed or None, weights=weights or None, residual=args.residual,
                      units=args.units, jacobian=args.jacobian)
    print(res.summary())
    if args.output:
        res.save_json(args.output)
        print(f"wrote {args.output}")
    if args.plot:
        from constitutive.files import atomic_write

        fig = history_fit_figure(res)
        atomic_write(args.plot, lambda tmp: fig.savefig(tmp, format=args.plot.rsplit(".", 1)[-1], dpi=150))
        print(f"wrote {args.plot}")
    return 0 if res.success else 1
