#!/usr/bin/env python3
"""The crate's public items, one per line, sorted: the list committed in public-api.txt.

Reads the rustdoc JSON of the library as docs.rs builds it (features `io` and `synth`; not
`cli`, which adds nothing to the library, nor `internals`, which is not a supported API):

    RUSTC_BOOTSTRAP=1 cargo rustdoc --lib --no-default-features --features io,synth \
        -- -Z unstable-options --output-format json
    python3 scripts/public-api.py target/doc/sn_retarget.json > public-api.txt

`.ci/run` makes the list again and fails when it differs from the committed one, so that every
change to the public surface is seen in review (update the file in the same commit).
"""

import json
import sys


USED = set()  # ids of the crate's own types named in the public items


def render(t):
    """A type, written about as Rust writes it."""
    if t is None:
        return "()"
    (kind, v), = t.items()
    if kind == "primitive":
        return v
    if kind == "generic":
        return v
    if kind == "resolved_path":
        USED.add(v["id"])
        return v["path"].split("::")[-1] + args(v.get("args"))
    if kind == "borrowed_ref":
        mut = "mut " if v["is_mutable"] else ""
        life = v["lifetime"] + " " if v.get("lifetime") else ""
        return f"&{life}{mut}{render(v['type'])}"
    if kind == "raw_pointer":
        return ("*mut " if v["is_mutable"] else "*const ") + render(v["type"])
    if kind == "slice":
        return f"[{render(v)}]"
    if kind == "array":
        return f"[{render(v['type'])}; {v['len']}]"
    if kind == "tuple":
        return "(" + ", ".join(render(x) for x in v) + ")"
    if kind == "impl_trait":
        return "impl " + " + ".join(bound(b) for b in v)
    if kind == "dyn_trait":
        return "dyn " + " + ".join(
            p["trait"]["path"].split("::")[-1] + args(p["trait"].get("args")) for p in v["traits"]
        )
    if kind == "qualified_path":
        return f"<{render(v['self_type'])}>::{v['name']}"
    if kind == "function_pointer":
        return "fn(..)"
    return kind


def bound(b):
    if "trait_bound" in b:
        tr = b["trait_bound"]["trait"]
        return tr["path"].split("::")[-1] + args(tr.get("args"))
    if "outlives" in b:
        return b["outlives"]
    return "?"


def args(a):
    if not a:
        return ""
    if "angle_bracketed" in a:
        out = []
        for x in a["angle_bracketed"]["args"]:
            if "type" in x:
                out.append(render(x["type"]))
            elif "lifetime" in x:
                out.append(x["lifetime"])
            elif "const" in x:
                out.append(str(x["const"].get("expr", "_")))
        for c in a["angle_bracketed"].get("constraints", []):
            binding = c.get("binding", {})
            if "equality" in binding and "type" in binding["equality"]:
                out.append(f"{c['name']} = {render(binding['equality']['type'])}")
        return "<" + ", ".join(out) + ">" if out else ""
    if "parenthesized" in a:
        p = a["parenthesized"]
        out = "(" + ", ".join(render(x) for x in p["inputs"]) + ")"
        return out + (" -> " + render(p["output"]) if p.get("output") else "")
    return ""


def signature(f):
    sig = f["sig"]
    params = ", ".join(
        n if n == "self" else f"{n}: {render(t)}" for n, t in sig["inputs"]
    )
    params = params.replace("self: &Self", "&self").replace("self: &mut Self", "&mut self")
    out = sig.get("output")
    return f"({params})" + (f" -> {render(out)}" if out else "")


