//! Nothing of the source left behind, however it is spelled: a differential property between
//! the rewrite and the output check.
//!
//! `apply` finds source hosts, sys_ids and secrets in the raw bytes of values (references to
//! their characters decoded, at any payload depth); `check`, which `apply` runs on its own
//! outputs only up to `CHECK_LIMIT_BYTES` in all, reads decoded text. Wherever the two
//! disagree, an output over the limit keeps the source silently. Exports are generated with
//! source hosts, sys_ids of records in the input and secrets in many spellings and places
//! (letter case, percent-escapes, character references at any depth, attributes, lists,
//! encoded queries, JSON, URLs, CDATA and escaped payloads, payloads in payloads,
//! source-control `<record_update>` files, `<database>` dictionaries); the rewrite runs with
//! its output check off, then the check runs on the outputs with the same plan (the function
//! `apply` calls): it must find nothing left that the rewrite left. The converse: near misses
//! that are not the source (another instance, a longer id) must not be reported.
//!
//! Each disagreement found is kept as a named test with its minimal input, ignored while it is
//! open (`bug: ...`); the properties leave its shape out, naming that test.

use proptest::prelude::*;
use sn_retarget::analyze::hosts::HostFinder;
use sn_retarget::apply::{Applied, Apply, check_outputs};
use sn_retarget::plan::Rewriter;
use sn_retarget::plan::{IdMode, Intent, Plan, SecretMode};

/// The record every generated export defines (its id is regenerated, so every spelling of it
/// must follow).
const ID: &str = "0123456789abcdef0123456789abcd01";
/// A second one, for lists.
const ID2: &str = "0123456789abcdef0123456789abcd02";
/// The first record a spot writes (defined at the spot's depth, in a payload maybe).
const ROW1: &str = "0123456789abcdef0123456789ab0001";
/// The source instances (`--source`), in their plain spelling.
const HOSTS: [&str; 2] = ["dev1.service-now.com", "dev2.servicenowservices.com"];

/// `--host dev1=acme --host dev2.servicenowservices.com=acme2 --sys-ids regenerate` (what
/// `--source dev1 --target acme` does, for two sources).
fn plan() -> Plan {
    Plan {
        hosts: [("dev1", "acme"), (HOSTS[1], "acme2")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        sys_ids: IdMode::Regenerate,
        ..Plan::default()
    }
}

/// What the output check reports as left behind: the findings that stop `apply`.
const LEFT: [&str; 4] = [
    "source-host-left",
    "old-id-left",
    "secret-left",
    "old-namespace-left",
];

/// One run: the rewrite with its check off, then the check `apply` runs on its outputs.
#[derive(Debug)]
enum Outcome {
    /// The rewrite refused the input (it said so: not a silent leftover).
    Refused(String),
    /// The outputs, and what the check found left in them (`rule: message`).
    Ran {
        outputs: Vec<String>,
        left: Vec<String>,
    },
}

fn run_with(plan: &Plan, inputs: &[(String, String)]) -> Outcome {
    let named: Vec<(&str, &[u8])> = inputs
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_bytes()))
        .collect();
    let applied: Applied = match Apply::new(plan.clone()).check_outputs(false).run(&named) {
        Ok(a) => a,
        Err(e) => return Outcome::Refused(e.to_string()),
    };
    let mut checked = applied.clone();
    check_outputs(plan, &mut checked).expect("the outputs read");
    let left = checked
        .report
        .findings
        .iter()
        .filter(|f| LEFT.contains(&f.rule))
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect();
    Outcome::Ran {
        outputs: applied
            .outputs
            .iter()
            .map(|o| String::from_utf8_lossy(&o.bytes).into_owned())
            .collect(),
        left,
    }
}

fn run(inputs: &[(String, String)]) -> Outcome {
    run_with(&plan(), inputs)
}

/// The plans the properties run: ids regenerated (secrets as placeholders, or emptied), or
/// kept with the two ids re-pointed by a map (`--map`).
fn plan_strategy() -> impl Strategy<Value = Plan> {
    prop_oneof![
        3 => Just(plan()),
        1 => Just(Plan {
            secrets: SecretMode::Blank,
            ..plan()
        }),
        1 => Just(Plan {
            scopes: vec![format!("{NAMESPACE}=x_new")],
            scope_prefix: true,
            ..plan()
        }),
        1 => Just(Plan {
            intent: Some(Intent::Derive),
            labels: [("G".to_string(), "Gx".to_string())].into_iter().collect(),
            ..plan()
        }),
        1 => Just(Plan {
            sys_ids: IdMode::Keep,
            map: [(ID, "fedcba9876543210fedcba9876543210"), (ID2, "fedcba9876543210fedcba9876543211")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            ..plan()
        }),
    ]
}

/// The file every run has: the record `ID` (and `ID2`) defines and each source host in its
/// plain spelling (`--source` must be named by the input).
fn base_file() -> (String, String) {
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload unload_date=\"2024-05-01 10:00:00\">\n\
         <x_app_group action=\"INSERT_OR_UPDATE\"><name>G</name><sys_id>{ID}</sys_id></x_app_group>\n\
         <x_app_group action=\"INSERT_OR_UPDATE\"><name>H</name><sys_id>{ID2}</sys_id></x_app_group>\n\
         <sys_properties action=\"INSERT_OR_UPDATE\"><name>p</name><value>https://{}/plain.do, https://{}/plain.do</value><sys_id>0123456789abcdef0123456789abcd05</sys_id></sys_properties>\n\
         </unload>\n",
        HOSTS[0], HOSTS[1]
    );
    ("base.xml".to_string(), text)
}

// ---------------------------------------------------------------------------------------------
// Spellings: XML source text at the level of the document that holds it.
// ---------------------------------------------------------------------------------------------

/// How one character of a token is written.
#[derive(Debug, Clone, Copy)]
enum Char {
    Plain,
    /// In the other letter case.
    Case,
    /// `&#46;`
    Dec,
    /// `&#x2e;` (`&#x2E;` when upper)
    Hex {
        upper: bool,
    },
    /// `&#00046;`
    DecZeros,
    /// `&amp;#46;`: a reference one level deeper (the value holds the reference itself, as
    /// HTML does).
    Deeper,
}

