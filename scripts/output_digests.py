"""Run every curate command on a set of documents and print a digest of every file written.

For refactorings that must not change what curate writes: run it before and after, and diff.

    python scripts/output_digests.py examples/ --work /tmp/before > before.json
    python scripts/output_digests.py examples/ --work /tmp/after > after.json
    diff before.json after.json

Parquet shards, exports and reports are digested byte for byte. A manifest is digested without
its `run` section (when and where the job ran); its `config` and `config_hash` are listed on
their own so that a change of the config's shape shows apart from a change of the data.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

EXPORTS = ("hf", "llava", "sharegpt", "messages", "cauldron", "leopard", "llavar2", "llamafactory")


def curate(*args: str) -> None:
    command = [str(Path(sys.executable).parent / "curate"), *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-3000:]}")


def digests(folder: Path) -> dict:
    found: dict = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = str(path.relative_to(folder))
        if name.startswith("llm_cache/") or ".curate" in name:
            continue
        if path.name == "manifest.json":
            manifest = json.loads(path.read_text())
            manifest.pop("run", None)
            found[f"{name}:config_hash"] = manifest.pop("config_hash", None)
            found[f"{name}:config"] = manifest.pop("config", None)
            data = json.dumps(manifest, sort_keys=True).encode()
        elif path.suffix == ".html" or path.name == "README.md":
            data = path.read_bytes()  # cards and reports name their date: keep them visible
        else:
            data = path.read_bytes()
        found[name] = hashlib.sha256(data).hexdigest()[:16]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--work", required=True, help="An empty folder for the outputs.")
    parser.add_argument("--quick", action="store_true", help="Only run, run --local and render.")
    parser.add_argument("--no-score", action="store_true", help="Skip score and filter (slow).")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    inputs = args.inputs
    curate("run", *inputs, "-o", work / "run", "--no-progress")
    curate("run", *inputs, "-o", work / "run-local", "--local", "--no-progress")
    curate("render", *inputs, "-o", work / "render", "--no-progress")
    if not args.quick:
        curate("generate", work / "render", "-o", work / "generate")
        curate("render", *inputs, "-o", work / "render-raw", "--ocr", "never", "--no-progress")
        curate("ocr", work / "render-raw", "-o", work / "ocr")
    if not (args.quick or args.no_score):
        curate("score", work / "run", "-o", work / "score", "--metric", "ifd")
        curate("filter", work / "score", "-o", work / "filter", "--metric", "ifd")
        curate("filter", work / "run", "-o", work / "filter-unscored", "--metric", "ifd")
    if not args.quick:
        for fmt in EXPORTS:
            curate("export", work / "run", "-f", fmt, "-o", work / f"export-{fmt}")
    result = {folder.name: digests(folder) for folder in sorted(work.iterdir()) if folder.is_dir()}
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
