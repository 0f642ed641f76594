"""Which reference model scores a job: the one asked for, or the offline defaults.

The defaults live in a user cache, `$CURATE_HOME/models` (default `~/.cache/curate/models`),
built by `scripts/setup.sh` (scripts/make_scoring_models.py), so they are found from any working
directory. A `.models/` folder in the working directory (older set-ups) is looked at too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from curate.schemas import IMAGE_METRICS
from curate.stages.scoring.model import TEXT_MODEL_ALIAS

DEFAULTS = {
    "smollm2": "SmolLM2-135M-Instruct (text): IFD",
    "tiny-idefics3": "SmolLM2 text + an UNTRAINED small vision tower: image metrics as a code "
    "path test, no visual meaning",
}


def models_home() -> Path:
    """Where default models live: $CURATE_HOME/models, else ~/.cache/curate/models."""
    home = os.environ.get("CURATE_HOME")
    return Path(home) / "models" if home else Path.home() / ".cache" / "curate" / "models"


def model_folders() -> list[Path]:
    """The folders searched for default models, in order."""
    return [models_home(), Path(".models")]


def find_default(name: str) -> Path | None:
    for folder in model_folders():
        if (folder / name / "config.json").is_file():
            return (folder / name).resolve()
    return None


def resolve_model(model: str | None, metrics: Sequence[str]) -> str:
    """The model to score with: the one asked for, else the offline defaults (SmolLM2 for IFD;
    the tiny Idefics3 for image scores)."""
    if model:
        return model
    wanted = set(metrics) | ({"ifd", "vfd"} if "mifd" in metrics else set())
    name = "tiny-idefics3" if wanted & IMAGE_METRICS else "smollm2"
    found = find_default(name)
    if found is not None:
        return str(found)
    if name == "smollm2":
        return TEXT_MODEL_ALIAS  # straight from the GGUF: slower to load, same weights
    raise ValueError(
        f"no model for {sorted(wanted & IMAGE_METRICS)}: pass --model (an image-text model such as "
        f"HuggingFaceTB/SmolVLM-256M-Instruct, or a local folder) or build the offline test model "
        f"into {models_home()} with `python scripts/make_scoring_models.py` (see `curate models`)"
    )


def check_available(model: str) -> None:
    """Raise ValueError, with what to do, when `model` cannot be loaded here: a folder that is
    missing or holds no model, or a Hub id that is neither cached nor reachable. Found before
    the job starts, not as a loader's traceback from a worker."""
    if model == TEXT_MODEL_ALIAS:
        return
    path = Path(model).expanduser()
    if model.startswith((".", "/", "~")) or os.sep in model.strip("/").replace("/", "", 1):
        if not path.is_dir():
            raise ValueError(
                f"--model {model}: no such folder; give a local model folder (with config.json) "
                "or a Hub id such as HuggingFaceTB/SmolVLM-256M-Instruct"
            )
        if not (path / "config.json").is_file():
            raise ValueError(f"--model {model} holds no config.json; is it a transformers model?")
        return
    if path.is_dir():
        return
    from huggingface_hub import constants, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(model, "config.json"), str):
        return
    if constants.HF_HUB_OFFLINE:
        raise ValueError(
            f"--model {model} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set: "
            f"download it first (hf download {model}) or give a local folder"
        )
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        HfApi().model_info(model, timeout=20)
    except RepositoryNotFoundError:
        raise ValueError(f"--model {model}: no such model on the Hub (or it is private)") from None
    except Exception as err:  # the HTTP library's own errors (no network, DNS, TLS) vary
        raise ValueError(
            f"--model {model} is not cached here and the Hub cannot be reached "
            f"({type(err).__name__}); download it where there is network (hf download) or give "
            "a local folder"
        ) from None


def untrained_vision(model: str) -> bool:
    """Whether `model` is the offline test model, whose vision tower has random weights: its
    image scores exercise the code path and say nothing about the images."""
    found = find_default("tiny-idefics3")
    return found is not None and Path(model).expanduser().resolve() == found


def describe(model: str) -> dict[str, object]:
    """What the manifest and the card record about the model that scored: its name, the Hub
    revision where known, and a fingerprint of its files (config, weight names, sizes and
    first MiB), so two datasets scored by different weights can be told apart."""
    path = Path(model).expanduser()
    info: dict[str, object] = {"name": model}
    if not path.is_dir():
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(model, "config.json") if "/" in model else None
        if not isinstance(cached, str):
            return info
        path = Path(cached).parent
    if path.parent.name == "snapshots":  # a Hub cache snapshot: models--org--name/snapshots/rev
        info["name"] = path.parent.parent.name.removeprefix("models--").replace("--", "/")
        info["revision"] = path.name
    else:
        info["name"] = path.name
    info["fingerprint"] = _fingerprint(path)
    if untrained_vision(str(path)):
        info["untrained_vision"] = True
    return info


def _fingerprint(folder: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    for file in sorted(folder.iterdir()):
        if file.is_file() and (file.name == "config.json" or file.suffix in WEIGHT_SUFFIXES):
            digest.update(f"{file.name}:{file.stat().st_size}:".encode())
            with file.open("rb") as handle:
                digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:16]


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt")
