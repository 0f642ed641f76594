"""The codebase keeps its own rules: ruff, the import layers, and docs generated from the code."""

import re
import subprocess
import sys
from pathlib import Path

from curate.schemas.reasons import reason_tables

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def test_ruff_finds_nothing():
    result = _run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_imports_follow_the_layers_and_only_pipelines_imports_beam():
    """[tool.importlinter] in pyproject.toml: entry points > Beam > runners > stages > core."""
    result = _run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


def test_the_reason_tables_in_docs_are_generated_from_the_registry():
    """docs/schema.md shows `reason_tables()` between its markers; regenerate with
    `python scripts/update_docs.py` after adding a reason."""
    text = (ROOT / "docs" / "schema.md").read_text()
    start, end = "<!-- reasons:start -->\n", "<!-- reasons:end -->"
    assert start in text and end in text, "docs/schema.md lost its reason markers"
    shown = text[text.index(start) + len(start) : text.index(end)]
    assert shown == reason_tables(), "docs/schema.md is stale: run python scripts/update_docs.py"


def test_the_schema_doc_names_the_schema_version_and_every_column():
    """A reader of docs/schema.md must find every column a Parquet file of this curate holds."""
    import dataclasses

    from curate.schemas import SCHEMA_VERSION
    from curate.schemas.arrow import RECORDS

    text = (ROOT / "docs" / "schema.md").read_text()
    assert f"# Output schema (version {SCHEMA_VERSION})" in text
    assert f"`curate.schema_version` | `{SCHEMA_VERSION}`" in text
    for kind, record in RECORDS.items():
        missing = [f.name for f in dataclasses.fields(record) if f"`{f.name}`" not in text]
        assert not missing, f"docs/schema.md lacks the {kind} columns {missing}"


def test_help_texts_keep_their_brackets():
    """Typer renders help as Rich markup, which silently deletes a lowercase "[default: 144]"
    (it reads as a style tag). Every bracket a help text holds must reach the user."""
    import typer.main
    from typer.testing import CliRunner

    from curate.cli import app

    group = typer.main.get_command(app)
    checked = 0
    for name, command in group.commands.items():
        shown = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "400"}).output
        flat = " ".join(shown.replace("│", " ").split())
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        for text in texts:
            for bracket in re.findall(r"\[[^\[\]]*\]", text):
                assert bracket in flat, f"curate {name} --help lost {bracket!r} of {text!r}"
                checked += 1
    assert checked >= 10


def test_the_stage_index_names_every_stage_where_it_lives():
    """curate/stages/__init__.py lists every stage: its name, its class and its module."""
    import importlib
    import inspect
    import pkgutil

    import curate.stages
    from curate.core.stage import Stage

    for module in pkgutil.walk_packages(curate.stages.__path__, "curate.stages."):
        importlib.import_module(module.name)
    index = curate.stages.__doc__
    stages = [
        cls
        for name in list(sys.modules)
        if name.startswith("curate.stages.")
        for _, cls in inspect.getmembers(sys.modules[name], inspect.isclass)
        if issubclass(cls, Stage) and cls.__module__ == name
    ]
    assert len(stages) >= 15
    for cls in stages:
        where = cls.__module__.removeprefix("curate.stages.").replace(".", "/") + ".py"
        assert cls.name in index and cls.__name__ in index and where in index, (cls, where)