class Lister:
    def __init__(self, doc):
        self.index = doc["index"]
        self.paths = doc["paths"]
        self.lines = set()
        self.seen = set()
        self.listed = set()

    def item(self, i):
        return self.index.get(str(i))

    def walk(self, i, path):
        it = self.item(i)
        if it is None or it["visibility"] != "public" and path:
            return
        (kind, v), = it["inner"].items()
        name = it.get("name")
        here = f"{path}::{name}" if path and name else (path or name)
        if kind == "module":
            if (i, here) in self.seen:
                return
            self.seen.add((i, here))
            self.lines.add(f"mod {here}")
            for c in v["items"]:
                self.walk(c, here)
        elif kind == "use":
            target = v.get("id")
            if target is None:
                return
            if v.get("is_glob"):
                t = self.item(target)
                if t and "module" in t["inner"]:
                    for c in t["inner"]["module"]["items"]:
                        self.walk(c, path)
                return
            t = self.item(target)
            if t is None:  # from another crate
                self.lines.add(f"use {path}::{v['name']} = {v['source']}")
                return
            self.walk_as(target, path, v["name"])
        else:
            self.walk_as(i, path, name)

    def walk_as(self, i, path, name):
        self.listed.add(i)
        it = self.item(i)
        (kind, v), = it["inner"].items()
        here = f"{path}::{name}"
        if kind == "module":
            return self.walk(i, path) if it.get("name") == name else self.walk_module_as(i, here)
        if kind == "struct":
            self.lines.add(f"struct {here}")
            fields = v["kind"].get("plain", {}).get("fields", []) + v["kind"].get("tuple", []) or []
            for f in fields:
                fi = self.item(f) if f is not None else None
                if fi and fi["visibility"] == "public":
                    self.lines.add(f"field {here}.{fi['name']}: {render(fi['inner']['struct_field'])}")
            self.impls(v["impls"], here)
        elif kind == "enum":
            self.lines.add(f"enum {here}")
            for var in v["variants"]:
                self.lines.add(f"variant {here}::{self.item(var)['name']}")
            self.impls(v["impls"], here)
        elif kind == "union":
            self.lines.add(f"union {here}")
        elif kind == "trait":
            self.lines.add(f"trait {here}")
            for m in v["items"]:
                mi = self.item(m)
                if "function" in mi["inner"]:
                    self.lines.add(f"fn {here}::{mi['name']}{signature(mi['inner']['function'])}")
        elif kind == "function":
            self.lines.add(f"fn {here}{signature(v)}")
        elif kind == "constant":
            self.lines.add(f"const {here}: {render(v['type'])}")
        elif kind == "static":
            self.lines.add(f"static {here}: {render(v['type'])}")
        elif kind == "type_alias":
            self.lines.add(f"type {here} = {render(v['type'])}")
        elif kind == "macro":
            self.lines.add(f"macro {name}!")
        else:
            self.lines.add(f"{kind} {here}")

    def walk_module_as(self, i, here):
        self.lines.add(f"mod {here}")
        for c in self.item(i)["inner"]["module"]["items"]:
            self.walk(c, here)

    def impls(self, ids, here):
        for i in ids:
            im = self.item(i)["inner"]["impl"]
            if im["is_synthetic"] or im["blanket_impl"] is not None:
                continue
            if im["trait"] is not None:
                tr = im["trait"]
                self.lines.add(f"impl {tr['path'].split('::')[-1]}{args(tr.get('args'))} for {here}")
                continue
            for m in im["items"]:
                mi = self.item(m)
                if mi["visibility"] != "public":
                    continue
                if "function" in mi["inner"]:
                    self.lines.add(f"fn {here}::{mi['name']}{signature(mi['inner']['function'])}")
                elif "assoc_const" in mi["inner"]:
                    self.lines.add(f"const {here}::{mi['name']}")


def main():
    doc = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "target/doc/sn_retarget.json"))
    lister = Lister(doc)
    lister.walk(doc["root"], "")
    for line in sorted(lister.lines):
        print(line)
    # A type of this crate that public items use but no public path names: users cannot name
    # it (re-export it, or keep it out of the public items).
    unnameable = sorted(
        ".".join(doc["paths"][str(i)]["path"])
        for i in USED
        if str(i) in doc["paths"] and doc["paths"][str(i)]["crate_id"] == 0 and i not in lister.listed
    )
    for path in unnameable:
        print(f"unnameable: {path}", file=sys.stderr)
    sys.exit(1 if unnameable else 0)


if __name__ == "__main__":
    main()
