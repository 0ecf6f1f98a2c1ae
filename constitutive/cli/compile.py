"""``constitutive compile MODEL --name NAME --output DIR``: a compiled C library and UMAT."""

from __future__ import annotations

from .common import add_fit_arguments, make_model, split_pairs


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compile", help="compile a model into a C library with an Abaqus-ABI UMAT (CalculiX, Abaqus)",
        description="Trace MODEL's energy derivatives and write NAME.c, NAME.h, libNAME.so and NAME.json "
                    "into DIR. MODEL is a registered name (see `constitutive models`) or "
                    "path/to/file.py:ClassName.")
    p.add_argument("model", nargs="?", default=None,
                   help="registered model name or path/to/file.py:ClassName (or give --fit)")
    add_fit_arguments(p)
    p.add_argument("--name", required=True, help="library name: UMAT symbol NAME, file libNAME.so "
                   "(letters and digits; upper-cased)")
    p.add_argument("--output", "-o", required=True, help="output directory")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="non-numeric model option, e.g. volumetric=J-1 (repeatable)")
    p.add_argument("--terms", type=int, default=None,
                   help="number of terms of list parameters (e.g. Ogden mu, alpha); default: the model's")
    p.add_argument("--convention", choices=("calculix", "abaqus"), default="calculix",
                   help="UMAT stress/tangent convention: CalculiX's @ABAQUSNL interface (default) or "
                        "Abaqus/Standard (Cauchy stress, Jaumann-rate tangent)")
    p.add_argument("--umat-alias", action="store_true", help="also export the UMAT as umat_ (Abaqus linking)")
    p.add_argument("--force", action="store_true", help="replace existing files of the same name")
    p.set_defaults(func=run)


def run(args) -> int:
    from constitutive.interfaces.compiled.build import compile_material

    options = dict(split_pairs(args.option, "--option"))
    model = args.model
    if args.fit is not None:  # the fitted material itself; its values become the JSON's examples
        model = make_model(args.model, [], args.fit, args.bulk_modulus, **options)
        options = {}
    elif model is None:
        raise ValueError("MODEL: give a registered model name, path/to/file.py:ClassName, or --fit FIT")
    lib = compile_material(model, args.name, args.output, options=options, terms=args.terms,
                           convention=args.convention, umat_alias=args.umat_alias, overwrite=args.force)
    info = lib.info
    print(f"compiled {info['model']} ({info['class']}) as {info['name']}, "
          f"UMAT convention {info['umat_convention']}")
    layout = info["props"]["layout"]
    layout = layout[1:-1] if layout.startswith("[") and layout.endswith("]") else layout
    print(f"  PROPS = {layout}  ({info['props']['n_props']} values)")
    state = info.get("state")
    if state:
        print(f"  STATEV = {', '.join(state['labels'])}  ({state['n_state']} values, "
              f"start at {state['initial']})")
    for path in (lib.source, lib.header, lib.library, lib.description):
        print(f"  wrote {path}")
    depvar = f"  *DEPVAR  {state['n_state']}" if state else ""
    print(f"  CalculiX: *MATERIAL, NAME=@ABAQUSNL_{info['name']}_{info['name']}  "
          f"*USER MATERIAL, CONSTANTS={info['props']['n_props']}{depvar}  "
          f"(LD_LIBRARY_PATH={lib.library.parent})")
    return 0