fn char_strategy() -> impl Strategy<Value = Char> {
    prop_oneof![
        40 => Just(Char::Plain),
        6 => Just(Char::Case),
        1 => Just(Char::Dec),
        1 => any::<bool>().prop_map(|upper| Char::Hex { upper }),
        1 => Just(Char::DecZeros),
        1 => Just(Char::Deeper),
    ]
}

/// `token` with each character written as `how` says (cycled).
fn spell(token: &str, how: &[Char]) -> String {
    let mut out = String::new();
    for (i, c) in token.chars().enumerate() {
        let n = c as u32;
        match how[i % how.len()] {
            Char::Plain => out.push(c),
            Char::Case if c.is_ascii_lowercase() => out.push(c.to_ascii_uppercase()),
            Char::Case => out.push(c.to_ascii_lowercase()),
            Char::Dec => out.push_str(&format!("&#{n};")),
            Char::Hex { upper: false } => out.push_str(&format!("&#x{n:x};")),
            Char::Hex { upper: true } => out.push_str(&format!("&#x{n:X};")),
            Char::DecZeros => out.push_str(&format!("&#000{n};")),
            Char::Deeper => out.push_str(&format!("&amp;#{n};")),
        }
    }
    out
}

/// A source host in some spelling, in a URL or beside other text.
fn host_strategy() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        Just(""),
        Just("https://"),
        Just("http://"),
        Just("HTTPS://"),
        Just("https://user:pw@"),
        Just("https://user%40x.example@"),
        Just("//"),
        Just("https%3A%2F%2F"),
        Just("https%3a%2f%2f"),
        Just("https%253A%252F%252F"),
        Just("https:\\/\\/"),
        Just("redirect_uri=https%3A%2F%2F"),
        Just("'"),
        Just("&quot;"),
        Just("("),
        Just("="),
        Just("@"),
        Just("&lt;a href=&quot;https://"),
        Just("url: "),
    ];
    let suffix = prop_oneof![
        Just(""),
        Just("/"),
        Just("/oauth_token.do"),
        Just("/x.do?sys_id=1&amp;a=b"),
        Just(":443/x"),
        Just("."),
        Just("./x"),
        Just(","),
        Just("'"),
        Just("&quot;"),
        Just(" "),
        Just("%2F"),
        Just("%2Fx"),
        Just("&amp;x=1"),
        Just("?"),
        Just("#frag"),
        Just(")"),
        Just("\\/"),
        Just("&quot;&gt;link&lt;/a&gt;"),
    ];
    let how = proptest::collection::vec(char_strategy(), 1..24);
    (prop::sample::select(HOSTS.to_vec()), how, prefix, suffix)
        .prop_map(|(host, how, p, s)| format!("{p}{}{s}", spell(host, &how)))
}

/// A sys_id of a record in the input, in some spelling and context.
fn id_strategy() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        Just(""),
        Just("sys_id="),
        Just("sys_idIN"),
        Just("sys_idNOT IN"),
        Just("^ORsys_id="),
        Just("sys_id%3D"),
        Just("SYS_ID="),
        Just("&quot;sys_id&quot;:&quot;"),
        Just("'"),
        Just(","),
        Just("_"),
        Just("/"),
        Just("sys_script_"),
        Just("sys_id&#61;"),
        Just("%2C"),
        Just("documentkey="),
        Just("?sys_id="),
        Just("x_app_group.do?sys_id="),
    ];
    let suffix = prop_oneof![
        Just(""),
        Just(","),
        Just("^EQ"),
        Just("^"),
        Just("&quot;"),
        Just("'"),
        Just("&amp;x=1"),
        Just("%2C"),
        Just("%26"),
        Just("/"),
        Just("_x"),
        Just(" "),
        Just("."),
        Just("-"),
    ];
    let how = proptest::collection::vec(char_strategy(), 1..40);
    (
        prop::sample::select(vec![ID, ID2, ROW1]),
        any::<bool>(),
        how,
        prefix,
        suffix,
    )
        .prop_map(|(id, upper, how, p, s)| {
            let id = match upper {
                true => id.to_ascii_uppercase(),
                false => id.to_string(),
            };
            // An id's characters are not spelled in the other case one by one (`Case`): a
            // token is of one case.
            let how: Vec<Char> = how
                .into_iter()
                .map(|c| match c {
                    Char::Case => Char::Plain,
                    c => c,
                })
                .collect();
            format!("{p}{}{s}", spell(&id, &how))
        })
}

/// The scope the namespace plan renames (`--scope x_old=x_new`, prefixes too).
const NAMESPACE: &str = "x_old";

/// A namespace where it names the scope: alone, prefixing a name, in a REST path.
fn namespace_strategy() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        Just(""),
        Just("/api/"),
        Just("sys_dictionary_"),
        Just("'"),
        Just("new "),
        Just("&quot;"),
        Just("scope="),
    ];
    let suffix = prop_oneof![
        Just(""),
        Just(".Util"),
        Just("_table"),
        Just("_t_f"),
        Just("/v1/x"),
        Just("'"),
        Just("."),
    ];
    // Spelled one character at a time; never in another case (see `known_bug`).
    let how = proptest::collection::vec(char_strategy(), 1..8).prop_map(|how| {
        how.into_iter()
            .map(|c| match c {
                Char::Case => Char::Plain,
                c => c,
            })
            .collect::<Vec<_>>()
    });
    (prefix, how, suffix).prop_map(|(p, how, s)| format!("{p}{}{s}", spell(NAMESPACE, &how)))
}

/// Text beside the tokens (never a letter or digit touching one: see the named tests).
fn filler_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("var x = 1;".to_string()),
        Just("abc".to_string()),
        Just("é ü".to_string()),
        Just("&amp;".to_string()),
        Just("&lt;b&gt;bold&lt;/b&gt;".to_string()),
        Just("&#13;".to_string()),
        Just("&#34;".to_string()),
        Just("&#233;".to_string()),
        Just("]]".to_string()),
        Just("".to_string()),
    ]
}

/// What a generated value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Hosts, ids and text.
    Tokens,
    /// A JSON document or a query string with a secret-named key in it.
    Embedding,
}

/// A generated value: XML source text at the level of its document.
#[derive(Debug, Clone)]
struct Value {
    source: String,
    kind: Kind,
}

