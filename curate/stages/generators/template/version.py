"""The template generator's name and version, stored with every item it writes: a rule change
that changes questions bumps the version."""

NAME = "template"
PROMPT_VERSION = "template-v12"
