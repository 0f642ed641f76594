"""Write the example PDFs in examples/: multi-page documents with headings, tables, numbers.

    python scripts/make_examples.py [OUT_DIR]

The content is invented by this project, so the examples carry no third-party licence. The
script lives outside examples/ so that `curate run examples/` finds documents only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pymupdf

CSS = """
body { font-family: sans-serif; font-size: 11pt; }
h1 { font-size: 22pt; } h2 { font-size: 15pt; }
table { border-collapse: collapse; } td, th { border: 1px solid #444; padding: 3px 8px; }
"""

DOCUMENTS: dict[str, list[str]] = {
    "northwind-quarterly-report.pdf": [
        """<h1>Northwind Traders Quarterly Report</h1><h2>Third Quarter 2025</h2>
        <p>Prepared by: Finance Office</p><p>Report date: 14 October 2025</p>
        <p>Total revenue: 18.4 million euros</p><p>Operating margin: 12.7%</p>
        <p>Northwind grew revenue for the sixth consecutive quarter, led by its coffee and tea
        lines. Shipping costs fell after the new Rotterdam warehouse opened in July.</p>""",
        """<h2>Revenue by Region</h2>
        <table><tr><th>Region</th><th>Q2 2025</th><th>Q3 2025</th><th>Change</th></tr>
        <tr><td>Nordics</td><td>4.1</td><td>4.6</td><td>+12%</td></tr>
        <tr><td>Benelux</td><td>5.3</td><td>5.9</td><td>+11%</td></tr>
        <tr><td>Iberia</td><td>3.2</td><td>3.1</td><td>-3%</td></tr>
        <tr><td>Alpine</td><td>4.4</td><td>4.8</td><td>+9%</td></tr></table>
        <p>Figures in millions of euros. Iberia declined after a distributor contract ended in
        May.</p>""",
        """<h2>Headcount and Facilities</h2>
        <p>Employees at quarter end: 412</p><p>New hires: 37</p><p>Warehouses: 5</p>
        <p>The Rotterdam warehouse covers 21,500 square metres and handles 60% of outbound
        orders. A second packing line will open in February 2026.</p>""",
        """<h2>Outlook for Q4 2025</h2>
        <p>Revenue target: 19.5 million euros</p><p>Planned capital spending: 2.2 million
        euros</p><p>The board expects demand for seasonal gift boxes to peak in the first two
        weeks of December. Risks include currency movements and higher green-coffee prices.</p>""",
    ],
    "alpine-field-guide.pdf": [
        """<h1>Field Guide to Alpine Birds</h1><h2>Volume 2: High Meadows</h2>
        <p>Author: Marta Keller</p><p>Edition: Second edition, 2024</p>
        <p>This guide covers birds found above 1,800 metres in the western Alps during the
        breeding season, with measurements taken from museum specimens.</p>""",
        """<h2>Measurements of Common Species</h2>
        <table><tr><th>Species</th><th>Length (cm)</th><th>Wingspan (cm)</th><th>Mass (g)</th></tr>
        <tr><td>Alpine Chough</td><td>38</td><td>78</td><td>210</td></tr>
        <tr><td>Wallcreeper</td><td>16</td><td>27</td><td>18</td></tr>
        <tr><td>Snow Finch</td><td>17</td><td>36</td><td>35</td></tr>
        <tr><td>Rock Ptarmigan</td><td>35</td><td>58</td><td>470</td></tr></table>""",
        """<h2>The Wallcreeper</h2><p>Habitat: vertical rock faces between 1,000 and 3,000
        metres</p><p>Clutch size: 3 to 5 eggs</p><p>The wallcreeper flicks its crimson wings
        while climbing cliffs in search of insects. It winters at lower altitudes, sometimes on
        old stone buildings.</p>""",
    ],
    "bioreactor-lab-manual.pdf": [
        """<h1>Bioreactor Lab Manual</h1><h2>Course BIO-342, Autumn Term</h2>
        <p>Instructor: Dr. Samuel Osei</p><p>Lab room: B-214</p>
        <p>Safety goggles and gloves are required at all times in the fermentation lab.</p>""",
        """<h2>Experiment 1: Yeast Growth Curve</h2><p>Working volume: 1.5 litres</p>
        <p>Temperature setpoint: 30 degrees Celsius</p><p>Stirring speed: 250 rpm</p>
        <p>Measure optical density at 600 nm every 30 minutes for 8 hours and record the values
        in the table on the next page.</p>""",
        """<h2>Optical Density Readings</h2>
        <table><tr><th>Time (h)</th><th>OD600</th><th>pH</th></tr>
        <tr><td>0</td><td>0.05</td><td>5.5</td></tr><tr><td>2</td><td>0.18</td><td>5.3</td></tr>
        <tr><td>4</td><td>0.71</td><td>5.0</td></tr><tr><td>6</td><td>1.92</td><td>4.6</td></tr>
        <tr><td>8</td><td>2.85</td><td>4.3</td></tr></table>""",
        """<h2>Experiment 2: Oxygen Transfer</h2><p>Air flow rate: 1.0 vvm</p>
        <p>Dissolved oxygen probe: polarographic, calibrated at 100% air saturation</p>
        <p>Record the time for dissolved oxygen to recover from 20% to 80% after the air supply
        is restored. Repeat at stirring speeds of 150, 250 and 400 rpm.</p>""",
        """<h2>Report Checklist</h2><p>Due date: 5 December</p><p>Maximum length: 6 pages</p>
        <p>Include the growth curve plot, the calculated specific growth rate, and a short
        discussion of oxygen limitation.</p>""",
    ],
}


def write_pdf(path: Path, pages: list[str]) -> None:
    """One HTML snippet per page, laid out on A4 by PyMuPDF's Story engine."""
    mediabox = pymupdf.paper_rect("a4")
    where = mediabox + (56, 56, -56, -56)
    writer = pymupdf.DocumentWriter(str(path))
    for html in pages:
        story = pymupdf.Story(html=html, user_css=CSS)
        more = True
        while more:
            device = writer.begin_page(mediabox)
            more, _ = story.place(where)
            story.draw(device)
            writer.end_page()
    writer.close()


def main(out_dir: str | None = None) -> None:
    target = Path(out_dir) if out_dir else Path(__file__).resolve().parents[1] / "examples"
    target.mkdir(parents=True, exist_ok=True)
    for name, pages in DOCUMENTS.items():
        write_pdf(target / name, pages)
        print(f"wrote {target / name} ({len(pages)} pages)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
