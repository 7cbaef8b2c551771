from pathlib import Path

import pytest

from crawler import config as config_module
from crawler.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_loads_and_matches_the_defaults():
    loaded = config_module.load(ROOT / "config.toml", env={})
    defaults = config_module.load(None, env={})
    assert loaded.sources.federal_register == defaults.sources.federal_register
    assert loaded.store == defaults.store and loaded.http == defaults.http
    assert loaded.store_path == ROOT / "regwatch.db"


def test_unknown_key_names_the_file_the_key_and_the_allowed_keys(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[sources.federal_register]\nagency = ["x"]\n')
    with pytest.raises(ConfigError) as caught:
        config_module.load(path, env={})
    message = str(caught.value)
    assert str(path) in message
    assert "sources.federal_register.agency" in message
    assert "agencies" in message


def test_wrong_type_is_a_one_line_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[http]\ntimeout = "soon"\n')
    with pytest.raises(ConfigError, match=r"'http\.timeout' must be float"):
        config_module.load(path, env={})


def test_environment_overrides_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[store]\npath = "a.db"\n')
    env = {
        "REGWATCH_STORE__PATH": "b.db",
        "REGWATCH_SOURCES__FEDERAL_REGISTER__AGENCIES": "state-department, treasury-department",
        "REGWATCH_HTTP__POLITE": "false",
        "REGWATCH_SMTP_PASSWORD": "not a config key",
    }
    config = config_module.load(path, env=env)
    assert config.store_path == tmp_path / "b.db"
    assert config.sources.federal_register.agencies == ("state-department", "treasury-department")
    assert config.http.polite is False


def test_config_survives_the_handover_to_a_crawl_process(tmp_path):
    config = config_module.load(ROOT / "config.toml", env={"REGWATCH_HTTP__RETRIES": "5"})
    again = config_module.from_dict(config_module.to_dict(config))
    assert again.http.retries == 5
    assert again.sources == config.sources and again.root == config.root


def test_a_bad_ecfr_watch_is_a_config_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[sources.ecfr]\nwatches = ["15:730-774", "part 744"]\n')
    with pytest.raises(ConfigError, match="'part 744' is not TITLE:PARTS"):
        config_module.load(path, env={})
