"""The points of a slide's SmartArt diagram. python-pptx reads a diagram as a frame with no
text; its points live in the diagram's data part, as nodes joined parent to child. A node
with three or more points under it, none of which has points of its own, is a list the
template can count, as it counts a text box's sub-points."""

from __future__ import annotations

from lxml import etree

DIAGRAM = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
_NS = {"dgm": DIAGRAM, "a": "http://schemas.openxmlformats.org/drawingml/2006/main"}
_DATA = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}dm"


def diagram_sublists(slide, shape) -> list[list[str]]:
    """Each node of the shape's diagram with three or more points under it, all without
    points of their own: the node's text first, then its points', in the diagram's order.
    Empty for a shape that is no diagram, or one whose data cannot be read."""
    ids = shape._element.xpath(f".//*[namespace-uri()='{DIAGRAM}' and local-name()='relIds']")
    if not ids or not ids[0].get(_DATA):
        return []
    try:
        data = etree.fromstring(slide.part.related_part(ids[0].get(_DATA)).blob)
    except (KeyError, etree.XMLSyntaxError):
        return []
    text: dict[str, str] = {}
    nodes: dict[str, None] = {}  # in the diagram's order
    for point in data.xpath("//dgm:ptLst/dgm:pt", namespaces=_NS):
        key = point.get("modelId")
        text[key] = " ".join("".join(point.xpath(".//a:t/text()", namespaces=_NS)).split())
        if point.get("type", "node") == "node":
            nodes[key] = None
    children: dict[str, list[tuple[int, str]]] = {}
    for link in data.xpath("//dgm:cxnLst/dgm:cxn", namespaces=_NS):
        if link.get("type", "parOf") == "parOf" and link.get("destId") in nodes:
            order = int(link.get("srcOrd") or 0)
            children.setdefault(link.get("srcId"), []).append((order, link.get("destId")))
    found = []
    for parent in nodes:
        points = [key for _, key in sorted(children.get(parent, []))]
        if (
            text.get(parent)
            and len(points) >= 3
            and all(text.get(key) and not children.get(key) for key in points)
        ):
            found.append([text[parent], *(text[key] for key in points)])
    return found
