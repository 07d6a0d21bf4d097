"""The shared entry of the figure tests (tests/scripts/test_plot_*.py): reads --fpsim, skips (exit 77, "SKIP: ...")
where matplotlib or numpy cannot be imported by this interpreter or by /usr/bin/python3 (what scripts/plot runs),
then runs the test module's unittest cases."""
import argparse
import os
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = "/usr/bin/python3"


def run_tests(description):
    """Returns nothing: exits with unittest's status, 77 to skip, or a message without an fpsim binary. Sets the
    calling module's FPSIM to the binary's absolute path first."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--fpsim", default=os.path.join(ROOT, "build", "cli", "fpsim"))
    args, rest = ap.parse_known_args()
    try:
        import matplotlib  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as e:
        print(f"SKIP: {e} (install python3-matplotlib python3-numpy)")
        sys.exit(77)
    if not os.path.exists(PY) or subprocess.run([PY, "-c", "import matplotlib, numpy"],
                                                capture_output=True).returncode != 0:
        print(f"SKIP: {PY} lacks matplotlib or numpy")
        sys.exit(77)
    fpsim = os.path.abspath(args.fpsim)
    if not os.access(fpsim, os.X_OK):
        sys.exit(f"no fpsim executable at {fpsim} (build it, or pass --fpsim)")
    sys.modules["__main__"].FPSIM = fpsim
    unittest.main(module="__main__", argv=[sys.argv[0], *rest])