fn separator_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(" "),
        Just(","),
        Just(", "),
        Just("\n"),
        Just("^"),
        Just("; "),
        Just(" + "),
        Just("&#13;\n"),
        Just("|"),
        Just("\t"),
        // Escapes of a JSON or JavaScript string (see `known_bug`).
        Just("\\n"),
        Just("\\t"),
    ]
}

/// A host or an id, or text.
fn piece_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => host_strategy(),
        3 => id_strategy(),
        1 => namespace_strategy(),
        1 => filler_strategy(),
    ]
}

/// Hosts, ids and text, with separators.
fn tokens_strategy() -> impl Strategy<Value = Value> {
    proptest::collection::vec((piece_strategy(), separator_strategy()), 1..4).prop_map(|pieces| {
        let mut out = String::new();
        for (i, (p, s)) in pieces.iter().enumerate() {
            if i > 0 {
                out.push_str(s);
            }
            out.push_str(p);
        }
        Value {
            source: out,
            kind: Kind::Tokens,
        }
    })
}

/// Blanks before a value: a line break is written `&#13;` + LF by ServiceNow's exports.
fn lead_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just(""),
        1 => Just(" "),
        1 => Just("\n"),
        1 => Just("&#13;\n"),
        1 => Just("&#10;"),
        1 => Just("&#32;"),
    ]
}

/// A secret-named key, in some spelling.
fn secret_key_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("password"),
        Just("client_secret"),
        Just("Client_Secret"),
        Just("CLIENT_SECRET"),
        Just("client&#95;secret"),
        Just("api_key"),
        Just("refresh_token"),
    ]
}

/// The secret itself.
fn secret_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just("s3cr3tValue"),
        1 => Just("s3cr]]>et"),
        1 => Just("a&amp;b"),
        1 => Just("&#115;3cr3t"),
    ]
}

/// A JSON document with a secret-named key, and a host or an id beside it.
fn json_strategy() -> impl Strategy<Value = Value> {
    let quote = prop_oneof![4 => Just("\""), 1 => Just("&#34;"), 1 => Just("&quot;")];
    (
        lead_strategy(),
        quote,
        secret_key_strategy(),
        secret_strategy(),
        piece_strategy(),
        0..3,
    )
        .prop_map(|(lead, q, key, secret, piece, shape)| {
            let member = format!("{q}{key}{q}:{q}{secret}{q}");
            let source = match shape {
                // Flat, the token beside the secret.
                0 => format!("{lead}{{{member},{q}u{q}:{q}{piece}{q}}}"),
                // Nested.
                1 => format!("{lead}{{{q}auth{q}:{{{member}}},{q}u{q}:{q}{piece}{q}}}"),
                // Keyed by the token (credentials per instance, per record).
                _ => format!("{lead}{{{q}{piece}{q}:{{{member}}}}}"),
            };
            Value {
                source,
                kind: Kind::Embedding,
            }
        })
}

/// A URL whose query holds a secret-named parameter, and a host or an id.
fn query_strategy() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("client_secret"),
        Just("Client_Secret"),
        Just("client%5Fsecret"),
        Just("client&#95;secret"),
        Just("password"),
        Just("api_key"),
    ];
    let amp = prop_oneof![Just("&amp;"), Just("&#38;"), Just("&amp;amp;")];
    (
        lead_strategy(),
        key,
        secret_strategy(),
        amp,
        prop_oneof![host_strategy(), id_strategy()],
    )
        .prop_map(|(lead, key, secret, amp, piece)| {
            // One token: no blank inside (the pieces' own blanks would make it text).
            let piece = piece.replace([' ', '\t', '\n'], "");
            Value {
                source: format!("{lead}https://x.example/cb?{key}={secret}{amp}u={piece}"),
                kind: Kind::Embedding,
            }
        })
}

/// Any value.
fn value_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => tokens_strategy(),
        1 => json_strategy(),
        1 => query_strategy(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Places: where a value lies in a record, which lies in a document, at some payload depth.
// ---------------------------------------------------------------------------------------------

/// Where a value is written in its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A field's text.
    Text,
    /// A field's CDATA section.
    Cdata,
    /// A reference's `display_value` attribute.
    DisplayValue,
    /// An attribute of the record element.
    RecordAttr,
}

/// A payload layer around a document.
#[derive(Debug, Clone, Copy)]
enum Layer {
    Escaped,
    Cdata,
}

/// The file a value ends up in.
#[derive(Debug, Clone, Copy)]
enum FileKind {
    /// `<unload>` (an XML export, an update set).
    Unload,
    /// A source-control `<record_update>` file.
    RecordUpdate,
    /// A source-control `<database>` dictionary (values in attributes).
    Database,
}

#[derive(Debug, Clone)]
struct Spot {
    value: Value,
    field: &'static str,
    place: Place,
    /// Payload layers around the value's record, innermost first.
    layers: Vec<Layer>,
    file: FileKind,
    /// Payloads start with an XML declaration.
    decl: bool,
    /// The record is an OAuth entity holding a plaintext client secret (a known secret
    /// column), in this spelling.
    secret: Option<&'static str>,
    /// How the record's own sys_id is spelled.
    own_id: Vec<Char>,
}

/// The plaintext client secret planted in some records.
const PLANTED: &str = "plainS3cret";

fn spot_strategy(value: BoxedStrategy<Value>) -> impl Strategy<Value = Spot> {
    (
        value,
        prop::sample::select(vec![
            "script",
            "u_url",
            "condition",
            "u_json",
            "description",
            "u_list",
        ]),
        prop_oneof![
            4 => Just(Place::Text),
            2 => Just(Place::Cdata),
            1 => Just(Place::DisplayValue),
            1 => Just(Place::RecordAttr),
        ],
        proptest::collection::vec(prop_oneof![Just(Layer::Escaped), Just(Layer::Cdata)], 0..3),
        prop_oneof![
            4 => Just(FileKind::Unload),
            2 => Just(FileKind::RecordUpdate),
            1 => Just(FileKind::Database),
        ],
        any::<bool>(),
        prop_oneof![
            3 => Just(None),
            1 => Just(Some(PLANTED)),
            1 => Just(Some("plain&#83;3cret")),
            1 => Just(Some("<![CDATA[plainS3cret]]>")),
        ],
        proptest::collection::vec(char_strategy(), 1..40),
    )
        .prop_map(
            |(value, field, place, layers, file, decl, secret, own_id)| Spot {
                value,
                field,
                place,
                layers,
                file,
                decl,
                secret,
                // A record's id is read at its own level only.
                own_id: own_id
                    .into_iter()
                    .map(|c| match c {
                        Char::Case | Char::Deeper => Char::Plain,
                        c => c,
                    })
                    .collect(),
            },
        )
}

