"""Export and import of everything factsbot cannot rebuild, as versioned JSON lines.

- `nouns`: what is exported, one entry per noun (its keys, their types), and nothing else
- `export`: streams a deployment's nouns to a file (SCAN and pipelines, constant memory)
- `restore`: validates a file line by line and writes it into a prefix (idempotent)
- `wire`: many commands a round trip, packed and parsed by hiredis (redis-py's pipeline costs more than Redis)
"""

from bot.backup.export import export
from bot.backup.nouns import FORMAT, FORMAT_VERSION, NOUNS
from bot.backup.restore import RestoreError, restore, validate_file

__all__ = ["FORMAT", "FORMAT_VERSION", "NOUNS", "RestoreError", "export", "restore", "validate_file"]
