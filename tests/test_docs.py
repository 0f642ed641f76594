"""The worked examples in docs/extending.md run as written: a new stage, OCR engine, generator
backend, export format and question kind, each registered and used the way the page says."""

from __future__ import annotations

import re
import sys
import types

import pytest
from documents import REPO

from curate.core.registry import EXPORT_FORMATS, GENERATORS, OCR_ENGINES

DOC = REPO / "docs" / "extending.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
MODULE = re.compile(r"# file: (\w+)\.py\n")


@pytest.fixture
def registries():
    """The registries as they were: examples add entries, which must not outlive the test."""
    from curate.stages.generators.template import QUESTION_KINDS

    kept = {
        id(r): (r, r.names()) for r in (OCR_ENGINES, GENERATORS, EXPORT_FORMATS, QUESTION_KINDS)
    }
    yield
    for registry, names in kept.values():
        for name in set(registry.names()) - set(names):
            registry.remove(name)


def test_every_worked_example_in_extending_md_runs(tmp_path, monkeypatch, registries):
    blocks = BLOCK.findall(DOC.read_text())
    assert len(blocks) >= 10, "docs/extending.md lost its examples"
    (tmp_path / "examples").symlink_to(REPO / "examples")
    monkeypatch.chdir(tmp_path)
    script: dict = {"__name__": "extending_md"}
    modules = []
    try:
        for block in blocks:
            named = MODULE.match(block)
            if named:  # a module the next blocks import, and the registries name
                module = types.ModuleType(named.group(1))
                sys.modules[module.__name__] = module
                modules.append(module.__name__)
                exec(compile(block, f"extending.md:{module.__name__}", "exec"), module.__dict__)
            else:
                exec(compile(block, "extending.md", "exec"), script)
    finally:
        for name in modules:
            sys.modules.pop(name, None)
    assert modules == [
        "short_pages",
        "upper_engine",
        "first_line",
        "turns_export",
        "contacts",
    ]
