"""Parts chosen by name: one idiom for every kind (OCR engines, generator backends, document
formats, export formats, question kinds).

A registry maps a name to `"module:attribute"`, imported on first use, so naming an engine in
a config costs nothing until a worker loads it, and the config, the CLI's help and the lookup
all read the same names:

    OCR_ENGINES = Registry("OCR engine", {"rapidocr": "curate.stages.ocr.rapid:RapidOcrEngine"})
    OCR_ENGINES.names()           # ("rapidocr",)
    OCR_ENGINES.load("rapidocr")  # the class, imported now
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from curate.io.errors import CurateError


class UnknownName(CurateError, KeyError):
    """A name no registry entry has; the message lists the names there are."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0])


class Registry:
    """Names -> lazily imported objects, in the order they were registered."""

    def __init__(self, kind: str, entries: Mapping[str, str] | None = None):
        self.kind = kind
        self._targets: dict[str, str] = {}
        self._loaded: dict[str, Any] = {}
        for name, target in (entries or {}).items():
            self.add(name, target)

    def add(self, name: str, target: str, replace: bool = False) -> None:
        """Register `name` for `"module:attribute"` (what a plugin or a test does). A name
        registered already is refused, unless `replace`: a plugin that reuses a built-in's
        name by chance would silently take its place (and keep it for the whole process)."""
        module, _, attribute = target.partition(":")
        if not module or not attribute:
            raise ValueError(f"{self.kind} {name!r}: {target!r} is not 'module:attribute'")
        if not replace and self._targets.get(name, target) != target:
            raise ValueError(
                f"{self.kind} {name!r} is registered already ({self._targets[name]}); "
                "choose another name, or pass replace=True to replace it"
            )
        self._targets[name] = target
        self._loaded.pop(name, None)

    def remove(self, name: str) -> None:
        self._targets.pop(name, None)
        self._loaded.pop(name, None)

    def check(self, name: str) -> str:
        """The name, if registered (for config validators); else UnknownName."""
        if name not in self._targets:
            raise UnknownName(f"unknown {self.kind} {name!r}; choose one of: {self.listed()}")
        return name

    def names(self) -> tuple[str, ...]:
        return tuple(self._targets)

    def load(self, name: str) -> Any:
        self.check(name)
        if name not in self._loaded:
            module, _, attribute = self._targets[name].partition(":")
            self._loaded[name] = getattr(importlib.import_module(module), attribute)
        return self._loaded[name]

    def items(self) -> Iterator[tuple[str, Any]]:
        """Every entry, loaded."""
        for name in self._targets:
            yield name, self.load(name)

    def listed(self, separator: str = ", ") -> str:
        """The names for a help text or a message: `rapidocr, tesseract, paddleocr`."""
        return separator.join(self._targets)

    def __iter__(self) -> Iterator[str]:
        return iter(self._targets)

    def __contains__(self, name: object) -> bool:
        return name in self._targets

    def __len__(self) -> int:
        return len(self._targets)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._targets)})"


# The parts that a config or a flag names, so names are checked (and listed in --help) without
# importing the parts.
OCR_ENGINES = Registry(
    "OCR engine",
    {
        "rapidocr": "curate.stages.ocr.rapid:RapidOcrEngine",
        "tesseract": "curate.stages.ocr.tesseract:TesseractEngine",
        "paddleocr": "curate.stages.ocr.paddle:PaddleOcrEngine",
    },
)
GENERATORS = Registry(
    "generator backend",
    {
        "template": "curate.stages.generators.template:TemplateGenerator",
        "llm": "curate.stages.generators.llm:LLMGenerator",
    },
)
EXPORT_FORMATS = Registry(
    "export format",
    {
        # general training formats
        "hf": "curate.outputs.export.hf:HfExporter",
        "llava": "curate.outputs.export.llava:LlavaExporter",
        "sharegpt": "curate.outputs.export.chat:ShareGptExporter",
        "messages": "curate.outputs.export.chat:MessagesExporter",
        # the seed projects' own formats
        "cauldron": "curate.outputs.export.cauldron:CauldronExporter",
        "leopard": "curate.outputs.export.leopard:LeopardExporter",
        "llavar2": "curate.outputs.export.llavar2:Llavar2Exporter",
        "llava-interleave": "curate.outputs.export.llava:LlavaInterleaveExporter",
        "llamafactory": "curate.outputs.export.llamafactory:LlamaFactoryExporter",
        "demon": "curate.outputs.export.demon:DemonExporter",
    },
)
