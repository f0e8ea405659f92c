"""What every command group shares (bot/cli.py, cli_content.py, cli_audio.py): the running deployment's services.

Its own module so the groups need not import each other (cli_content importing cli was an import cycle).
"""

from __future__ import annotations

import click

from bot import connection, settings


def deployment_services():
    """The services of the running deployment: REDIS_URL, or the embedded Valkey of a running `factsbot dev`."""
    from bot import embedded, services

    config = settings.from_env()
    if connection.uses_sentinel(config):
        return services.build(config)  # the primary the Sentinels name, as the web app and workers find it
    url = embedded.existing_url()
    if not url:
        # A server started for this command alone would vanish with it, and what it wrote with it.
        raise click.ClickException(
            "no Redis to use: set REDIS_URL or REDIS_SENTINELS, or start the service (scripts/serve) and run this "
            "beside it"
        )
    return services.build({**config, "REDIS_URL": url})
