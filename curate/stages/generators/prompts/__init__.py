"""Versioned prompt templates: `<task>.v<N>.md`, with [system] and [user] sections."""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template

# The version each task uses now; older files stay, so a cache or dataset made with them is
# still explained by its `prompt_version`.
VERSIONS = {
    "caption": "v2",
    "extractive": "v3",
    "self_explain": "v2",
    "multi_image": "v3",
    "verify": "v1",
    "check": "v1",
    "judge": "v1",
}


def prompt_version(task: str) -> str:
    return f"{task}.{VERSIONS[task]}"


@cache
def _sections(task: str) -> dict[str, Template]:
    text = resources.files(__package__).joinpath(f"{prompt_version(task)}.md").read_text("utf-8")
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.strip() in ("[system]", "[user]"):
            current = line.strip()[1:-1]
            sections[current] = []
        elif current:
            sections[current].append(line)
    return {role: Template("\n".join(lines).strip()) for role, lines in sections.items()}


def render_messages(task: str, **values: object) -> list[dict[str, str]]:
    """Chat messages for a task, with `$placeholders` filled in."""
    return [
        {"role": role, "content": template.substitute(**values)}
        for role, template in _sections(task).items()
    ]
