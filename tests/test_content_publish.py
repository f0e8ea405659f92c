"""Publishing edited content: every web process and worker reads it again, and broken content is never published."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot import content, jobs, services
from bot.app import create_app
from bot.cli import main
from tests.conftest import Phone, recorded, wait_for

OLD = "Mosquitoes spread malaria mostly at night."
NEW = "Mosquitoes bite and spread malaria mostly at night."


@pytest.fixture
def config(config, folder):
    return {**config, "CONTENT_DIR": str(folder), "CONTENT_CHECK_SECONDS": 0}


def edit(folder, old: str, new: str) -> None:
    path = folder / "en" / "10-malaria.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def malaria_first(app) -> str:
    return Phone(app.test_client(), "+256700000777").text("MALARIA")[0]


def test_an_edit_is_used_everywhere_only_once_published(config, folder):
    publisher, other = create_app(config), create_app(config)  # two web processes
    assert OLD in malaria_first(other)
    edit(folder, OLD, NEW)
    assert OLD in malaria_first(other), "an unpublished edit on disk changes nothing a family reads"

    publisher.extensions["factsbot"].publish_content()
    assert NEW in malaria_first(other)
    assert NEW in malaria_first(publisher)


def test_other_processes_check_no_more_often_than_configured(config, folder):
    other = create_app({**config, "CONTENT_CHECK_SECONDS": 3600})
    publisher = services.build(config)
    edit(folder, OLD, NEW)
    publisher.publish_content()
    assert OLD in malaria_first(other), "checked within the hour, so the old text stays for now"
    other.extensions["factsbot"].content_checked -= 3600
    assert NEW in malaria_first(other)


def test_broken_content_is_not_published(config, folder):
    publisher, other = services.build(config), create_app(config)
    (folder / "en" / "10-malaria.yaml").write_text("topic: [unclosed\n", encoding="utf-8")
    generation = publisher.store.content_generation()
    with pytest.raises(content.ContentError):
        publisher.publish_content()
    assert publisher.store.content_generation() == generation
    assert OLD in malaria_first(other)


def test_the_command_publishes_and_refuses_broken_content(monkeypatch, config, folder):
    for name in ("REDIS_URL", "REDIS_PREFIX", "CONTENT_DIR"):
        monkeypatch.setenv(name, str(config[name]))
    running = create_app(config)
    edit(folder, OLD, NEW)
    published = CliRunner().invoke(main, ["content", "publish"])
    assert published.exit_code == 0 and "published content generation 1" in published.output, published.output
    assert NEW in malaria_first(running)

    (folder / "fr" / "system.yaml").write_text("welcome: [\n", encoding="utf-8")
    refused = CliRunner().invoke(main, ["content", "publish"])
    assert refused.exit_code == 1 and "not published" in refused.output
    assert services.build(config).store.content_generation() == 1


@pytest.mark.slow
def test_a_running_worker_sends_the_published_text(config, folder, workers):
    publisher = services.build(config)
    workers(config)
    jobs.enqueue_key_message(publisher, "+256700000778", "malaria", "malaria-1")
    wait_for(lambda: recorded(config), "the first send")
    edit(folder, OLD, NEW)
    publisher.publish_content()
    jobs.enqueue_key_message(publisher, "+256700000779", "malaria", "malaria-1")
    wait_for(lambda: len(recorded(config)) == 2, "the second send")
    before, after = recorded(config)
    assert OLD in before["body"] and NEW in after["body"]
