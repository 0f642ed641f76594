"""Documents made by the tests, with text we know, and the bad inputs users will meet."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pymupdf
from PIL import Image, ImageDraw
from pptx import Presentation
from pptx.util import Inches

TESTS = Path(__file__).resolve().parent  # shared helpers live here; test files in subfolders
REPO = TESTS.parent

REPORT_PAGES = [
    [
        "Harbour Authority Annual Review",
        "Fiscal year: 2024",
        "Ships handled: 1,284",
        "Cargo volume rose by 6.5% compared with the previous year at the main terminal.",
    ],
    [
        "Berth Occupancy",
        "Berth North South",
        "Container: 81% and 77%",
        "The dredging programme finished in March and cost 4.2 million dollars overall.",
    ],
    [
        "Safety Record",
        "Lost-time incidents: 3",
        "Inspections: 112",
        "Night shifts now use 14 additional floodlights along the eastern quay wall.",
    ],
    [
        "Outlook",
        "Planned berths: 2",
        "Budget: 9.8 million dollars",
        "A new crane order of 3 units is expected to arrive before the winter season.",
    ],
    [
        "Appendix",
        "Contact: harbour office",
        "Phone: 555-0142",
        "All figures in this review were audited by an independent firm in 2025.",
    ],
]


def write_text_pdf(path: Path, pages: list[list[str]] = REPORT_PAGES) -> Path:
    """A PDF with a real text layer: the first line of each page is a large heading."""
    path.write_bytes(write_text_pdf_bytes(pages))
    return path


def write_table_pdf(path: Path) -> Path:
    """A page with a ruled table laid out as separate cells, like most report tables."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Fleet Summary", fontsize=22)
    rows = [
        ["Vessel", "Length", "Crew", "Built"],
        ["Aurora", "112", "14", "2009"],
        ["Borealis", "98", "11", "2014"],
        ["Cygnus", "131", "17", "2019"],
    ]
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            page.insert_text((72 + c * 110, 130 + r * 22), cell, fontsize=11)
    page.insert_text(
        (72, 250), "Crew numbers include the master and the chief engineer.", fontsize=11
    )
    doc.save(path)
    return path


def text_image(text: str, size=(900, 300)) -> bytes:
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).text((40, 120), text, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def rasterize_pages(pages: list[list[str]], dpi: int = 144) -> list[bytes]:
    """PNG pictures of text pages: what a scanner would give, with no text layer."""
    source = pymupdf.open(stream=write_text_pdf_bytes(pages), filetype="pdf")
    return [page.get_pixmap(dpi=dpi).tobytes("png") for page in source]


def write_text_pdf_bytes(pages: list[list[str]]) -> bytes:
    doc = pymupdf.open()
    for lines in pages:
        page = doc.new_page()
        y = 72
        for i, line in enumerate(lines):
            size = 22 if i == 0 else 11
            page.insert_text((72, y), line, fontsize=size)
            y += size * 2.2
    return doc.tobytes()


SCAN_PAGES = [
    [
        "Customs Inspection Log",
        "Inspector: R. Almeida",
        "Containers opened: 27",
        "Two shipments of machine parts were held for missing certificates of origin.",
    ],
    [
        "Pilot Boarding Summary",
        "Pilots on duty: 9",
        "Average boarding time: 14 minutes",
        "Strong westerly winds delayed four boardings at the outer anchorage in November.",
    ],
    [
        "Dredging Survey",
        "Survey vessel: Tern",
        "Channel depth: 15.2 metres",
        "Silt build-up near the northern breakwater exceeded the forecast by 8 percent.",
    ],
]


def write_scan_pdf(path: Path, pages: list[list[str]] = SCAN_PAGES) -> Path:
    """A 'scanned' PDF: each page is only a picture of known text, with no text layer."""
    doc = pymupdf.open()
    for png in rasterize_pages(pages):
        page = doc.new_page()
        page.insert_image(page.rect, stream=png)
    doc.save(path)
    return path


def write_image_only_pdf(path: Path, pages: int = 2) -> Path:
    """Pages that are only pictures, with no text in them at all (photos, blank scans)."""
    doc = pymupdf.open()
    for _ in range(pages):
        page = doc.new_page()
        page.insert_image(page.rect + (36, 36, -36, -400), stream=text_image(""))
    doc.save(path)
    return path


def write_encrypted_pdf(path: Path) -> Path:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Confidential minutes", fontsize=12)
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="user", owner_pw="owner")
    return path


