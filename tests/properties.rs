//! Properties over generated documents: every shape the reader must take (random whitespace,
//! CRLF, CDATA and escaped payloads nested, empty elements both ways, both quote styles, a BOM)
//! reads back to exactly the records generated, and writes back byte for byte.

use proptest::prelude::*;

use crate::support::oracle::{ORecord, check_spans, ours};
use crate::support::{collect, self_splice};

#[derive(Debug, Clone)]
enum Value {
    SelfClosing,
    EmptyPair,
    Text(String),
    Cdata(String),
    Payload { escaped: bool, doc: Doc },
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    display_value: Option<String>,
    value: Value,
}

#[derive(Debug, Clone)]
struct Rec {
    table: String,
    fields: Vec<Field>,
}

#[derive(Debug, Clone)]
struct Doc {
    root: &'static str,
    decl: bool,
    records: Vec<Rec>,
}

#[derive(Debug, Clone)]
struct Style {
    bom: bool,
    quote: char,
    escape_quotes: bool,
    gaps: Vec<&'static str>,
}

fn text_strategy() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("a"),
            Just("Z"),
            Just(" "),
            Just("<"),
            Just(">"),
            Just("&"),
            Just("\""),
            Just("'"),
            Just("é"),
            Just("\u{FDDE}"),
            Just("\n"),
            Just("\r\n"),
            Just("\t"),
            Just("]"),
            Just("https://dev1.service-now.com/x.do?a=1&b=2"),
            Just("0123456789abcdef0123456789abcdef"),
        ],
        0..12,
    )
    .prop_map(|v| v.concat())
}

fn name_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("name"),
        Just("sys_id"),
        Just("script"),
        Just("value"),
        Just("x_a.b-c"),
        Just("sys_scope")
    ]
    .prop_map(str::to_string)
}

fn field_strategy(depth: u32) -> BoxedStrategy<Field> {
    let leaf = prop_oneof![
        Just(Value::SelfClosing),
        Just(Value::EmptyPair),
        text_strategy()
            .prop_filter("non-empty", |t| !t.is_empty())
            .prop_map(Value::Text),
        text_strategy().prop_map(|t| Value::Cdata(t.replace("]]>", "]] >"))),
    ];
    let value = if depth < 2 {
        prop_oneof![
            4 => leaf,
            1 => (any::<bool>(), doc_strategy(depth + 1)).prop_map(|(escaped, doc)| Value::Payload { escaped, doc }),
        ]
        .boxed()
    } else {
        leaf.boxed()
    };
    (
        name_strategy(),
        proptest::option::of(text_strategy()),
        value,
    )
        .prop_map(|(name, display_value, value)| {
            let name = if matches!(value, Value::Payload { .. }) {
                "payload".to_string()
            } else {
                name
            };
            Field {
                name,
                display_value,
                value,
            }
        })
        .boxed()
}

fn doc_strategy(depth: u32) -> BoxedStrategy<Doc> {
    let rec = (
        prop_oneof![
            Just("sys_update_xml"),
            Just("oauth_entity"),
            Just("sys_script")
        ],
        proptest::collection::vec(field_strategy(depth), 0..5),
    )
        .prop_map(|(t, fields)| Rec {
            table: t.to_string(),
            fields,
        });
    (
        if depth == 0 {
            prop_oneof![Just("unload"), Just("record_update")].boxed()
        } else {
            Just("record_update").boxed()
        },
        any::<bool>(),
        proptest::collection::vec(rec, 0..4),
    )
        .prop_map(|(root, decl, records)| Doc {
            root,
            decl,
            records,
        })
        .boxed()
}

