"""IMS content packages of QTI 2.1 items: a zip of imsmanifest.xml and items/<identifier>.xml.

Each item's resource carries, as metadata in our own namespace (`ENGINE_NS`), the fields QTI
has no place for (`EngineFields`), and the manifest's own metadata the item sets' ids and
titles, so that our packages read back without loss. IMS CP allows elements of other
namespaces in <metadata> (processContents="lax"), so the manifest stays valid.
"""

from __future__ import annotations

import functools
import io
import posixpath
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lxml import etree

from testengine.domain.items import CognitiveLevel, Item, ItemSet, ItemStatus
from testengine.domain.problems import DataError, Problem
from testengine.settings import PROJECT_ROOT
from testengine.storage.qti_items import (
    EngineFields, ImportedItem, NotMapped, item_to_qti, line_of, qti_identifier, qti_to_item,
)

CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
ENGINE_NS = "https://testengine.example/ns/item/1"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
RESOURCE_TYPE = "imsqti_item_xmlv2p1"
_ITEM_RESOURCE = re.compile(r"^imsqti_(apip)?item_xmlv2p[0-2]$")
# The IMS schemas are not vendored (their notice asks redistributors to register with IMS):
# by default they are looked for in ../shared beside the checkout; callers may pass another folder.
SCHEMA_DIR = PROJECT_ROOT.parent / "shared" / "qti" / "schemas"
_SCHEMA_FILES = {"item": "qtiv2p1/imsqti_v2p1.xsd", "manifest": "imscp_v1p1.xsd"}
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the same items give the same bytes


@dataclass(frozen=True)
class QtiImport:
    items: list[ImportedItem]
    not_mapped: list[NotMapped]
    item_sets: list[ItemSet] = field(default_factory=list)  # from our own manifests only


def _cp(tag: str) -> str:
    return f"{{{CP_NS}}}{tag}"


def _te(tag: str) -> str:
    return f"{{{ENGINE_NS}}}{tag}"