def write_corrupt_pdf(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    return path


def write_zero_page_pdf(path: Path) -> Path:
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return path


def write_huge_page_pdf(path: Path) -> Path:
    """One 200 x 200 inch page: 829 megapixels at 144 DPI if nothing caps it."""
    doc = pymupdf.open()
    page = doc.new_page(width=14400, height=14400)
    page.insert_text((720, 720), "Site plan, sheet A1", fontsize=300)
    doc.save(path)
    return path


def png_claiming_size(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge size: a decompression bomb, caught before decoding."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 16)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def write_bad_inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "encrypted": write_encrypted_pdf(folder / "encrypted.pdf"),
        "corrupt": write_corrupt_pdf(folder / "corrupt.pdf"),
        "zero_pages": write_zero_page_pdf(folder / "zero-pages.pdf"),
    }


def make_deck(path, titles=("Fleet Review", "Berth Plan", "Crane Photos")):
    deck = Presentation()
    for i, title in enumerate(titles):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = f"Point {i + 1}: berth {i + 3} handles {120 + i} ships a year"
        if i == 1:
            slide.notes_slide.notes_text_frame.text = "Mention the dredging delay in March."
        if i == 2:
            buffer = io.BytesIO()
            Image.new("RGB", (64, 48), "orange").save(buffer, format="PNG")
            buffer.seek(0)
            picture = slide.shapes.add_picture(buffer, Inches(6), Inches(4), Inches(2))
            picture._element.nvPicPr.cNvPr.set("descr", "Two cranes at the north quay")
    deck.save(path)
    return path


# Planted defects: text a question must never be asked about, or never be answered with.
DEFECTS = {
    "watermark": "DRAFT",
    "running_header": "Harbour Operations Manual",
    "url": "https://harbour.example.org/fleet",
    "ipv6": "FF02::FB",
    "footnote": "7",
    "toc_pages": ["3", "5", "8", "11", "14"],
    "chart_ticks": ["150", "300", "450", "2019", "2020", "2021"],
    "prose_left": ["The pilots board every vessel", "before it enters the inner"],
    "prose_right": ["Tugs wait at the breakwater", "until the pilot signals them"],
}


def write_defect_pdf(path: Path) -> Path:
    """Five pages that plant what a template generator must not turn into questions: a diagonal
    watermark, running headers and page numbers, a table of contents, a URL, a time and an IPv6
    address after colons, a footnote marker, two columns of prose, and a chart's axis ticks. The
    good content (headings, labelled values, a real table, sentences with numbers) must still
    yield questions."""
    doc = pymupdf.open()
    for number in range(1, 6):
        page = doc.new_page(width=595, height=842)
        page.insert_text((60, 40), DEFECTS["running_header"], fontsize=9)
        page.insert_text((290, 815), f"Page {number}", fontsize=9)
        # a pale diagonal watermark across the page
        page.insert_text((150, 600), DEFECTS["watermark"], fontsize=90, color=(0.85, 0.85, 0.85),
                         morph=(pymupdf.Point(150, 600), pymupdf.Matrix(-35)))  # fmt: skip
    toc = doc[0]
    toc.insert_text((60, 90), "Contents", fontsize=20)
    chapters = ["Introduction", "Fleet Overview", "Berth Planning", "Safety Record", "Outlook"]
    for i, (title, page_no) in enumerate(zip(chapters, DEFECTS["toc_pages"], strict=True)):
        toc.insert_text(
            (60, 130 + 22 * i), f"{i + 1} {title} " + ". " * 30 + f" {page_no}", fontsize=11
        )
    fleet = doc[1]
    fleet.insert_text((60, 90), "Fleet Overview", fontsize=20)
    lines = [
        f"Port website: {DEFECTS['url']}",
        "Pilot station: North Breakwater",
        "Departure window opens at 10:30 for deep-draught vessels each morning.",
        f"Service discovery on the quay network uses the multicast group {DEFECTS['ipv6']} only.",
        "Crew strength: 164",
    ]
    for i, line in enumerate(lines):
        fleet.insert_text((60, 130 + 20 * i), line, fontsize=11)
    fleet.insert_text(
        (60, 250), "The harbour fleet handled 1,284 ships during the review year.", fontsize=11
    )
    fleet.insert_text((381, 245), DEFECTS["footnote"], fontsize=6)  # a raised footnote marker
    rows = [["Vessel", "Length", "Crew", "Built"], ["Aurora", "112", "14", "2009"],
            ["Borealis", "98", "11", "2014"], ["Cygnus", "131", "17", "2019"]]  # fmt: skip
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            fleet.insert_text((60 + c * 110, 300 + r * 20), cell, fontsize=11)
    prose = doc[2]
    prose.insert_text((60, 90), "Pilotage", fontsize=20)
    left = DEFECTS["prose_left"] + ["harbour and leaves them at", "the outer buoy after departure"]
    right = DEFECTS["prose_right"] + ["and then push the hull", "alongside the assigned berth"]
    for i, (a, b) in enumerate(zip(left, right, strict=True)):
        prose.insert_text((60, 130 + 16 * i), a, fontsize=11)
        prose.insert_text((320, 130 + 16 * i), b, fontsize=11)
    prose.insert_text(
        (60, 230), "Each pilot completes 42 boardings in a typical month of service.", fontsize=11
    )
    chart = doc[3]
    chart.insert_text((60, 90), "Traffic", fontsize=20)
    chart.draw_line((100, 400), (100, 150))
    chart.draw_line((100, 400), (450, 400))
    for i, tick in enumerate(["150", "300", "450"]):
        chart.insert_text((70, 330 - 80 * i), tick, fontsize=9)
    for i, year in enumerate(["2019", "2020", "2021"]):
        chart.insert_text((150 + 110 * i, 418), year, fontsize=9)
        chart.draw_rect(
            pymupdf.Rect(140 + 110 * i, 400 - 60 * (i + 1), 180 + 110 * i, 400),
            fill=(0.4, 0.5, 0.7),
        )
    chart.insert_text((60, 450), "Figure 1: Ships per year at the main terminal.", fontsize=10)
    chart.insert_text(
        (60, 480), "Traffic grew steadily while the berth count stayed at 6 berths.", fontsize=11
    )
    outlook = doc[4]
    outlook.insert_text((60, 90), "Outlook", fontsize=20)
    outlook.insert_text((60, 130), "Budget: 9.8 million dollars", fontsize=11)
    outlook.insert_text(
        (60, 150), "A new crane order of 3 units is expected before the winter season.", fontsize=11
    )
    doc.save(path)
    return path


def slide(title, bullets, footer="Harbour Authority | Internal", dpi=96) -> bytes:
    """One slide of a shared template: the same title bar and layout, different text."""
    doc = pymupdf.open()
    page = doc.new_page(width=960, height=540)
    page.draw_rect(pymupdf.Rect(0, 0, 960, 90), color=(0.1, 0.2, 0.5), fill=(0.1, 0.2, 0.5))
    page.insert_text((40, 60), title, fontsize=30, color=(1, 1, 1))
    for i, bullet in enumerate(bullets):
        page.insert_text((60, 150 + i * 50), "- " + bullet, fontsize=22)
    page.insert_text((40, 520), footer, fontsize=12)
    return page.get_pixmap(dpi=dpi).tobytes("png")
