"""Every kb command is documented: in the README and with an example in its help."""

import re

import pytest

from helpers import REPO
from kb.cli import cli

COMMANDS = sorted(cli.commands)


def test_there_are_commands():
    assert COMMANDS == ["build", "export", "fetch", "match", "resolve", "serve", "validate"]


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_the_readme(name):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"`kb {name}\b", readme), f"kb {name} is not documented in README.md"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_help_has_a_summary_and_an_example(run, name):
    result = run(name, "--help")
    assert result.exit_code == 0
    assert "Example: kb " + name in result.output
    assert cli.commands[name].get_short_help_str(limit=200)


def test_unknown_command_is_a_usage_error(run):
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["nonsense"])
    assert result.exit_code == 2
