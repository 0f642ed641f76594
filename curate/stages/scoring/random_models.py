"""Idefics3/SmolVLM-shaped models built from a config with random weights (nothing downloaded).

For benchmarks and tests that need a model of a real shape, or with a real processor's image
settings, where the trained weights do not matter: the compute and the token accounting are
those of the real model; the scores mean nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from curate.stages.scoring.model import ScoringModel


@dataclass(frozen=True)
class Shape:
    vision: dict
    text: dict
    scale_factor: int
    tile: int  # pixels per side of one tile (the vision tower's image_size)
    tiles_per_side: int  # the processor's longest edge is tile x this

    @property
    def tokens_per_tile(self) -> int:
        side = self.vision["image_size"] // self.vision["patch_size"]
        return side * side // self.scale_factor**2


SHAPES = {
    # SmolVLM-256M: SigLIP-base/16 at 512 px, SmolLM2-135M text, 64 tokens a tile, up to 4x4 tiles
    "smolvlm": Shape(
        vision=dict(
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            image_size=512,
            patch_size=16,
        ),
        text=dict(
            hidden_size=576,
            intermediate_size=1536,
            num_hidden_layers=30,
            num_attention_heads=9,
            num_key_value_heads=3,
            vocab_size=49280,
            max_position_embeddings=8192,
            rope_theta=100000.0,
            tie_word_embeddings=True,
        ),
        scale_factor=4,
        tile=512,
        tiles_per_side=4,
    ),
    # SmolVLM-256M's image settings (512 px tiles, 64 tokens, 4x4) on a model a few MB large
    "smolvlm-settings": Shape(
        vision=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=512,
            patch_size=16,
        ),
        text=dict(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            vocab_size=49280,
            max_position_embeddings=8192,
            tie_word_embeddings=True,
        ),
        scale_factor=4,
        tile=512,
        tiles_per_side=4,
    ),
    # Idefics3-8B: SigLIP-so400m/14 at 364 px, Llama-3-8B text, 169 tokens a tile (2x2 here)
    "8b": Shape(
        vision=dict(
            hidden_size=1152,
            intermediate_size=4304,
            num_hidden_layers=27,
            num_attention_heads=16,
            image_size=364,
            patch_size=14,
        ),
        text=dict(
            hidden_size=4096,
            intermediate_size=14336,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=8,
            vocab_size=128256,
            max_position_embeddings=10240,
            rope_theta=500000.0,
            tie_word_embeddings=False,
        ),
        scale_factor=2,
        tile=364,
        tiles_per_side=2,
    ),
}


def build_random_vlm(
    shape: str | Shape,
    tokenizer_dir: str,
    device: str = "cpu",
    **options,
) -> ScoringModel:
    """A ScoringModel over a random-weight Idefics3 of `shape`, with the tokenizer and chat
    template in `tokenizer_dir` (the offline tiny-idefics3's) and a processor whose image
    settings match the shape. `options` go to ScoringModel.from_loaded."""
    import torch
    from transformers import (
        AutoTokenizer,
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessor,
        Idefics3Processor,
        LlamaConfig,
    )

    spec = SHAPES[shape] if isinstance(shape, str) else shape
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    text = LlamaConfig(**spec.text)
    text.vocab_size = max(text.vocab_size, len(tokenizer))
    config = Idefics3Config(
        text_config=text.to_dict(),
        vision_config=spec.vision,
        scale_factor=spec.scale_factor,
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
    )
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    torch.manual_seed(0)
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = Idefics3ForConditionalGeneration._from_config(
                config, attn_implementation="sdpa", dtype=dtype
            )
    finally:
        torch.set_default_dtype(default)
    processor = Idefics3Processor(
        image_processor=Idefics3ImageProcessor(
            do_image_splitting=True,
            size={"longest_edge": spec.tile * spec.tiles_per_side},
            max_image_size={"longest_edge": spec.tile},
        ),
        tokenizer=tokenizer,
        image_seq_len=spec.tokens_per_tile,
        chat_template=(Path(tokenizer_dir) / "chat_template.jinja").read_text(),
    )
    name = shape if isinstance(shape, str) else "custom shape"
    return ScoringModel.from_loaded(model, processor, name=f"random {name}", **options)
