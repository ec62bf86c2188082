import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
DATA = REPO / "data"


@pytest.fixture
def data_dir(tmp_path):
    """A writable copy of the small valid fixture data set."""
    target = tmp_path / "data"
    shutil.copytree(FIXTURES / "minimal", target)
    return target


@pytest.fixture
def run():
    """Run a kb command in-process; returns the click Result."""
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return invoke


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a fixture file, failing loudly if the text is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as f:
        f.write(line + "\n")