def write_package(items: Sequence[Item], item_sets: Sequence[ItemSet]) -> bytes:
    """A zip content package; every item set an item names must be among `item_sets`."""
    sets = {s.id: s for s in item_sets}
    problems = [Problem(f"item set {i.item_set} is not among the item sets given", item_id=i.id)
                for i in items if i.item_set and i.item_set not in sets]
    seen: set[str] = set()
    for item in items:
        if qti_identifier(item) in seen:
            problems.append(Problem(f"{qti_identifier(item)} is given twice", item_id=item.id))
        seen.add(qti_identifier(item))
    if problems:
        raise DataError(problems)
    manifest = etree.Element(_cp("manifest"), nsmap={None: CP_NS, "te": ENGINE_NS, "xsi": _XSI},  # type: ignore[dict-item]
                             identifier="testengine-package")
    manifest.set(f"{{{_XSI}}}schemaLocation", f"{CP_NS} http://www.imsglobal.org/xsd/imscp_v1p1.xsd")
    metadata = _metadata(manifest, "QTIv2.1 Package", "1.0.0")
    used = sorted({i.item_set for i in items if i.item_set})
    for set_id in used:
        etree.SubElement(metadata, _te("itemSet"), id=set_id, unit=str(sets[set_id].unit), title=sets[set_id].title)
    etree.SubElement(manifest, _cp("organizations"))
    resources = etree.SubElement(manifest, _cp("resources"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for item in items:
            href = f"items/{qti_identifier(item)}.xml"
            resource = etree.SubElement(resources, _cp("resource"), identifier=qti_identifier(item),
                                        type=RESOURCE_TYPE, href=href)
            _engine_metadata(_metadata(resource, "IMS QTI Item", "2.1"), EngineFields.of(item))
            etree.SubElement(resource, _cp("file"), href=href)
            scenario = sets[item.item_set].scenario if item.item_set else ""
            _add(package, href, item_to_qti(item, scenario))
        _add(package, "imsmanifest.xml",
             etree.tostring(manifest, xml_declaration=True, encoding="UTF-8", pretty_print=True))
    return buffer.getvalue()


def _add(package: zipfile.ZipFile, name: str, data: bytes) -> None:
    package.writestr(zipfile.ZipInfo(name, _FIXED_TIME), data, zipfile.ZIP_DEFLATED)


def _metadata(parent: etree._Element, schema: str, version: str) -> etree._Element:
    metadata = etree.SubElement(parent, _cp("metadata"))
    etree.SubElement(metadata, _cp("schema")).text = schema
    etree.SubElement(metadata, _cp("schemaversion")).text = version
    return metadata


def _engine_metadata(metadata: etree._Element, f: EngineFields) -> None:
    element = etree.SubElement(metadata, _te("item"), {
        "id": f.id, "version": str(f.version), "unit": str(f.unit), "learningOutcome": str(f.learning_outcome),
        "criterion": f.criterion, "amplification": f.amplification, "expectedSeconds": str(f.expected_seconds),
        "facility": repr(f.facility), "angoff": repr(f.angoff), "status": f.status.value, "author": f.author})
    if f.item_set:
        element.set("itemSet", f.item_set)
    if f.cognitive_level:
        element.set("cognitiveLevel", f.cognitive_level.value)
    for enemy in sorted(f.enemies):
        etree.SubElement(element, _te("enemy")).text = enemy


def _engine_fields(element: etree._Element, where: str) -> EngineFields:
    def get(name: str) -> str:
        value = element.get(name)
        if value is None:
            raise KeyError(name)
        return value

    try:
        level = element.get("cognitiveLevel")
        return EngineFields(
            id=get("id"), version=int(get("version")), unit=int(get("unit")),
            learning_outcome=int(get("learningOutcome")), criterion=get("criterion"),
            amplification=get("amplification"), expected_seconds=int(get("expectedSeconds")),
            facility=float(get("facility")), angoff=float(get("angoff")), status=ItemStatus(get("status")),
            author=get("author"), enemies=frozenset(e.text or "" for e in element.findall(_te("enemy"))),
            item_set=element.get("itemSet"), cognitive_level=CognitiveLevel(level) if level else None)
    except (KeyError, ValueError) as error:
        raise DataError([Problem(f"engine metadata is wrong: {error!r}", file=where, line=line_of(element))])


def read_qti(data: bytes, name: str, unit: int) -> QtiImport:
    """A single assessmentItem (name ending .xml) or a content package (.zip), mapped or refused."""
    if name.lower().endswith(".xml"):
        one = qti_to_item(_parse(data, name), name, unit)
        return QtiImport([one], []) if isinstance(one, ImportedItem) else QtiImport([], [one])
    if not name.lower().endswith(".zip"):
        raise DataError([Problem("not a QTI file: expected an .xml assessmentItem or a .zip package", file=name)])
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DataError([Problem("not a zip file", file=name)]) from None
    with package:
        if "imsmanifest.xml" not in package.namelist():
            raise DataError([Problem("no imsmanifest.xml: not an IMS content package", file=name)])
        manifest = _parse(package.read("imsmanifest.xml"), f"{name}/imsmanifest.xml")
        found: list[ImportedItem | NotMapped] = []
        problems: list[Problem] = []
        for resource in manifest.iter("{*}resource"):
            if not _ITEM_RESOURCE.match(resource.get("type") or ""):
                continue
            first = resource.find("{*}file")
            href = resource.get("href") or ("" if first is None else first.get("href") or "")
            path, identifier = posixpath.normpath(href), resource.get("identifier") or ""
            where = f"{name}/{path}"
            if path not in package.namelist():
                found.append(NotMapped(where, identifier, [f"the manifest lists {href}, which is not in the package"]))
                continue
            try:
                root = _parse(package.read(path), where)
            except DataError as error:
                problems.extend(error.problems)
                continue
            engine = resource.find(f"{{*}}metadata/{_te('item')}")
            fields = None if engine is None else _engine_fields(engine, f"{name}/imsmanifest.xml")
            found.append(qti_to_item(root, where, unit, fields))
        if problems:
            raise DataError(problems)
    items = [f for f in found if isinstance(f, ImportedItem)]
    scenarios = {i.item.item_set: i.scenario for i in items if i.item.item_set}
    sets = [ItemSet(s.get("id") or "", s.get("title") or "", scenarios.get(s.get("id") or "", ""), int(s.get("unit") or unit))
            for s in manifest.findall(f"{{*}}metadata/{_te('itemSet')}")]
    return QtiImport(items, [f for f in found if isinstance(f, NotMapped)], sets)


def _parse(data: bytes, where: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise DataError([Problem(f"not well-formed XML: {error.msg}", file=where, line=error.lineno or None)]) from None


@functools.lru_cache(maxsize=4)
def load_schema(kind: Literal["item", "manifest"], directory: Path) -> etree.XMLSchema:
    """The QTI 2.1 item or IMS CP 1.1 schema (parsing the QTI one takes about half a second)."""
    path = directory / _SCHEMA_FILES[kind]
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: pass the folder that holds the IMS QTI 2.1 and CP schemas")
    return etree.XMLSchema(etree.parse(str(path)))


def schema_problems(xml: bytes, kind: Literal["item", "manifest"], directory: Path = SCHEMA_DIR) -> list[str]:
    """Why `xml` breaks the QTI item or content package schema: empty when it is valid."""
    schema = load_schema(kind, directory)
    try:
        document = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        return [f"line {error.lineno}: {error.msg}"]
    if schema.validate(document):
        return []
    errors: Iterable[etree._LogEntry] = schema.error_log  # type: ignore[assignment]
    return [f"line {e.line}: {e.message}" for e in errors]