/// Element text (XML source) as element text: `]]>` may not stand in text.
fn as_text(source: &str) -> String {
    source.replace("]]>", "]]&gt;")
}

/// Element text (XML source) as an attribute value between double quotes.
fn as_attr(source: &str) -> String {
    source.replace('"', "&quot;").replace('<', "&lt;")
}

/// Element text (XML source) inside a CDATA section: references stay as they are written
/// (`&#46;` is five characters there), `]]>` is split as ServiceNow splits it.
fn as_cdata(source: &str) -> String {
    format!("<![CDATA[{}]]>", source.replace("]]>", "]]]]><![CDATA[>"))
}

/// A document as the text of a payload field, escaped or in CDATA.
fn as_payload(doc: &str, layer: Layer) -> String {
    match layer {
        Layer::Escaped => doc
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
        Layer::Cdata => as_cdata(doc),
    }
}

/// A sys_id for the `n`th record written.
fn row_id(n: usize) -> String {
    format!("0123456789abcdef0123456789ab{n:04}")
}

/// The record that holds the spot's value (innermost level).
fn value_record(s: &Spot, n: &mut usize) -> String {
    *n += 1;
    let id = spell(&row_id(*n), &s.own_id);
    let v = &s.value.source;
    let (attr, field) = match s.place {
        Place::Text => (
            String::new(),
            format!("<{0}>{1}</{0}>", s.field, as_text(v)),
        ),
        Place::Cdata => (
            String::new(),
            format!("<{0}>{1}</{0}>", s.field, as_cdata(v)),
        ),
        Place::DisplayValue => (
            String::new(),
            format!("<u_group display_value=\"{}\">{ID}</u_group>", as_attr(v)),
        ),
        Place::RecordAttr => (format!(" u_note=\"{}\"", as_attr(v)), String::new()),
    };
    let (table, secret) = match s.secret {
        Some(secret) => (
            "oauth_entity",
            format!("<client_secret>{secret}</client_secret>"),
        ),
        None => ("sys_script", String::new()),
    };
    format!(
        "<{table} action=\"INSERT_OR_UPDATE\"{attr}><name>S{n}</name>{field}{secret}<sys_id>{id}</sys_id></{table}>"
    )
}

/// `records` as a `<record_update>` document (with an XML declaration when `decl`).
fn record_update(records: &str, decl: bool) -> String {
    let decl = match decl {
        true => "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        false => "",
    };
    format!("{decl}<record_update table=\"sys_script\">{records}</record_update>")
}

/// The spot's record wrapped in its payload layers, each an update (`sys_update_xml`) whose
/// payload is a `<record_update>` document.
fn layered(s: &Spot, n: &mut usize) -> String {
    let mut rec = value_record(s, n);
    for layer in &s.layers {
        *n += 1;
        let payload = as_payload(&record_update(&rec, s.decl), *layer);
        let id = row_id(*n);
        rec = format!(
            "<sys_update_xml action=\"INSERT_OR_UPDATE\"><name>sys_script_{id}</name><payload>{payload}</payload><sys_id>{id}</sys_id></sys_update_xml>"
        );
    }
    rec
}

/// An `<unload>` export of `records`.
fn unload(records: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload unload_date=\"2024-05-01 10:00:00\">\n{records}\n</unload>\n"
    )
}

/// The file holding the spot.
fn spot_file(s: &Spot, n: &mut usize) -> String {
    match s.file {
        FileKind::Unload => unload(&layered(s, n)),
        FileKind::RecordUpdate => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}\n",
            record_update(&layered(s, n), false)
        ),
        FileKind::Database => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><database>\n<element label=\"T\" name=\"x_t\" type=\"collection\"><element label=\"F\" name=\"u_f\" type=\"string\" default_value=\"{}\"/></element>\n</database>\n",
            as_attr(&s.value.source)
        ),
    }
}

/// The inputs of a run: the base file and one file per spot.
fn inputs_of(spots: &[Spot]) -> Vec<(String, String)> {
    let mut n = 0;
    let mut inputs = vec![base_file()];
    for (i, s) in spots.iter().enumerate() {
        inputs.push((format!("spot{i}.xml"), spot_file(s, &mut n)));
    }
    inputs
}