fn style_strategy() -> impl Strategy<Value = Style> {
    (
        any::<bool>(),
        prop_oneof![Just('"'), Just('\'')],
        any::<bool>(),
        proptest::collection::vec(
            prop_oneof![
                Just(""),
                Just("\n"),
                Just("\r\n"),
                Just("\n    "),
                Just(" ")
            ],
            1..6,
        ),
    )
        .prop_map(|(bom, quote, escape_quotes, gaps)| Style {
            bom,
            quote,
            escape_quotes,
            gaps,
        })
}

fn escape_text(s: &str, quotes: bool) -> String {
    let s = s
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    if quotes { s.replace('"', "&quot;") } else { s }
}

struct Writer<'s> {
    style: &'s Style,
    n: usize,
}

impl Writer<'_> {
    fn gap(&mut self) -> &'static str {
        self.n += 1;
        self.style.gaps[self.n % self.style.gaps.len()]
    }

    fn doc(&mut self, d: &Doc) -> String {
        let mut out = String::new();
        if d.decl {
            out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            out.push_str(self.gap());
        }
        out.push_str(&format!("<{}>", d.root));
        for r in &d.records {
            out.push_str(self.gap());
            out.push_str(&format!(
                "<{} action={q}INSERT_OR_UPDATE{q}>",
                r.table,
                q = self.style.quote
            ));
            for f in &r.fields {
                out.push_str(self.gap());
                out.push_str(&self.field(f));
            }
            out.push_str(self.gap());
            out.push_str(&format!("</{}>", r.table));
        }
        out.push_str(self.gap());
        out.push_str(&format!("</{}>", d.root));
        out
    }

    fn field(&mut self, f: &Field) -> String {
        let q = self.style.quote;
        let attr = match &f.display_value {
            Some(d) => {
                let v = escape_text(d, true).replace('\'', "&apos;");
                format!(" display_value={q}{v}{q}")
            }
            None => String::new(),
        };
        let n = &f.name;
        match &f.value {
            Value::SelfClosing => format!("<{n}{attr}/>"),
            Value::EmptyPair => format!("<{n}{attr}></{n}>"),
            Value::Text(t) => format!(
                "<{n}{attr}>{}</{n}>",
                escape_text(t, self.style.escape_quotes)
            ),
            Value::Cdata(t) => format!("<{n}{attr}><![CDATA[{t}]]></{n}>"),
            Value::Payload { escaped, doc } => {
                let inner = self.doc(doc);
                if *escaped || inner.contains("]]>") {
                    format!(
                        "<{n}{attr}>{}</{n}>",
                        escape_text(&inner, self.style.escape_quotes)
                    )
                } else {
                    format!("<{n}{attr}><![CDATA[{inner}]]></{n}>")
                }
            }
        }
    }
}

