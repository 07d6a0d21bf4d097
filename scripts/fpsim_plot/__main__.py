"""scripts/plot COMMAND ...: fpsim's figures (docs/figures.md).

Each command module defines add_arguments(parser) and run(args) -> exit
status, and registers below. Exit status 0 when every figure was written, 1
when some could not be (the message says which and why; the others are
written), 2 for bad input (a directory that is not a sweep, a file that is
not the expected result file), nothing written.
"""
import argparse
import importlib
import sys

from fpsim_plot.errors import BadInput  # re-exported: fpsim_plot.__main__.BadInput

# command name -> module under fpsim_plot (each adds its own arguments).
COMMANDS = {
    "sweep": "sweep",
    "mma-error": "mma_error",
    "ulp": "ulp",
    "formats": "formats",
    "quantize": "quantize",
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="plot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = {}
    for name, module in COMMANDS.items():
        try:
            mod = importlib.import_module(f"fpsim_plot.{module}")
        except ModuleNotFoundError as e:
            if e.name != f"fpsim_plot.{module}":
                raise
            continue
        modules[name] = mod
        # argparse reads '%' in help text as a format code.
        p = sub.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0].replace("%", "%%"))
        mod.add_arguments(p)
    args = parser.parse_args(argv)
    try:
        return modules[args.command].run(args)
    except BadInput as e:
        print(f"plot {args.command}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
