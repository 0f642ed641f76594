"""Regenerate the parts of the docs that come from the code (the reason tables in docs/schema.md).

.venv/bin/python scripts/update_docs.py
"""

from pathlib import Path

from curate.schemas.reasons import reason_tables

SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "schema.md"
START, END = "<!-- reasons:start -->\n", "<!-- reasons:end -->"


def main() -> None:
    text = SCHEMA.read_text()
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    SCHEMA.write_text(before + START + reason_tables() + END + after)
    print(f"updated {SCHEMA}")


if __name__ == "__main__":
    main()
