"""What every command group shares (bot/cli.py, cli_content.py, cli_audio.py): the running deployment's services.

Its own module so the groups need not import each other (cli_content importing cli was an import cycle).
"""

from __future__ import annotations

import click

from bot import settings


def deployment_services():
    """The services of the running deployment: REDIS_URL, or the embedded Valkey of a running `factsbot dev`."""
    from bot import embedded, services

    url = embedded.existing_url()
    if not url:
        # A server started for this command alone would vanish with it, and what it wrote with it.
        raise click.ClickException(
            "no Redis to use: set REDIS_URL, or start the service (scripts/serve) and run this beside it"
        )
    return services.build({**settings.from_env(), "REDIS_URL": url})
