"""The codebase keeps its own rules: ruff, the import layers, and docs generated from the code."""

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
    assert "2 kept, 0 broken" in result.stdout


def test_the_reason_tables_in_docs_are_generated_from_the_registry():
    """docs/schema.md shows `reason_tables()` between its markers; regenerate with
    `python scripts/update_docs.py` after adding a reason."""
    text = (ROOT / "docs" / "schema.md").read_text()
    start, end = "<!-- reasons:start -->\n", "<!-- reasons:end -->"
    assert start in text and end in text, "docs/schema.md lost its reason markers"
    shown = text[text.index(start) + len(start) : text.index(end)]
    assert shown == reason_tables(), "docs/schema.md is stale: run python scripts/update_docs.py"
