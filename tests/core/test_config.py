import json
import typing

import pytest
from pydantic import BaseModel

from curate.core.config import (
    ConfigError,
    LLMOptions,
    OcrEngineOptions,
    PipelineConfig,
    Price,
    RapidOcrOptions,
    load_config,
    shapes_output,
)


def test_yaml_and_toml_with_flag_overrides(tmp_path):
    (tmp_path / "c.yaml").write_text("render:\n  dpi: 100\nsamples:\n  max_images: 6\n")
    (tmp_path / "c.toml").write_text("[render]\ndpi = 100\n[samples]\nmax_images = 6\n")
    for name in ("c.yaml", "c.toml"):
        config = load_config(tmp_path / name, {"render.dpi": 200, "samples.min_images": None})
        assert config.render.dpi == 200  # the flag wins
        assert config.samples.max_images == 6 and config.samples.min_images == 1  # the default


def test_bad_values_are_rejected_with_the_field_and_value(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(None, {"render.dpi": -5})
    assert "render.dpi" in str(err.value) and "-5" in str(err.value)
    (tmp_path / "bad.yaml").write_text("render:\n  dpix: 100\n")
    with pytest.raises(ConfigError, match="render.dpix"):
        load_config(tmp_path / "bad.yaml")
    (tmp_path / "c.json").write_text("{}")
    with pytest.raises(ConfigError, match=".yaml, .yml or .toml"):
        load_config(tmp_path / "c.json")
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_fingerprint_changes_with_output_shaping_options():
    base = PipelineConfig()
    assert base.fingerprint() == PipelineConfig().fingerprint()
    assert base.fingerprint() != load_config(None, {"render.dpi": 100}).fingerprint()


def _option_classes(model: type[BaseModel], seen: set | None = None) -> set[type[BaseModel]]:
    """Every options class a config can hold, sections and engine options included."""
    seen = seen if seen is not None else set()
    seen.add(model)
    for field in model.model_fields.values():
        for inner in _classes_in(field.annotation):
            if inner not in seen:
                _option_classes(inner, seen)
    return seen


def _classes_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [c for arg in typing.get_args(annotation) for c in _classes_in(arg)]


def test_every_config_field_says_whether_it_shapes_the_output():
    """The manifest's config_hash covers the fields that shape the output, and only those:
    a field that does not say is a bug, caught here."""
    classes = _option_classes(PipelineConfig) | {OcrEngineOptions, RapidOcrOptions}
    assert {LLMOptions, RapidOcrOptions, Price} <= classes
    unclassified = [
        f"{cls.__name__}.{name}"
        for cls in classes
        for name, field in cls.model_fields.items()
        if not _classes_in(field.annotation) and shapes_output(field) is None
    ]
    assert unclassified == []


def test_the_fingerprint_follows_the_classification():
    base = PipelineConfig()
    speed = load_config(None, {"ocr.threads": 3, "generator.llm.concurrency": 64})
    secret = load_config(None, {"generator.llm.api_key": "sk-123", "run.max_failure_rate": 0.9})
    assert base.fingerprint() == speed.fingerprint() == secret.fingerprint()
    rapid = load_config(None, {"ocr.engine": {"kind": "rapidocr", "det_limit_side_len": 736}})
    assert rapid.fingerprint() != base.fingerprint()  # an engine's own settings count too
    assert "sk-123" not in json.dumps(secret.model_dump(mode="json"))


def test_an_ocr_engine_is_named_or_given_with_its_settings_and_old_configs_still_read(tmp_path):
    assert load_config(None, {"ocr.engine": "tesseract"}).ocr.engine.kind == "tesseract"
    (tmp_path / "old.yaml").write_text("ocr:\n  engine: rapidocr\n  det_limit_side_len: 736\n")
    assert load_config(tmp_path / "old.yaml").ocr.engine.det_limit_side_len == 736
    with pytest.raises(ConfigError, match="ocr.engine.kind.*choose one of: rapidocr, tesseract"):
        load_config(None, {"ocr.engine": "easyocr"})
    with pytest.raises(ConfigError, match="ocr.engine.det_limit_side_len"):  # not tesseract's
        load_config(None, {"ocr.engine": {"kind": "tesseract", "det_limit_side_len": 736}})
    with pytest.raises(ConfigError, match="generator.backend"):
        load_config(None, {"generator.backend": "gpt"})
