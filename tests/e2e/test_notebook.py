"""notebooks/explore.ipynb runs top to bottom on a real curate output (nbclient, a real kernel)."""

import nbformat
import pytest
from documents import REPO
from nbclient import NotebookClient

pytestmark = pytest.mark.slow
NOTEBOOK = REPO / "notebooks" / "explore.ipynb"


def test_explore_notebook_executes_on_the_example_output(curated_output, monkeypatch):
    monkeypatch.setenv("CURATE_OUTPUT", str(curated_output))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "List(Image(" in text and "kept (mIFD >= median)" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2  # the histograms and samples
