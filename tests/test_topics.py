from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler import config as config_module
from crawler.cli import main
from crawler.digest.topics import EMERGING_TECHNOLOGIES, all_topics, tag
from crawler.errors import ConfigError


def test_the_fourteen_areas_of_83_fr_58201_are_shipped():
    assert len(EMERGING_TECHNOLOGIES) == 14
    assert len({t.name for t in EMERGING_TECHNOLOGIES}) == 14


@pytest.mark.parametrize(
    "text, topics",
    [
        ("Revisions to ECCN 4A906 for quantum computers", ("quantum",)),
        (
            "Integrated circuits for data center AI chipsets",
            ("ai", "microprocessors", "advanced-computing"),
        ),
        ("Facial-recognition and biometric surveillance items", ("advanced-surveillance",)),
        ("Additions to the Entity List", ()),
        ("robotic arm", ()),  # whole words only
    ],
)
def test_texts_are_tagged_with_the_topics_they_match(text, topics):
    assert tag(text, EMERGING_TECHNOLOGIES) == topics


def test_users_add_and_override_topics_and_subscriptions_load(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text(
        '[[topics]]\nname = "drones"\nkeywords = ["UAV", "drone"]\n'
        '[[topics]]\nname = "quantum"\nkeywords = ["qubit"]\n'
        '[[subscriptions]]\nname = "el"\nrecipients = ["a@example.com"]\neccns = ["3A090*"]\n'
    )
    config = config_module.load(path, env={})
    topics = all_topics(config)
    assert [t.name for t in topics][-1] == "drones"
    assert next(t for t in topics if t.name == "quantum").keywords == ("qubit",)
    assert config.subscriptions[0].eccns == ("3A090*",)
    assert (
        config_module.from_dict(config_module.to_dict(config)).subscriptions == config.subscriptions
    )
    result = CliRunner().invoke(main, ["--config", str(path), "topics"])
    assert result.exit_code == 0 and "drones  (drones)" in result.output


def test_an_unknown_subscription_key_is_an_error(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('[[subscriptions]]\nname = "x"\nrecipient = ["a@example.com"]\n')
    with pytest.raises(ConfigError, match=r"unknown key 'subscriptions\[0\]\.recipient'"):
        config_module.load(path, env={})
