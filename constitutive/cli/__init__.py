"""The ``constitutive`` command. Each subcommand lives in its own module of this package and
exposes ``add_parser(subparsers)`` that registers itself with a ``func(args) -> int``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Subcommand modules, in the order shown by --help. Missing modules are skipped.
SUBCOMMANDS = ("check", "data", "fit", "discover", "export", "compile", "solve", "models", "demo", "report")


def build_parser() -> argparse.ArgumentParser:
    """The ``constitutive`` argument parser with every subcommand of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="constitutive",
        description="Hyperelastic constitutive models: verify, fit, discover, export, compile, solve.",
    )
    from constitutive import __version__

    parser.add_argument("--version", action="version", version=f"constitutive {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue
            raise
        mod.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout
        return 0
    except (ValueError, TypeError, KeyError, OSError, RuntimeError, ImportError) as exc:
        if os.environ.get("CONSTITUTIVE_DEBUG"):  # the full traceback, for bug reports
            raise
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"constitutive {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
