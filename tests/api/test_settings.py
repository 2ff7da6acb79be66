"""Settings: read from the environment only when asked, every one documented in the README."""

import re
from dataclasses import fields
from pathlib import Path

import pytest

from api.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def service_section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- service:start -->(.*)<!-- service:end -->", text, re.S)
    assert match, "README.md lacks the service section markers"
    return match.group(1)


@pytest.mark.parametrize("name", [f.name for f in fields(Settings)])
def test_every_setting_is_documented(name):
    section = service_section()
    assert f"`{name}`" in section
    assert f"`{Settings.env_names()[name]}`" in section


def test_from_env_reads_prefixed_variables():
    settings = Settings.from_env({
        "SWAPGRAPH_DATA_DIR": "/tmp/x", "SWAPGRAPH_PORT": "9001", "SWAPGRAPH_QUERY_TIMEOUT": "2.5",
        "SWAPGRAPH_CORS_ORIGINS": "https://a.example, https://b.example", "SWAPGRAPH_WORKERS": "",
        "OTHER": "ignored",
    })
    assert settings.data_dir == Path("/tmp/x")
    assert settings.port == 9001
    assert settings.query_timeout == 2.5
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.workers == Settings().workers


def test_a_bad_value_names_the_variable():
    with pytest.raises(ValueError, match="SWAPGRAPH_PORT"):
        Settings.from_env({"SWAPGRAPH_PORT": "eighty"})


def test_defaults_are_safe():
    settings = Settings()
    assert settings.host == "127.0.0.1"
    assert settings.cors_origins == ()
    assert settings.query_timeout > 0 and settings.max_rows > 0


def test_public_base_url_must_be_an_origin_and_agree_with_public_hosts():
    assert Settings(public_base_url="https://data.example.org/").public_origin == ("https", "data.example.org")
    assert Settings().public_origin is None
    for bad in ("data.example.org", "ftp://data.example.org", "https://data.example.org/swapgraph", "https://x/?a=1"):
        with pytest.raises(ValueError, match="SWAPGRAPH_PUBLIC_BASE_URL"):
            Settings.from_env({"SWAPGRAPH_PUBLIC_BASE_URL": bad})
    with pytest.raises(ValueError, match="SWAPGRAPH_PUBLIC_HOSTS"):
        Settings.from_env({"SWAPGRAPH_PUBLIC_BASE_URL": "https://data.example.org",
                           "SWAPGRAPH_PUBLIC_HOSTS": "other.example.org"})
    both = Settings.from_env({"SWAPGRAPH_PUBLIC_BASE_URL": "https://data.example.org",
                              "SWAPGRAPH_PUBLIC_HOSTS": "Data.Example.org"})
    assert both.public_origin == ("https", "data.example.org")