/// Cases per property: `PROPTEST_CASES` when set (for long runs), else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn normalize(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// What the reader must find: records in pre-order with depth, fields and texts (a payload
/// field's text depends on the whitespace written inside it; the DOM oracle checks that one).
fn expected(d: &Doc, depth: usize, out: &mut Vec<ORecord>) {
    for r in &d.records {
        let at = out.len();
        out.push(ORecord {
            table: r.table.clone(),
            depth,
            fields: Vec::new(),
        });
        let mut fields = Vec::new();
        for f in &r.fields {
            let text = match &f.value {
                Value::SelfClosing | Value::EmptyPair | Value::Payload { .. } => String::new(),
                Value::Text(t) | Value::Cdata(t) => normalize(t),
            };
            if let Value::Payload { doc, .. } = &f.value {
                expected(doc, depth + 1, out);
            }
            fields.push((f.name.clone(), text));
        }
        out[at].fields = fields;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(300)))]

    #[test]
    fn generated_documents_read_exactly_and_write_back(doc in doc_strategy(0), style in style_strategy()) {
        let mut w = Writer { style: &style, n: 0 };
        let mut text = w.doc(&doc);
        if style.bom {
            text.insert(0, '\u{FEFF}');
        }
        let bytes = text.as_bytes();
        let (outcome, records) = collect(bytes);
        prop_assert!(outcome.diagnostics.is_empty(), "{:?}", outcome.diagnostics);

        // The generator's own record list.
        let mut exp = Vec::new();
        expected(&doc, 0, &mut exp);
        let got: Vec<ORecord> = ours(&records)
            .into_iter()
            .map(|mut r| {
                for f in &mut r.fields {
                    if f.0 == "payload" {
                        f.1.clear();
                    }
                }
                r
            })
            .collect();
        prop_assert_eq!(got, exp);
        check_spans(bytes, &records);
        prop_assert_eq!(self_splice(bytes, &records), bytes.to_vec());
        prop_assert_eq!(crate::support::oracle::oracle(&text).unwrap(), ours(&records));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(200)))]

    /// apply on generated documents: well-formed output, only the reported bytes change, ids
    /// consistently mapped, no old id or ciphertext left, idempotent, and reversible.
    #[test]
    fn apply_keeps_its_promises(doc in doc_strategy(0), style in style_strategy()) {
        use sn_retarget::plan::{NATURAL_KEY_TABLES, Plan, SecretMode};
        use crate::support::{
            check_consistency, check_locality, contains_token, defined_ids, no_ciphertext,
            regenerate_plan, apply_one as run, well_formed,
        };

        let mut w = Writer { style: &style, n: 0 };
        let mut text = w.doc(&doc);
        if style.bom {
            text.insert(0, '\u{FEFF}');
        }
        let bytes = text.as_bytes();
        // dev1 mapped when the document names it (else it would be refused).
        let plan = crate::support::for_outputs(&regenerate_plan(vec!["dev1.service-now.com".into()]), &[bytes]);
        let applied = run(&plan, "generated", bytes);
        let out = applied.outputs[0].bytes.clone();
        well_formed("generated", &out);
        check_locality(bytes, &applied);
        check_consistency(&applied);
        no_ciphertext("generated", &out);
        let out_text = String::from_utf8_lossy(&out);
        prop_assert!(!out_text.contains("dev1.service-now.com"));
        for (table, id) in defined_ids(bytes) {
            if !NATURAL_KEY_TABLES.contains(&table.as_str()) {
                prop_assert!(!contains_token(&out_text, &id), "old id {} left in {}\nfrom {}", id, out_text, text);
            }
        }
        let second = crate::support::for_outputs(&plan, &[&out]);
        prop_assert_eq!(run(&second, "again", &out).outputs[0].edits, 0);

        let keep = Plan { secrets: SecretMode::Keep, ..plan.clone() };
        let kept = run(&keep, "keep", bytes);
        let inverse = kept.report.id_map.iter().map(|p| (p.new.clone(), p.old.clone())).collect();
        let back = Plan {
            target: Some("dev1.service-now.com".into()),
            sources: vec!["acme.service-now.com".into()],
            map: inverse,
            secrets: SecretMode::Keep,
            ..Plan::default()
        };
        let back = crate::support::for_outputs(&back, &[&kept.outputs[0].bytes]);
        prop_assert_eq!(run(&back, "back", &kept.outputs[0].bytes).outputs.remove(0).bytes, bytes.to_vec());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2000)))]

    /// Masking any line, with the caret anywhere, never panics and keeps the caret on a
    /// character boundary (a fuzz crash: a noncharacter after a wide space).
    #[test]
    fn masking_never_panics(line in "(\\PC|\u{FDDE}|\u{3000}|<password>|&lt;|\\)pR#){0,40}", caret in 0usize..200) {
        let caret = (0..=caret.min(line.len())).rev().find(|&c| line.is_char_boundary(c)).unwrap_or(0);
        let (masked, at) = sn_retarget::analyze::secrets::mask_secrets_at(&line, caret);
        prop_assert!(masked.is_char_boundary(at));
        let kmf = '\u{FDDE}';
        prop_assert!(!masked.contains(kmf), "noncharacter left");
    }
}
