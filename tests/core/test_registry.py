"""Parts chosen by name: every registry entry imports and is what its registry promises, an
unknown name is one line that lists the choices, and the config reads names from the registry."""

import pytest

from curate.core.config import OcrEngineOptions, OcrOptions
from curate.core.registry import (
    EXPORT_FORMATS,
    GENERATORS,
    OCR_ENGINES,
    Registry,
    UnknownName,
)
from curate.io.errors import CurateError


def test_every_entry_of_every_registry_imports_and_has_its_interface():
    from curate.runners.beam.stages import SCALE_OUT
    from curate.stages.generators.template import QUESTION_KINDS, QuestionKind
    from curate.stages.sources import DOCUMENT_FORMATS

    for _, engine in OCR_ENGINES.items():
        assert callable(engine.recognize) and callable(engine.detect_rotation)
    for _, backend in GENERATORS.items():
        assert all(callable(getattr(backend, m)) for m in ("generate", "why_no_qa", "serve"))
    for name, exporter in EXPORT_FORMATS.items():
        assert exporter.name == name and callable(exporter.write) and callable(exporter.validate)
    assert {".pdf", ".pptx", ".png"} <= set(DOCUMENT_FORMATS.names())
    assert all(callable(read) for _, read in DOCUMENT_FORMATS.items())
    assert all(isinstance(kind, QuestionKind) for _, kind in QUESTION_KINDS.items())
    assert set(SCALE_OUT.names()) == {"duplicate_clusters", "top_fraction"}


def test_an_unknown_name_is_one_clear_error_and_a_new_entry_is_one_line():
    registry = Registry("widget", {"gear": "fractions:Fraction"})
    with pytest.raises(UnknownName) as err:
        registry.load("cog")
    assert isinstance(err.value, CurateError)
    assert str(err.value) == "unknown widget 'cog'; choose one of: gear"
    registry.add("decimal", "decimal:Decimal")
    assert registry.names() == ("gear", "decimal") and registry.load("decimal")("1.5") * 2 == 3
    with pytest.raises(ValueError, match="not 'module:attribute'"):
        registry.add("broken", "decimal.Decimal")


def test_a_name_registered_already_is_replaced_only_when_asked():
    """docs/extending.md once registered its example kind as "definitions", which silently
    replaced the built-in kind of that name for the rest of the process."""
    registry = Registry("widget", {"gear": "fractions:Fraction"})
    registry.add("gear", "fractions:Fraction")  # the same entry again: nothing changes
    with pytest.raises(ValueError, match="'gear' is registered already"):
        registry.add("gear", "decimal:Decimal")
    assert registry.load("gear").__name__ == "Fraction"
    registry.add("gear", "decimal:Decimal", replace=True)
    assert registry.load("gear").__name__ == "Decimal"


def test_the_config_takes_the_names_its_registries_hold():
    assert OcrOptions(engine="paddleocr").engine.kind == "paddleocr"
    OCR_ENGINES.add("upper", "tests_engine:UpperEngine")
    try:
        assert OcrOptions(engine="upper").engine == OcrEngineOptions(kind="upper")
    finally:
        OCR_ENGINES.remove("upper")
    with pytest.raises(ValueError, match="unknown OCR engine 'upper'"):
        OcrOptions(engine="upper")
