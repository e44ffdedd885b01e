"""QTI XHTML as the engine's plain text, and what in it plain text cannot show.

Items are plain text: blocks (p, div, prompt, li ...) and <br/> break lines, other inline
XHTML (em, span, a ...) is flattened and the caller told which tags were; images, objects,
MathML, tables, sub/superscripts, other foreign elements and rubricBlocks shown to candidates
cannot be shown and are listed as reasons to refuse the item. Also the element helpers the QTI
modules share: the QTI namespace, `x` to build an element in it, `local` and `elements` to read one.
"""

from __future__ import annotations

import re

from lxml import etree

QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
QTI_2 = re.compile(r"^http://www\.imsglobal\.org/xsd/imsqti_v2p[0-2]$")
TYPES = {"choiceInteraction", "orderInteraction", "matchInteraction"}  # the engine's item types
MARK = "\x00"  # where the interaction stands among the body's lines
_BLOCKS = {"p", "div", "pre", "blockquote", "address", "h1", "h2", "h3", "h4", "h5", "h6",
           "ul", "ol", "li", "dl", "dt", "dd", "hr", "prompt"}
_INLINE = {"span", "em", "strong", "b", "i", "small", "big", "tt", "code", "abbr", "acronym",
           "cite", "dfn", "kbd", "q", "samp", "var", "a", "br"}
_QTI_PARTS = {"prompt", "simpleChoice", "simpleMatchSet", "simpleAssociableChoice", "rubricBlock"}
_REFUSED = {"img": "image content (img src={src}) is not supported",
            "object": "embedded object (object data={data}) is not supported",
            "table": "tables are not supported", "sub": "subscripts (sub) are not supported in plain text",
            "sup": "superscripts (sup) are not supported in plain text"}


def x(tag: str, *children: etree._Element, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.Element(f"{{{QTI_NS}}}{tag}", attrs)
    element.text = text
    element.extend(children)
    return element


def local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def elements(element: etree._Element) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str)]


def content_problems(element: etree._Element) -> list[str]:
    """What in the body plain text cannot show (a refused element's contents are not listed)."""
    reasons = []
    for child in elements(element):
        name, namespace = local(child), etree.QName(child).namespace or ""
        if not QTI_2.match(namespace):
            reasons.append(f"{'MathML (math)' if name == 'math' else child.tag} is not supported")
        elif name in _REFUSED:
            reasons.append(_REFUSED[name].format(src=child.get("src"), data=child.get("data")))
        elif name == "rubricBlock" and "candidate" in (child.get("view") or "").split():
            reasons.append("a rubricBlock shown to candidates is not supported")
        elif name.endswith("Interaction") and name not in TYPES:
            continue  # refused as an interaction, not for its parts
        elif name in _BLOCKS | _INLINE | _QTI_PARTS or name.endswith("Interaction"):
            reasons.extend(content_problems(child))
        else:
            reasons.append(f"{name} is not supported")
    return reasons


def _text(text: str | None, exact: bool) -> str:
    return (text or "") if exact else re.sub(r"\s+", " ", text or "")


def _run(text: str | None, nodes: list[etree._Element], exact: bool, tags: set[str]) -> str:
    out = [_text(text, exact)]
    for node in nodes:
        if local(node) == "br":
            out.append("\n")
        elif local(node):
            tags.add(local(node))
            out.append(_run(node.text, list(node), exact, tags))
        out.append(_text(node.tail, exact))
    return "".join(out)


def lines(element: etree._Element, exact: bool, tags: set[str], mark: etree._Element | None = None,
          skip: set[etree._Element] | frozenset[etree._Element] = frozenset()) -> list[str]:
    """Plain-text lines: blocks and <br/> break lines; `exact` keeps whitespace as written."""
    def split(text: str) -> list[str]:
        if exact:
            return text.split("\n")
        return [s for s in (re.sub(" +", " ", line).strip() for line in text.split("\n")) if s]

    def is_block(e: etree._Element) -> bool:
        return e is mark or e in skip or local(e) in _BLOCKS
    if not any(is_block(e) for e in elements(element)):
        return split(_run(element.text, list(element), exact, tags))
    out: list[str] = []
    text, run = element.text, []
    for child in element:
        if not (local(child) and is_block(child)):
            run.append(child)
            continue
        joined = _run(text, run, exact, tags)
        out.extend(split(joined) if joined.strip() else [])
        if child is mark:
            out.append(MARK)
        elif child not in skip:
            tags.add(local(child))
            out.extend(lines(child, exact, tags, mark, skip))
        text, run = child.tail, []
    joined = _run(text, run, exact, tags)
    return out + (split(joined) if joined.strip() else [])
