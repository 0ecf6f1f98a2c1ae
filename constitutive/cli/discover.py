"""``constitutive discover DATA.h5 ...``: discover a sparse (or ICNN) energy from experiments."""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    p = sub.add_parser(
        "discover", help="discover a constitutive model (sparse term library or ICNN) from experiments",
        description="Automated model discovery (see the documentation, 'Model discovery'): exact "
                    "best-subset search over a library "
                    "of convex invariant and Ogden terms, refitted by trust-region least squares with the "
                    "exact Jacobian; the number of terms chosen by BIC, AICc or cross-validation. Writes a "
                    "fit file that loads as a material (materials.discovered.from_file) and compiles to a "
                    "UMAT.")
    p.add_argument("data", help="HDF5 experiment file, or a bundled data set (treloar, kawabata1981, "
                   "jones_treloar1975, budday2017)")
    p.add_argument("--library", default="rubber", choices=("rubber", "tissue", "cann"), help="term library")
    p.add_argument("--max-terms", type=int, default=3, help="largest number of terms on the path (default 3)")
    p.add_argument("--experiments", default=None,
                   help="experiments of the file to use: names or patterns, comma-separated "
                        "(e.g. 'cortex_*')")
    p.add_argument("--train", default=None,
                   help="training experiments: names, modes (UT, ET, PS, SS) or patterns; the others are "
                        "predicted and scored as test data (default: train on all)")
    p.add_argument("--criterion", default="bic", choices=("bic", "aicc", "cv"),
                   help="choice of the number of terms (cv: leave one training experiment out)")
    p.add_argument("--residual", default="r2", choices=("r2", "relative"),
                   help="r2: each experiment weighted by 1/SS_tot (default); relative: per-point relative")
    p.add_argument("--fibre", default=None, metavar="X,Y,Z", help="fibre direction: adds I4/J5 terms")
    p.add_argument("--neural", action="store_true", help="fit an input-convex neural network energy instead")
    p.add_argument("--layers", default="4,4", help="ICNN hidden widths (with --neural)")
    p.add_argument("--starts", type=int, default=3, help="ICNN random starts (with --neural)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", "-o", default=None, help="write the result as JSON (loads as a material)")
    p.add_argument("--hdf5", default=None, help="write the result as HDF5")
    p.add_argument("--plot", default=None, help="PNG of R^2 per experiment against the number of terms")
    p.add_argument("--plot-fit", default=None, help="PNG of data and the chosen model")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run)


def _select(exps, spec):
    if not spec:
        return exps
    from constitutive.calibration.discovery import split_experiments

    chosen, _ = split_experiments(exps, spec)
    return chosen


def run(args) -> int:
    import time

    from constitutive.calibration import load_experiments
    from constitutive.calibration.discovery import discover
    from constitutive.calibration.discovery.icnn import fit_icnn

    t0 = time.perf_counter()
    exps = _select(load_experiments(args.data), args.experiments)

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - t0:6.2f} s] {msg}", file=sys.stderr, flush=True)

    fibre = [float(v) for v in args.fibre.split(",")] if args.fibre else None
    if args.neural:
        res = fit_icnn(exps, layers=args.layers, train=args.train, residual=args.residual,
                       n_starts=args.starts, seed=args.seed, progress=progress)
    else:
        res = discover(exps, library_name=args.library, max_terms=args.max_terms, train=args.train,
                       criterion=args.criterion, residual=args.residual, fibre=fibre, progress=progress)
    print(res.summary())
    print("R^2 of the selected model: " + ", ".join(f"{k} {v:.4f}" for k, v in res.r2.items()))
    for path, write in ((args.output, res.save_json), (args.hdf5, res.save_hdf5)):
        if path:
            write(path)
            print(f"wrote {path} (materials.discovered.from_file({path!r}) loads the model)")
    if args.plot:
        res.plot_path(args.plot)
        print(f"wrote {args.plot}")
    if args.plot_fit:
        res.plot_fit(args.plot_fit, exps)
        print(f"wrote {args.plot_fit}")
    if args.output:
        print(f"check:   constitutive check --fit {args.output}")
        print(f"compile: constitutive compile --fit {args.output} --name DISC --output umat")
    else:
        print(f"check:   {res.check_command()}")
        print(f"compile: {res.compile_command()}")
    print("  PROPS = [" + ", ".join(f"{v:.10g}" for v in res.props()) + "]")
    return 0
