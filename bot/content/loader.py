"""Load the content folder: every language, the helplines and the symptom routes, with every problem found."""

from __future__ import annotations

from pathlib import Path

from bot.content import fit, whatsapp
from bot.content.files import FileReader, read_yaml, rel
from bot.content.merge import Merger
from bot.content.model import FALLBACK, Catalog, ContentError, Helpline, Language, Problem, SymptomRoute

# An unlisted country gets no number rather than another region's (no European 116 111 in
# Nigeria): its replies use the *_no_number texts.
NO_NUMBER = Helpline("", "")


def load(folder: str | Path, *, helpline_override: Helpline | None = None, require_review: bool = False) -> Catalog:
    """Load and validate the whole content folder; raise ContentError listing every problem.

    require_review: a translated key message nobody has signed off is sent in English instead.
    """
    catalog, problems = check(folder, helpline_override=helpline_override, require_review=require_review)
    if problems:
        raise ContentError(problems)
    return catalog


def check(folder: str | Path, *, helpline_override: Helpline | None = None, require_review: bool = False):
    """Load what can be loaded and return (catalog or None, every problem found)."""
    folder = Path(folder)
    problems: list[Problem] = []
    if not (folder / FALLBACK).is_dir():
        return None, [Problem(str(folder), "", f"no {FALLBACK}/ folder: English is required")]
    english = read_language(folder / FALLBACK, folder, None, problems)
    languages = {FALLBACK: english}
    for sub in sorted(folder.iterdir()):
        if sub.is_dir() and sub.name != FALLBACK:
            languages[sub.name] = read_language(sub, folder, english, problems, require_review=require_review)
    helplines, default = read_helplines(folder / "helplines.yaml", folder, problems)
    # Against the file's numbers and the shipped first-contact languages: an override
    # (CHILD_HELPLINE...) or another deployment's COUNTRY_LANGUAGES is the renderer's to fit.
    problems += fit.problems(languages, helplines, default, fit.FIRST_CONTACT, fit.DEFAULT_LANGUAGE,
                             rel(folder, folder.parent))  # fmt: skip
    if helpline_override:
        helplines = {c: _override(h, helpline_override) for c, h in helplines.items()}
        default = _override(default, helpline_override)
    symptoms = read_symptoms(folder / "symptoms.yaml", folder, english, problems)
    templates = {code: whatsapp.read(folder / code, folder, problems) for code in languages}
    return Catalog(languages, helplines, default, symptoms, templates), problems


def read_language(
    folder: Path, root: Path, english: Language | None, problems: list[Problem], *, require_review: bool = False
) -> Language:
    parts = FileReader(folder.name, folder, root, english, problems).read()
    return Merger(folder.name, rel(folder, root), english, problems).language(parts, require_review=require_review)


def _override(h: Helpline, o: Helpline) -> Helpline:
    return Helpline(o.child or h.child, o.emergency or h.emergency)


def read_helplines(path: Path, root: Path, problems: list[Problem]) -> tuple[dict[str, Helpline], Helpline]:
    data = read_yaml(path, root, problems) if path.exists() else None
    if not isinstance(data, dict):
        if path.exists():
            problems.append(Problem(rel(path, root), "", "must be a mapping with default: and countries:"))
        return {}, NO_NUMBER

    def entry(value, place) -> Helpline | None:
        if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("child", "emergency")):
            problems.append(Problem(rel(path, root), place, 'needs child: and emergency: as text ("" for none)'))
            return None
        return Helpline(value["child"].strip(), value["emergency"].strip())

    default = entry(data.get("default"), "default") or NO_NUMBER
    countries = {}
    for code, value in (data.get("countries") or {}).items():
        h = entry(value, f"countries.{code}")
        if h:
            countries[str(code).upper()] = h
    return countries, default


def read_symptoms(path: Path, root: Path, english: Language, problems: list[Problem]) -> dict[str, SymptomRoute]:
    """messages/symptoms.yaml: which key message a symptom leads to (language independent)."""
    if not path.exists():
        return {}
    data = read_yaml(path, root, problems)
    name = rel(path, root)
    if not isinstance(data, dict):
        if data is not None:
            problems.append(Problem(name, "", "must be a mapping of symptom name to message: and elsewhere:"))
        return {}
    routes = {}
    for symptom, value in data.items():
        if not isinstance(value, dict) or not isinstance(value.get("message"), str):
            problems.append(Problem(name, str(symptom), "needs message: <key message id> (and optional elsewhere:)"))
            continue
        route = SymptomRoute(value["message"].strip(), str(value.get("elsewhere") or "").strip())
        bad = [(f, i) for f, i in (("message", route.message), ("elsewhere", route.elsewhere))
               if i and english.message(i) is None]  # fmt: skip
        for f, message_id in bad:
            if not any(message_id.startswith(f"{t}-") for t in english.broken):
                problems.append(Problem(name, f"{symptom}.{f}", f"{message_id!r} is not a key message id"))
        if not bad:
            routes[str(symptom)] = route
    for symptom in sorted(set(english.symptoms) - {str(k) for k in data}):
        problems.append(Problem(name, symptom, "words.yaml has words for it but it leads to no key message here"))
    return routes
