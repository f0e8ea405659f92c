"""messages/<lang>/whatsapp.yaml: the WhatsApp templates Meta approved for each language, validated.

Outside WhatsApp's 24-hour window a business may only send an approved template: Twilio's
Content API sends one by its `ContentSid` (HX + 32 hex digits) with its variables. Each
language lists the templates it has; an empty `content_sid` means "not approved yet", and
a person reading that language then gets the message by SMS outside the window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.content.files import read_yaml, rel
from bot.content.model import Problem

FILE = "whatsapp.yaml"
# What the app sends with each template: `tip` for a key message we start (subscriptions,
# broadcasts, "send me this"), `message` for any other text (timed reminders, an answer).
NAMES = ("tip", "message")
# The values the app can fill a template's variables with, in the template's {{1}}, {{2}} order.
VARIABLES = ("text", "program")
_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(frozen=True)
class Template:
    name: str
    content_sid: str
    variables: tuple[str, ...]  # what fills {{1}}, {{2}}... ("text", "program")
    body: str = ""  # the approved wording, for editors and operators (Twilio holds the real one)

    def values(self, **known: str) -> dict[str, str]:
        """ContentVariables: {"1": ..., "2": ...}. WhatsApp refuses newlines and tabs inside a variable."""
        return {str(n): " ".join(str(known.get(v, "")).split()) for n, v in enumerate(self.variables, 1)}


def read(folder: Path, root: Path, problems: list[Problem]) -> dict[str, Template]:
    """A language's approved templates by name ({} when it has no whatsapp.yaml or none approved)."""
    path = folder / FILE
    if not path.exists():
        return {}
    name = rel(path, root)
    data = read_yaml(path, root, problems)
    templates = data.get("templates") if isinstance(data, dict) else None
    if not isinstance(templates, dict):
        if data is not None:
            problems.append(Problem(name, "", "needs `templates:`, a mapping of template names (tip, message)"))
        return {}
    found = {}
    for key, spec in templates.items():
        template = _template(str(key), spec, name, problems)
        if template is not None and template.content_sid:
            found[template.name] = template
    return found


def _template(key: str, spec, file: str, problems: list[Problem]) -> Template | None:
    def problem(message: str) -> None:
        problems.append(Problem(file, f"templates.{key}", message))

    if key not in NAMES:
        problem(f"unknown template name; the app sends {', '.join(NAMES)}")
        return None
    if not isinstance(spec, dict):
        problem("needs content_sid and variables")
        return None
    sid = str(spec.get("content_sid") or "").strip()
    if sid and not _SID.match(sid):
        problem(f"content_sid {sid!r} is not a Content SID (HX and 32 hex digits); leave it empty until approved")
        return None
    variables = spec.get("variables") or []
    if not isinstance(variables, list) or any(v not in VARIABLES for v in variables):
        problem(f"variables must be a list of {', '.join(VARIABLES)}")
        return None
    body = str(spec.get("body") or "")
    numbers = sorted({int(n) for n in _PLACEHOLDER.findall(body)})
    if body and numbers != list(range(1, len(variables) + 1)):
        problem(f"body has placeholders {numbers or 'none'} but {len(variables)} variable(s): they must match")
        return None
    return Template(key, sid, tuple(variables), body)
