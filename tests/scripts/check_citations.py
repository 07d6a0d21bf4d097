#!/usr/bin/env python3
"""Every path a source file or a doc cites exists in the repository.

fpsim's code and docs cite their rules ("docs/mma.md, \"Presets\"",
"sim/src/mma_dot.cpp"); a user's clone holds nothing outside the repository,
so a citation of a file outside it (the spec folder beside a developer's
checkout, design.md) or of a file that was renamed or removed is a dead end.
This scans the tracked text files and fails, naming file and line, on

- any citation of the spec folder or design.md (they are not in a clone:
  docs/formats.md, docs/mma.md, docs/training.md, docs/architecture.md carry
  what the code relies on);
- any repository path (beginning with a top-level folder of the repository)
  whose file or folder does not exist.

Usage: check_citations.py [REPO_ROOT]  (default: the repository holding this script)
"""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))

# Text the rule applies to: code, build files, scripts and docs.
SUFFIXES = (".cpp", ".hpp", ".h", ".cu", ".cuh", ".inl", ".py", ".sh", ".cmake", ".txt", ".md", ".toml", ".json")
# Citations of what a clone does not have.
OUTSIDE = re.compile(r"(?:\.\./)?(?:shared/)?spec/[A-Za-z_-]+\.md|(?<![\w/.-])design\.md|\.\./shared\b"
                     r"|\bspec(?:'s)? (?:§\s?\d|Q\d)")
# Repository paths: a top-level folder, then path characters, ending in a
# name with an extension or a slash.
TOP = ("sim", "reference", "cli", "experiments", "gpu", "bench", "fuzz", "scripts", "tests", "docs", ".ci")
PATH = re.compile(r"(?<![\w/.$-])((?:%s)/[A-Za-z0-9_./+-]*[A-Za-z0-9_+-](?:\.[A-Za-z0-9]+|/))(?![\w*<{-])" %
                  "|".join(re.escape(t) for t in TOP))
# Paths of other projects that happen to begin like ours, each with the
# project it belongs to.
EXTERNAL = {
    "tests/cpp/operator/": "Transformer Engine's repository",
    "docs/source/": "PyTorch's documentation",
}


def tracked_files():
    out = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         check=True, capture_output=True).stdout
    return [f for f in out.decode().split("\0") if f and f.endswith(SUFFIXES)]


def exists(path, citing_dir):
    """Relative to the repository or to the citing file's folder (build files
    name their sources that way); data may be cited without its .txt.gz."""
    if any(path.startswith(prefix) for prefix in EXTERNAL):
        return True
    for base in (ROOT, os.path.join(ROOT, citing_dir)):
        for suffix in ("", ".gz", ".txt.gz"):
            if os.path.exists(os.path.join(base, path.rstrip("/") + suffix)):
                return True
    return False


def main():
    problems = []
    files = tracked_files()
    for rel in files:
        if rel.startswith("tests/data/") or rel == "tests/scripts/check_citations.py":
            continue  # data files, and this file's own description of the rule
        try:
            with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
                lines = f.readlines()
        except (UnicodeDecodeError, OSError):
            continue
        for n, line in enumerate(lines, 1):
            for m in OUTSIDE.finditer(line):
                problems.append(f"{rel}:{n}: cites {m.group(0)!r}, which is not in the repository")
            for m in PATH.finditer(line):
                p = m.group(1)
                if not exists(p, os.path.dirname(rel)):
                    problems.append(f"{rel}:{n}: cites {p!r}, which does not exist")
    for p in problems:
        print(p)
    print(f"{len(files)} files read, {len(problems)} dead citations")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
