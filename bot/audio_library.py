"""The process's index of voice recordings: which file plays each clip, listed once, renewed now and then."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from bot import audio


class Library:
    """The process's index of recordings and placeholders: which file plays each clip, per language.

    A call's turn looks up ten-odd clips; asking the disk each time (stat, resolve) cost more than
    the rest of the turn. So each language's folders are listed once, and listed again when content
    is published (`forget`) or `rescan` seconds after the last listing (AUDIO_RESCAN_SECONDS), so a
    recording copied in without a publish is played within that time.
    """

    def __init__(self, content_dir: str | Path, rescan: float = 60, clock: Callable[[], float] = time.monotonic):
        self.content_dir = Path(content_dir)
        self.placeholders = audio.placeholder_root(content_dir)  # resolved once: resolve() walks the path
        self.rescan = rescan
        self.clock = clock
        self.generation = 0  # goes up with every forget: what was built from the old listing is stale
        self._listed: dict[str, dict[str, audio.Found]] = {}
        self.listed_at = clock()  # when the folders were last listed (or are to be, at the next lookup)

    def forget(self) -> None:
        """List every folder again at the next lookup (content was published, or time is up)."""
        self._listed = {}
        self.listed_at = self.clock()
        self.generation += 1

    def expire(self) -> int:
        """Forget the listing once it is `rescan` seconds old; the generation now in force."""
        if self.clock() - self.listed_at >= self.rescan:
            self.forget()
        return self.generation

    def find(self, lang: str, clip_id: str) -> audio.Found | None:
        """The file that plays a clip, as `locate` finds it, from the listing."""
        self.expire()
        listed = self._listed.get(lang)
        if listed is None:
            listed = self._listed[lang] = self._list(lang)
        return listed.get(clip_id)

    def _list(self, lang: str) -> dict[str, audio.Found]:
        real, fake = audio.audio_dir(self.content_dir, lang), self.placeholders / lang
        # A recording wins over a placeholder of the same clip, as in audio.locate.
        found = {stem: audio.Found(fake / name, True) for stem, (name, _) in audio.scan(fake).items()}
        found.update({stem: audio.Found(real / name, False) for stem, (name, _) in audio.scan(real).items()})
        return found
