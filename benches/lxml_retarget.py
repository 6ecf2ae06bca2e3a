#!/usr/bin/env python3
"""What an admin would script with lxml to retarget a ServiceNow export (the baseline that
benches/compare.sh times against `sn-retarget apply`).

    python3 benches/lxml_retarget.py INPUT OUTPUT SOURCE_HOST TARGET_HOST

Parses the whole file with lxml.etree; the records are the children of the root (`<unload>`,
`<xml>`, `<record_update>`). A `<payload>` field holding an XML document (update sets:
`sys_update_xml.payload` is a whole `<record_update>`; `sys_update_version.payload` inside it
again) is parsed too, at every depth. Two passes:

1. collect the sys_id of every record, outside and inside payloads;
2. give each a new id (uuid5 of the old one, 32 hex) and rewrite every text and attribute
   value: each known old id as a whole 32-hex token becomes its new id, SOURCE_HOST becomes
   TARGET_HOST. Payload documents are rewritten first, serialized with
   etree.tostring(encoding='unicode') and put back as the field's text (lxml escapes it when
   the outer document is written).

Secrets, scopes and natural-key tables are not handled: this is the simple script, not a
replacement for sn-retarget. Needs lxml (`python3 -m pip install lxml`).
"""

import re
import sys
import uuid

from lxml import etree

HEX32 = re.compile(r"(?<![0-9A-Fa-f])[0-9a-f]{32}(?![0-9A-Fa-f])")
NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")  # uuid.NAMESPACE_URL

PARSER = etree.XMLParser(
    huge_tree=True, strip_cdata=False, resolve_entities=False, no_network=True
)


class Doc:
    """A parsed document and the payload documents found in its fields."""

    def __init__(self, root, decl):
        self.root = root
        self.decl = decl  # the payload's XML declaration, to put back
        self.payloads = []  # (field element, Doc)


def parse_payload(text):
    stripped = text.lstrip()
    decl = ""
    if stripped.startswith("<?xml"):
        end = stripped.index("?>") + 2
        decl = stripped[:end]
        stripped = stripped[end:]
    # fromstring refuses a str with an encoding declaration, so the declaration is cut off
    # above and written back after serializing.
    return etree.fromstring(stripped, PARSER), decl


def load(root, decl, ids):
    """Pass 1: collect record sys_ids under `root` and parse payloads, recursively."""
    doc = Doc(root, decl)
    for record in root:
        if not isinstance(record.tag, str):
            continue  # comments, processing instructions
        sys_id = record.findtext("sys_id")
        if sys_id and len(sys_id.strip()) == 32:
            ids.add(sys_id.strip())
        for field in record.iter("payload"):
            text = field.text
            if text and "<" in text:
                try:
                    sub, sub_decl = parse_payload(text)
                except (etree.XMLSyntaxError, ValueError):
                    continue  # not XML: left as text
                doc.payloads.append((field, load(sub, sub_decl, ids)))
    return doc


def rewrite(doc, fix):
    """Pass 2: rewrite every text, tail and attribute value; payloads first, then put back."""
    payload_fields = set()
    for field, sub in doc.payloads:
        rewrite(sub, fix)
        field.text = sub.decl + etree.tostring(sub.root, encoding="unicode")
        payload_fields.add(field)
    for el in doc.root.iter():
        if el not in payload_fields:
            t = el.text
            if t:
                n = fix(t)
                if n is not t:
                    el.text = n
        t = el.tail
        if t:
            n = fix(t)
            if n is not t:
                el.tail = n
        if isinstance(el.tag, str):
            for k, v in el.attrib.items():
                n = fix(v)
                if n is not v:
                    el.set(k, n)


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: lxml_retarget.py INPUT OUTPUT SOURCE_HOST TARGET_HOST")
    src, dst, source, target = sys.argv[1:]

    tree = etree.parse(src, PARSER)
    ids = set()
    doc = load(tree.getroot(), "", ids)

    new_ids = {old: uuid.uuid5(NAMESPACE, old).hex for old in ids}

    def swap(m):
        old = m.group(0)
        return new_ids.get(old, old)

    def fix(text):
        out = text
        if len(out) >= 32:
            out = HEX32.sub(swap, out)
        if source in out:
            out = out.replace(source, target)
        return text if out == text else out

    rewrite(doc, fix)
    tree.write(dst, encoding="UTF-8", xml_declaration=True)
    print(
        f"lxml_retarget: {len(ids)} sys_ids regenerated, {count(doc)} payload(s) rewritten",
        file=sys.stderr,
    )


def count(doc):
    return sum(1 + count(sub) for _, sub in doc.payloads)


if __name__ == "__main__":
    main()
