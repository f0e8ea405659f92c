"""Benchmark: how often the question matcher puts the right topic first and among the closest three.

    .venv/bin/python bench/questions.py [--misses] [--lang en]

Reads tests/data/questions.yaml (50 questions per language as families text them, each with
its topic and, where two topics answer it, the other one) and ranks each with bot.questions.
Every third question is held out: the matcher is tuned on the others ("dev") only, so the
held-out columns show how it does on questions it was never fitted to. --misses lists the dev
questions whose topic is not first (never the held-out ones: looking at them would fit them).
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from bot import content, questions  # noqa: E402

QUESTIONS = ROOT / "tests" / "data" / "questions.yaml"


def asked(path: Path = QUESTIONS) -> dict[str, list[tuple[str, frozenset[str], bool]]]:
    """Language -> (question, topics that answer it, held out?) in file order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        code: [(str(q), frozenset(map(str, topics)), i % 3 == 2) for i, (q, *topics) in enumerate(rows)]
        for code, rows in data.items()
    }


def score(lang: content.Language, rows) -> dict[str, int]:
    """How many questions have a right topic first, and among the closest three."""
    first = top3 = 0
    for question, topics, _ in rows:
        found = [m.topic.id for m in questions.closest(lang, question, 3)]
        first += bool(found) and found[0] in topics
        top3 += bool(topics.intersection(found))
    return {"n": len(rows), "first": first, "top3": top3}


def misses(lang: content.Language, rows) -> list[str]:
    lines = []
    for question, topics, _ in rows:
        found = [m.topic.id for m in questions.closest(lang, question, 3)]
        if not found or found[0] not in topics:
            mark = "  " if topics.intersection(found) else "XX"
            lines.append(f"{mark} {question!r} want {'/'.join(sorted(topics))} got {found}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list dev questions whose topic is not first")
    parser.add_argument("--lang", action="append", help="only these languages")
    args = parser.parse_args()
    catalog = content.load(ROOT / "messages")
    figures = {}
    print(f"{'lang':<5}{'set':<9}{'n':>4}{'top 3':>12}{'first':>12}")
    for code, rows in asked().items():
        if args.lang and code not in args.lang:
            continue
        lang = catalog.language(code)
        parts = {"dev": [r for r in rows if not r[2]], "held-out": [r for r in rows if r[2]], "all": rows}
        figures[code] = {name: score(lang, part) for name, part in parts.items()}
        for name, f in figures[code].items():
            n = f["n"]
            print(f"{code:<5}{name:<9}{n:>4}{f['top3']:>5}/{n:<2}{f['top3'] / n:>4.0%}{f['first']:>5}/{n:<2}"
                  f"{f['first'] / n:>4.0%}")  # fmt: skip
        if args.misses:
            print("\n".join(misses(lang, parts["dev"])))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