/// `source` as the rewrite reads a value that spells a character with a reference: every
/// reference decoded, at any depth (`&amp;#46;` too).
fn read_at_any_depth(source: &str) -> String {
    let mut text = source.to_string();
    while text.contains("&amp;") {
        text = text.replace("&amp;", "&");
    }
    for (entity, c) in [
        ("&quot;", "\""),
        ("&apos;", "'"),
        ("&lt;", "<"),
        ("&gt;", ">"),
    ] {
        text = text.replace(entity, c);
    }
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("&#") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after.find(';').unwrap_or(0);
        let digits = &after[..end];
        let code = match digits.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => digits.parse().ok(),
        };
        match code.and_then(char::from_u32) {
            Some(c) if end > 0 => {
                out.push(c);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("&#");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `true` when a value holds a secret under a key that names the source: a JSON key before a
/// secret-named one, or a query parameter's name (the whole token before `=` when there is no
/// `?` and no scheme), holding a source host, the renamed namespace, or an id spelled with
/// references (`source`: the value as written; `text`: as read).
fn secret_path_names_the_source(source: &str, text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let spelled = source.contains("&#") || source.contains("&amp;#");
    let host_in = |t: &str| {
        t.contains("service-now.com")
            || t.contains("servicenowservices.com")
            || t.contains(NAMESPACE)
            || (spelled && [ID, ID2, ROW1].iter().any(|id| t.contains(id)))
    };
    if lower.trim_start().starts_with('{') {
        // `{"<host>":{"password":...}}`
        return lower
            .split("\":{")
            .next()
            .is_some_and(|first| host_in(first) && lower.contains("\":{\""));
    }
    if lower.trim().contains(char::is_whitespace) || !lower.contains('=') {
        return false;
    }
    let query = match lower.split_once('?') {
        Some((_, q)) => q,
        None if lower.contains("://") => return false,
        None => lower.as_str(),
    };
    query
        .split(['&', ';'])
        .filter_map(|pair| pair.split_once('=').map(|(k, _)| k))
        .any(|k| {
            host_in(k)
                && ["token", "secret", "password", "key", "pwd"]
                    .iter()
                    .any(|w| k.contains(w))
        })
}

/// `true` when a CDATA payload around the spot holds a CDATA section (its `]]>` split, as any
/// XML writer splits it).
fn cdata_payload_holds_cdata(s: &Spot) -> bool {
    if matches!(s.file, FileKind::Database) {
        return false;
    }
    let mut holds_end = value_record(s, &mut 0).contains("]]>");
    for layer in &s.layers {
        match layer {
            Layer::Cdata if holds_end => return true,
            Layer::Cdata => holds_end = true,
            Layer::Escaped => holds_end = false,
        }
    }
    false
}

/// The open bug a spot's shape runs into, named by its test, or `None`.
fn known_bug(s: &Spot) -> Option<&'static str> {
    if cdata_payload_holds_cdata(s) {
        return Some("a_cdata_payload_holding_a_cdata_section_is_read");
    }
    let read = read_at_any_depth(&s.value.source);
    let checked =
        matches!(s.place, Place::Text | Place::Cdata) && !matches!(s.file, FileKind::Database);
    for id in [ID, ID2, ROW1] {
        let glued = read.match_indices(id).any(|(at, _)| {
            at > 0 && read.as_bytes()[at - 1].is_ascii_lowercase() && read.as_bytes()[at - 1] > b'f'
        });
        if glued {
            return Some("an_id_right_after_a_json_escape_is_rewritten");
        }
    }
    if checked && secret_path_names_the_source(&s.value.source, &read) {
        return Some("a_secret_under_a_key_naming_the_source_gets_a_placeholder_without_it");
    }
    if s.value.kind == Kind::Embedding && checked {
        if s.value.source.starts_with("&#") {
            return Some("a_secret_in_json_after_a_spelled_line_break_is_replaced");
        }
        if s.place == Place::Cdata && s.value.source.contains("]]>") {
            return Some("a_secret_in_json_split_across_cdata_sections_is_replaced");
        }
    }
    None
}

/// The outputs (or inputs), for failure messages.
fn shown(files: &[String]) -> String {
    files[1..].join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    /// The check finds no source host, old sys_id or secret in the outputs that the rewrite
    /// left: what it reads decoded, the rewrite rewrote.
    #[test]
    fn the_check_finds_nothing_the_rewrite_left(
        mut spots in proptest::collection::vec(spot_strategy(value_strategy().boxed()), 1..4),
        plan in plan_strategy(),
    ) {
        // Known bugs, each kept as the test it names.
        spots.retain(|s| known_bug(s).is_none());
        let inputs = inputs_of(&spots);
        let texts: Vec<String> = inputs.iter().map(|i| i.1.clone()).collect();
        match run_with(&plan, &inputs) {
            Outcome::Refused(e) => prop_assert!(false, "refused: {e}\n{}", shown(&texts)),
            Outcome::Ran { outputs, left } => {
                prop_assert!(left.is_empty(), "{left:#?}\nin:\n{}\nout:\n{}", shown(&texts), shown(&outputs));
                // What both could miss: a record not read at all keeps its id and its secret.
                let all = outputs.iter().map(|o| read_at_any_depth(o)).collect::<String>();
                prop_assert!(!all.contains(PLANTED), "secret left:\nin:\n{}\nout:\n{}", shown(&texts), shown(&outputs));
                if plan.sys_ids == IdMode::Regenerate {
                    let defined = texts.iter().map(|t| read_at_any_depth(t)).collect::<String>();
                    for k in 1..100 {
                        let id = row_id(k);
                        if defined.contains(&format!("<sys_id>{id}</sys_id>")) {
                            prop_assert!(!all.contains(&id), "{id} kept:\nin:\n{}\nout:\n{}", shown(&texts), shown(&outputs));
                        }
                    }
                }
                // Where the check does not look (attributes, `<database>` files: it reads no
                // host there), the rewrite's own reading (references at any depth) finds none.
                let hosts = HostFinder::new();
                let left_hosts: Vec<&str> = hosts
                    .find_all(all.as_bytes())
                    .map(|m| m.host)
                    .filter(|h| HOSTS.iter().any(|s| s.eq_ignore_ascii_case(h)))
                    .collect();
                prop_assert!(left_hosts.is_empty(), "{left_hosts:?}\nin:\n{}\nout:\n{}", shown(&texts), shown(&outputs));
                let old = [ID, ID2];
                prop_assert!(!old.iter().any(|id| has_token(&all, id)), "old id left:\nin:\n{}\nout:\n{}", shown(&texts), shown(&outputs));
            }
        }
    }
}

/// `true` when `text` holds `id` (in any case) as a whole run of hex digits.
fn has_token(text: &str, id: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let b = lower.as_bytes();
    lower.match_indices(id).any(|(at, _)| {
        let end = at + id.len();
        (at == 0 || !b[at - 1].is_ascii_hexdigit())
            && (end == b.len() || !b[end].is_ascii_hexdigit())
    })
}

/// Near misses: hosts of other instances or not of ServiceNow at all, hex runs that are not an
/// id of the input, in the same spellings and places.
fn near_miss_strategy() -> impl Strategy<Value = Value> {
    let host = prop_oneof![
        Just("xdev1.service-now.com"),
        Just("my-dev1.service-now.com"),
        Just("dev11.service-now.com"),
        Just("dev3.service-now.com"),
        Just("dev2.service-now.com"),
        Just("dev1.servicenowservices.com"),
        Just("dev1.service-now.com.evil.example"),
        Just("dev1.service-now.community"),
        Just("dev1.service-now.com-x"),
        Just("dev1-service-now.com"),
        Just("dev1.service-now.co"),
        Just("dev1.service-now"),
    ];
    // No reference one level deeper (`&amp;#46;`) here: the rewrite reads it as the character
    // (as HTML would) and the check as text, so `dev1.service-now.com&amp;#46;evil.example`
    // is a source host to the check and not to the rewrite. No export writes a deeper
    // reference beside a host.
    let how = proptest::collection::vec(char_strategy(), 1..24).prop_map(|how| {
        how.into_iter()
            .map(|c| match c {
                Char::Deeper => Char::Dec,
                c => c,
            })
            .collect::<Vec<_>>()
    });
    let host = (host, how).prop_map(|(h, how)| spell(h, &how));
    let id = prop_oneof![
        Just(format!("{ID}0")),
        Just(format!("0{ID}")),
        Just(format!("a{ID}")),
        Just(ID[..31].to_string()),
        Just(format!("{ID}{ID2}")),
        Just("0123456789abcdef0123456789abcd99".to_string()),
        Just("0123456789ABCDEF0123456789ABCD99".to_string()),
        Just(format!("{}0", ID.to_ascii_uppercase())),
        Just(format!("sys_id={}", &ID[1..])),
    ];
    let piece = prop_oneof![host.boxed(), id.boxed(), filler_strategy().boxed()];
    proptest::collection::vec((piece, separator_strategy()), 1..4).prop_map(|pieces| {
        let mut out = String::new();
        for (i, (p, s)) in pieces.iter().enumerate() {
            if i > 0 {
                out.push_str(s);
            }
            out.push_str(p);
        }
        Value {
            source: out,
            kind: Kind::Tokens,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    /// The converse: what is not the source (another instance, a longer hex run, an id the
    /// input does not define) is not reported as left behind, which would stop the run.
    #[test]
    fn the_check_reports_no_leftover_that_is_not_the_source(
        mut spots in proptest::collection::vec(spot_strategy(near_miss_strategy().boxed()), 1..4),
        plan in plan_strategy(),
    ) {
        // An unread payload is read by the check as text (see the test named).
        spots.retain(|s| !cdata_payload_holds_cdata(s));
        // A reference inside CDATA is text to XML (and to the check), a character to the
        // rewrite: `<![CDATA[m&#121;-dev1.service-now.com]]>` names `dev1` to one and `my-dev1`
        // to the other. No export writes references in CDATA.
        spots.retain(|s| !(s.place == Place::Cdata && s.value.source.contains("&#")));
        let inputs = inputs_of(&spots);
        let texts: Vec<String> = inputs.iter().map(|i| i.1.clone()).collect();
        match run_with(&plan, &inputs) {
            Outcome::Refused(e) => prop_assert!(false, "refused: {e}\n{}", shown(&texts)),
            Outcome::Ran { outputs, left } => {
                prop_assert!(left.is_empty(), "{left:#?}\nin:\n{}\nout:\n{}", shown(&texts), shown(&outputs));
            }
        }
    }
}

/// The records of `spots` that an `<unload>` can hold, in one `<unload>` with the base file's.
fn one_file(spots: &[Spot]) -> String {
    let mut n = 0;
    let base = base_file().1;
    let records: Vec<String> = spots
        .iter()
        .filter(|s| !matches!(s.file, FileKind::Database))
        .map(|s| layered(s, &mut n))
        .collect();
    base.replace("</unload>", &format!("{}\n</unload>", records.join("\n")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    /// A large file is read in parts (each finding its own spelled references): read in parts
    /// of any size, a file gives the edits it gives read whole.
    #[test]
    fn spellings_read_in_parts_give_the_edits_read_whole(
        spots in proptest::collection::vec(spot_strategy(value_strategy().boxed()), 2..6),
    ) {
        let text = one_file(&spots);
        let bytes = text.as_bytes();
        let plan = plan();
        let run = |part_bytes: Option<usize>| {
            let mut w = Rewriter::new(plan.compile().unwrap());
            if let Some(n) = part_bytes {
                w = w.with_part_bytes(n);
            }
            let pass = w.read(bytes, true).map_err(|e| e.to_string())?;
            let ids = w.resolve([&pass]);
            w.finish(pass, &ids, bytes, true).map_err(|e| e.to_string())
        };
        let whole = run(None);
        prop_assert!(whole.is_ok(), "{whole:?}\n{text}");
        for n in [1, 150, 400] {
            prop_assert_eq!(&run(Some(n)), &whole, "in parts of {}:\n{}", n, text);
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

/// The check this file relies on does see what is left: run on the inputs as if they were
/// outputs, it reports every source host and every old id.
#[test]
fn the_check_sees_what_is_left_in_every_place() {
    let plan = plan();
    let named: Vec<(String, String)> = inputs_of(&[]);
    let files: Vec<(&str, &[u8])> = named
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_bytes()))
        .collect();
    let applied = Apply::new(plan.clone()).run(&files).unwrap();
    let findings = sn_retarget::apply::check_named(&plan, &applied.report, &files).unwrap();
    let rules: Vec<&str> = findings.iter().map(|f| f.rule).collect();
    assert!(rules.contains(&"source-host-left"), "{rules:?}");
    assert!(rules.contains(&"old-id-left"), "{rules:?}");
}

// ---------------------------------------------------------------------------------------------
// Disagreements found, each with its minimal input (ignored while open).
// ---------------------------------------------------------------------------------------------

/// Runs the plan on the base file and an `<unload>` of `records`: the output of the latter and
/// what the check finds left in it.
fn rewrite(records: &str) -> (String, Vec<String>) {
    let inputs = vec![base_file(), ("in.xml".to_string(), unload(records))];
    match run(&inputs) {
        Outcome::Refused(e) => panic!("refused: {e}"),
        Outcome::Ran { mut outputs, left } => (outputs.remove(1), left),
    }
}

/// A script record holding `field` (XML source of the whole element).
fn script_with(field: &str) -> String {
    format!(
        "<sys_script action=\"INSERT_OR_UPDATE\"><name>S</name>{field}<sys_id>0123456789abcdef0123456789abcd09</sys_id></sys_script>"
    )
}

/// A JSON or JavaScript string escape (`\n`, `\t`) right before an id: ServiceNow reads a line
/// break, then the id. The rewrite takes the escape's letter as part of a longer word and
/// leaves the id; the check sees it (the whole-token rule of `id_tokens`, src/plan/tokens.rs).
#[test]
#[ignore = "bug: an id right after a JSON escape (\\n0123...) is left; the check sees it, outputs over 64 MB keep it"]
fn an_id_right_after_a_json_escape_is_rewritten() {
    let (out, left) = rewrite(&script_with(&format!(
        "<script>var ids = \"{ID2}\\n{ID}\\t{ID2}\";</script>"
    )));
    assert!(left.is_empty(), "{left:?}\n{out}");
    assert!(!out.contains(ID) && !out.contains(ID2), "{out}");
}

/// The same escape right before a bare host: ServiceNow reads a line break, then the host;
/// both the rewrite and the check read the instance `ndev1` (`host_at`, src/analyze/hosts.rs),
/// so the host is left at every size.
#[test]
#[ignore = "bug: a host right after a JSON escape (\\ndev1.service-now.com) is left, and the check misses it too"]
fn a_host_right_after_a_json_escape_is_rewritten() {
    let (out, left) = rewrite(&script_with(
        "<u_json>{\"hosts\":\"acme.service-now.com\\ndev1.service-now.com\\tdev1.service-now.com\"}</u_json>",
    ));
    assert!(left.is_empty(), "{left:?}\n{out}");
    assert!(!out.contains("dev1.service-now.com"), "{out}");
}

/// A lower-case percent-escape right before an id (`sys_id%3d<id>`, as .NET's `UrlEncode`
/// writes it): ServiceNow decodes `sys_id=<id>`; both the rewrite and the check read a 34-digit
/// run (`id_tokens`, src/plan/tokens.rs; `hex32_runs`, src/check/rules/leftovers.rs), so the id
/// is left at every size. (Hosts after `%2f` are found: `host_at` skips the escape.)
#[test]
#[ignore = "bug: an id after a lower-case percent-escape (sys_id%3d0123...) is left, and the check misses it too"]
fn an_id_after_a_lower_case_percent_escape_is_rewritten() {
    let (out, left) = rewrite(&script_with(&format!(
        "<u_url>https://x.example/cb?q=sys_id%3d{ID}%2c{ID2}</u_url>"
    )));
    assert!(left.is_empty(), "{left:?}\n{out}");
    assert!(!out.contains(ID) && !out.contains(ID2), "{out}");
}

/// A JSON value with a secret-named key, after a line break written as ServiceNow's exports
/// write it (`&#13;` and a line feed): the rewrite's quick filter reads the raw bytes, whose
/// first one is `&`, not `{` (`may_embed` on `r.raw(f)` in `Visitor::record`,
/// src/plan/rewrite/visit.rs), and leaves the secret; the check reads the decoded text and
/// finds it.
#[test]
#[ignore = "bug: a secret in JSON after a spelled line break (&#13;\\n{...}) is left; the check sees it, outputs over 64 MB keep it"]
fn a_secret_in_json_after_a_spelled_line_break_is_replaced() {
    let (out, left) = rewrite(&script_with(
        "<u_json>&#13;\n{\"password\":\"s3cr3tValue\"}</u_json>",
    ));
    assert!(left.is_empty(), "{left:?}\n{out}");
    assert!(!out.contains("s3cr3tValue"), "{out}");
}

/// A JSON value holding `]]>` in CDATA, split as every writer splits it
/// (`]]]]><![CDATA[>`): the value is two CDATA sections (`ValueKind::Mixed`), which the
/// rewrite never searches for secret-named keys (`Planner::embedded`,
/// src/plan/rewrite/planner.rs, returns `false`); the check reads the joined text and finds
/// the secret.
#[test]
#[ignore = "bug: a secret in JSON split across CDATA sections is left; the check sees it, outputs over 64 MB keep it"]
fn a_secret_in_json_split_across_cdata_sections_is_replaced() {
    let (out, left) = rewrite(&script_with(
        "<u_json><![CDATA[{\"password\":\"s3cr3tValue\",\"xml\":\"<![CDATA[x]]]]><![CDATA[>\"}]]></u_json>",
    ));
    assert!(left.is_empty(), "{left:?}\n{out}");
    assert!(!out.contains("s3cr3tValue"), "{out}");
}

/// Credentials keyed by instance (`{"https://dev1.service-now.com/":{"api_key":...}}`): the
/// key is rewritten, but the placeholder names the secret's path as read in the input
/// (`Planner::embedded` builds it from `e.path`; ids in it are mapped, hosts are not), so the
/// output names the source instance; the check finds it.
#[test]
#[ignore = "bug: the placeholder of a secret under a key naming the source host keeps the host; the check sees it, outputs over 64 MB keep it"]
fn a_secret_under_a_key_naming_the_source_gets_a_placeholder_without_it() {
    let (out, left) = rewrite(&script_with(
        "<u_json>{\"https://dev1.service-now.com/\":{\"api_key\":\"s3cr3tValue\"}}</u_json>",
    ));
    assert!(left.is_empty(), "{left:?}\n{out}");
    assert!(!out.contains("dev1.service-now.com"), "{out}");
    assert!(out.contains("acme.service-now.com/api_key"), "{out}");
}

/// A CDATA payload whose document holds a CDATA section (a script, as payloads hold them):
/// its `]]>` is split (`]]]]><![CDATA[>`), so the payload field is several CDATA sections
/// (`ValueKind::Mixed`), which the reader never reads as a payload (`Reader::payload`,
/// src/model/reader.rs: only one section is). Its records are not read: the plaintext
/// client_secret is left, the record keeps its source sys_id, and the check reads the payload
/// as plain text and finds nothing, at every size. (It also reads a reference in it as text,
/// one level: `&#120;dev1.service-now.com` there is reported as the source host.)
#[test]
#[ignore = "bug: a CDATA payload holding a CDATA section is not read: its secret and sys_id are left, silently, at every size"]
fn a_cdata_payload_holding_a_cdata_section_is_read() {
    let inner = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><record_update table=\"oauth_entity\"><oauth_entity action=\"INSERT_OR_UPDATE\"><name>P</name><client_secret>{PLANTED}</client_secret><u_group>{ID}</u_group><script><![CDATA[x]]]]><![CDATA[></script><sys_id>0123456789abcdef0123456789ab0101</sys_id></oauth_entity></record_update>"
    );
    let (out, left) = rewrite(&format!(
        "<sys_update_xml action=\"INSERT_OR_UPDATE\"><name>oauth_entity_0123456789abcdef0123456789ab0101</name><payload><![CDATA[{inner}]]></payload><sys_id>0123456789abcdef0123456789ab0102</sys_id></sys_update_xml>"
    ));
    assert!(left.is_empty(), "{left:?}\n{out}");
    assert!(!out.contains(PLANTED), "secret left: {out}");
    assert!(
        !out.contains("0123456789abcdef0123456789ab0101"),
        "id kept: {out}"
    );
}

/// An entity-escaped payload that escapes `<` and `&` but leaves `>` as it is (all XML asks)
/// after an XML declaration: `is_update_document` (src/model/reader.rs) looks for `&gt;` to end
/// the declaration, finds one far inside the document, and the payload is not read. As with
/// the CDATA payload above, its plaintext client_secret and its record's sys_id are left and
/// the check finds nothing, at every size.
#[test]
#[ignore = "bug: an escaped payload whose `>` are not escaped (after an XML declaration) is not read: its secret and sys_id are left, silently"]
fn an_escaped_payload_with_a_bare_gt_is_read() {
    let inner = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><record_update table=\"oauth_entity\"><oauth_entity action=\"INSERT_OR_UPDATE\"><name>P</name><client_secret>{PLANTED}</client_secret><u_group>{ID}</u_group><sys_id>0123456789abcdef0123456789ab0101</sys_id></oauth_entity></record_update>"
    )
    .replace('&', "&amp;")
    .replace('<', "&lt;");
    let (out, left) = rewrite(&format!(
        "<sys_update_xml action=\"INSERT_OR_UPDATE\"><name>oauth_entity_0123456789abcdef0123456789ab0101</name><payload>{inner}</payload><sys_id>0123456789abcdef0123456789ab0102</sys_id></sys_update_xml>"
    ));
    assert!(left.is_empty(), "{left:?}\n{out}");
    assert!(!out.contains(PLANTED), "secret left: {out}");
    assert!(
        !out.contains("0123456789abcdef0123456789ab0101"),
        "id kept: {out}"
    );
}

/// The converse: an id glued to a letter that is no hex digit (`<id>g`) is not that id to
/// ServiceNow, and the rewrite leaves it; the check reports it as an old id left
/// (`hex32_runs`, src/check/rules/leftovers.rs, is wider on purpose, for the escapes above)
/// and stops the run.
#[test]
#[ignore = "bug: an id glued to a letter (0123...g) is reported as left and stops the run, though it is no id"]
fn an_id_glued_to_a_letter_is_not_reported() {
    let (out, left) = rewrite(&script_with(&format!(
        "<script>var x{ID} = 1; var y = '{ID}g';</script>"
    )));
    assert!(left.is_empty(), "{left:?}\n{out}");
}

/// Runs [`rewrite`] with the namespace renamed as a prefix (`--scope x_old=x_new`, what `fork`
/// does).
fn rewrite_namespace(records: &str) -> (String, Vec<String>) {
    let plan = Plan {
        scopes: vec![format!("{NAMESPACE}=x_new")],
        scope_prefix: true,
        ..plan()
    };
    let inputs = vec![base_file(), ("in.xml".to_string(), unload(records))];
    match run_with(&plan, &inputs) {
        Outcome::Refused(e) => panic!("refused: {e}"),
        Outcome::Ran { mut outputs, left } => (outputs.remove(1), left),
    }
}

/// A REST path of the old scope, percent-encoded inside a URL's parameter
/// (`redirect_uri=https%3A%2F%2Facme.service-now.com%2Fapi%2Fx_old%2Fv1`): ServiceNow decodes
/// `/api/x_old/v1`; both the rewrite and the check take the escape's `F` for a letter of a
/// longer name (`occurrences`, src/plan/namespace.rs: hosts skip the escape, namespaces do not),
/// so the old scope is left at every size.
#[test]
#[ignore = "bug: a namespace after a percent-escape (%2Fx_old%2F) is left, and the check misses it too"]
fn a_namespace_after_a_percent_escape_is_renamed() {
    let (out, left) = rewrite_namespace(&script_with(
        "<u_url>https://x.example/cb?redirect_uri=https%3A%2F%2Fdev1.service-now.com%2Fapi%2Fx_old%2Fv1</u_url>",
    ));
    assert!(left.is_empty(), "{left:?}\n{out}");
    assert!(out.contains("%2Fapi%2Fx_new%2Fv1"), "{out}");
}

/// The converse: the old namespace in other letter cases (`X_OLD.Util`) names no scope to
/// ServiceNow (scopes, tables and script names are lower case; JavaScript is case-sensitive),
/// and the rewrite leaves it; the check reports it in any case (`occurrences(.., true)` in
/// src/check/rules/leftovers.rs) and stops the run. Over 64 MB the same output passes.
#[test]
#[ignore = "bug: the old namespace in upper case (X_OLD.Util) is reported as left and stops the run, though the rewrite rightly leaves it"]
fn a_namespace_in_another_case_is_not_reported() {
    let (out, left) = rewrite_namespace(&script_with("<script>var x = X_OLD.Util;</script>"));
    assert!(left.is_empty(), "{left:?}\n{out}");
}

/// Found beside the above: a secret-named JSON key holding an escaped quote
/// (`{"my\"password":...}`) is named in its placeholder as decoded, with a bare `"`, inside
/// the JSON string (`Planner::embedded` escapes only `\\`): the value no longer parses as
/// JSON on the target. Nothing of the source is left, the check sees nothing.
#[test]
#[ignore = "bug: a placeholder naming a key that holds a quote breaks the JSON it is written in"]
fn a_placeholder_keeps_its_json_valid() {
    let (out, _) = rewrite(&script_with(
        "<u_json>{\"my\\\"password\":\"s3cr3tValue\"}</u_json>",
    ));
    let json = out
        .split("<u_json>")
        .nth(1)
        .and_then(|v| v.split("</u_json>").next())
        .unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(json).is_ok(),
        "{json}"
    );
}
