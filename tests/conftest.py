import os
import sys
from pathlib import Path

import pytest

# Test files sit in folders that mirror the package; the helpers they share sit here.
sys.path.insert(0, str(Path(__file__).resolve().parent))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

SHARED_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.fixture
def shared_corpus() -> Path:
    """The third-party documents in ../shared/corpus; tests using it skip when it is absent."""
    if not SHARED_CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    return SHARED_CORPUS


REPO = Path(__file__).resolve().parents[1]
TINY_SCORER = REPO / ".models" / "tiny-idefics3"


@pytest.fixture(scope="session")
def curated_output(tmp_path_factory) -> Path:
    """One scored `curate run` over the shipped examples plus a duplicate, a blank and bad inputs.

    Shared by the export, report and notebook tests: multi-image samples, scores, dropped pages
    and dead-letter rows, like a real run's output.
    """
    from documents import write_bad_inputs, write_image_only_pdf
    from typer.testing import CliRunner

    from curate.cli import app

    corpus = tmp_path_factory.mktemp("examples")
    for pdf in sorted((REPO / "examples").glob("*.pdf")):
        (corpus / pdf.name).write_bytes(pdf.read_bytes())
    (corpus / "zz-copy.pdf").write_bytes(
        (REPO / "examples" / "northwind-quarterly-report.pdf").read_bytes()
    )
    write_image_only_pdf(corpus / "blank.pdf", pages=2)
    write_bad_inputs(corpus / "bad")
    out = tmp_path_factory.mktemp("curated")
    args = ["run", str(corpus), "--output", str(out), "--no-progress", "--dpi", "72"]
    if TINY_SCORER.is_dir():
        args += ["--score", "all", "--model", str(TINY_SCORER)]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def samples_by_id(curated_output):
    from curate.outputs.export import read_samples

    return {s.sample_id: s for s in read_samples(str(curated_output))}
