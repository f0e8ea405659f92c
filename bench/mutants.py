"""Apply each one-line mutation of issue 10 to a throwaway copy of the tree and run the tests that should catch it.

    REDIS_URL=redis://127.0.0.1:6379/8 .venv/bin/python bench/mutants.py [--worktree] [--also tests/test_x.py] [-k NAME]

The copy is of the last commit (`git archive HEAD`), or with --worktree of the files as they
are now; the working tree itself is never touched. A mutation is found by a pattern that must
match exactly once somewhere under bot/, so it follows code that moved to another module. First
the tests run on the unmutated copy (they must pass), then once per mutant. Prints one line per
mutant (caught, with the failing tests, or SURVIVED) and, last, one JSON object. Exit 1 if a
mutant survived or could not be applied.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
TESTS = ["tests/test_mutations.py", "tests/test_segments.py"]


@dataclass(frozen=True)
class Mutant:
    name: str
    pattern: str  # a regular expression that must match exactly once under bot/
    replacement: str  # re.sub replacement for that match


MUTANTS = [
    Mutant("dedupe marker written without expiry",
           r"(if ARGV\[2\] == '1' then redis\.call\('SET', KEYS\[2\], ARGV\[3\]), 'EX', ARGV\[4\]\)", r"\1)"),
    Mutant("second start() re-snapshots the audience",
           r"( +)if info\.get\(\"started_at\"\):\n( +)return 0", r"\1if False:\n\2return 0"),
    Mutant("'~' missing from the GSM-7 extension table",
           r"(GSM7_EXTENSION = frozenset\(\"[^\"\n]*?)~([^\"\n]*\"\))", r"\1\2"),
    Mutant("no bound on USSD replay length", r"if len\(parts\) > MAX_REPLAY:", "if False:"),
    Mutant("control characters kept in logged inbound text",
           r"unicodedata\.category\(c\)\[0\] != \"C\"", "True"),
    Mutant("failed->delivered status does not move the figures",
           r"if final\[current\] and not final\[ARGV\[1\]\] then", "if final[current] then"),
    Mutant("subscription claim without compare-and-set",
           r"if not score or tonumber\(score\) ~= tonumber\(ARGV\[2\]\) then return -1 end",
           "if not score then return -1 end"),
    Mutant("session idle expiry changed",
           r"self\.session_ttl = int\(config\[\"SESSION_IDLE_SECONDS\"\]\)", "self.session_ttl = 1800"),
    Mutant("smart encoding switched off for replies",
           r"smart = config\[\"SMART_ENCODING\"\]", "smart = False"),
    Mutant("retry backoff removed", r"interval=\[base \* 3\*\*n for n in range\(attempts\)\]", "interval=0"),
    Mutant("send throttle is a no-op", r"( +)if mps <= 0:\n( +)return\n", r"\1if True:\n\2return\n"),
]  # fmt: skip


def copy_tree(worktree: bool) -> Path:
    target = Path(tempfile.mkdtemp(prefix="factsbot-mutants-"))
    if worktree:
        files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                               capture_output=True, text=True).stdout.split("\n")  # fmt: skip
        for name in filter(None, files):
            source = ROOT / name
            if source.is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
    else:
        archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def site(tree: Path, mutant: Mutant) -> tuple[Path, str] | str:
    """The one file the pattern matches in, and its text; or why the mutant cannot be applied."""
    found = []
    for path in sorted((tree / "bot").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if n := len(re.findall(mutant.pattern, text)):
            found.append((path, text, n))
    if len(found) != 1 or found[0][2] != 1:
        where = ", ".join(f"{p.relative_to(tree)} x{n}" for p, _, n in found) or "nowhere"
        return f"pattern must match once, matched {where}"
    return found[0][0], found[0][1]


def run_tests(tree: Path, tests: list[str], select: str) -> tuple[bool, list[str], float]:
    """(passed, failing test ids, seconds)."""
    cmd = [str(PYTHON), "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider", "-rf", "--no-header"]
    if select:
        cmd += ["-k", select]
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tree)})
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", done.stdout, re.M)
    return done.returncode == 0, failed, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worktree", action="store_true", help="copy the working tree, not the last commit")
    parser.add_argument("--also", action="append", default=[], help="more test files to run against each mutant")
    parser.add_argument("-k", dest="only", default="", help="only mutants whose name contains this")
    parser.add_argument("--keep", action="store_true", help="keep the copy (its path is printed)")
    args = parser.parse_args()
    tests = TESTS + args.also

    tree = copy_tree(args.worktree)
    results = []
    try:
        passed, failed, seconds = run_tests(tree, tests, "")
        print(f"unmutated: {'pass' if passed else 'FAIL ' + ' '.join(failed)} ({seconds:.0f} s)", flush=True)
        if not passed:
            sys.exit("the tests fail without any mutation; fix that first")
        for mutant in MUTANTS:
            if args.only and args.only not in mutant.name:
                continue
            found = site(tree, mutant)
            if isinstance(found, str):
                results.append({"mutant": mutant.name, "result": "not applied", "why": found})
                print(f"NOT APPLIED  {mutant.name}: {found}", flush=True)
                continue
            path, original = found
            path.write_text(re.sub(mutant.pattern, mutant.replacement, original), encoding="utf-8")
            try:
                passed, failed, seconds = run_tests(tree, tests, "")
            finally:
                path.write_text(original, encoding="utf-8")
            where = str(path.relative_to(tree))
            result = "SURVIVED" if passed else "caught"
            results.append({"mutant": mutant.name, "file": where, "result": result, "caught_by": failed})
            print(f"{result:8}  {mutant.name} ({where}): {' '.join(failed) or '-'} ({seconds:.0f} s)", flush=True)
    finally:
        if args.keep:
            print(f"copy kept at {tree}")
        else:
            shutil.rmtree(tree, ignore_errors=True)
    print(json.dumps(results))
    sys.exit(0 if all(r["result"] == "caught" for r in results) else 1)


if __name__ == "__main__":
    main()
