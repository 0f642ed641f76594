import pytest

from curate.core.config import ConfigError, PipelineConfig, load_config


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
