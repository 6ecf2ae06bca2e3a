//! Exports: where a value lies in a record, which lies in a document (`<unload>`,
//! source-control `<record_update>`, `<database>`), at some payload depth; and the shapes of the
//! open bugs, so that the properties leave them out.

use proptest::prelude::*;

use super::spelled::{Char, Value, char_strategy, spell};
use super::{HOSTS, ID, ID2, PLANTED};

/// The file every run has: the record `ID` (and `ID2`) defines and each source host in its
/// plain spelling (`--source` must be named by the input).
pub(super) fn base_file() -> (String, String) {
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

/// Where a value is written in its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
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
pub(super) enum Layer {
    Escaped,
    Cdata,
}

/// The file a value ends up in.
#[derive(Debug, Clone, Copy)]
pub(super) enum FileKind {
    /// `<unload>` (an XML export, an update set).
    Unload,
    /// A source-control `<record_update>` file.
    RecordUpdate,
    /// A source-control `<database>` dictionary (values in attributes).
    Database,
}

#[derive(Debug, Clone)]
pub(super) struct Spot {
    pub(super) value: Value,
    pub(super) field: &'static str,
    pub(super) place: Place,
    /// Payload layers around the value's record, innermost first.
    pub(super) layers: Vec<Layer>,
    pub(super) file: FileKind,
    /// Payloads start with an XML declaration.
    pub(super) decl: bool,
    /// The record is an OAuth entity holding a plaintext client secret (a known secret
    /// column), in this spelling.
    pub(super) secret: Option<&'static str>,
    /// How the record's own sys_id is spelled.
    pub(super) own_id: Vec<Char>,
}

pub(super) fn spot_strategy(value: BoxedStrategy<Value>) -> impl Strategy<Value = Spot> {
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
pub(super) fn as_text(source: &str) -> String {
    source.replace("]]>", "]]&gt;")
}

/// Element text (XML source) as an attribute value between double quotes.
pub(super) fn as_attr(source: &str) -> String {
    source.replace('"', "&quot;").replace('<', "&lt;")
}

/// Element text (XML source) inside a CDATA section: references stay as they are written
/// (`&#46;` is five characters there), `]]>` is split as ServiceNow splits it.
pub(super) fn as_cdata(source: &str) -> String {
    format!("<![CDATA[{}]]>", source.replace("]]>", "]]]]><![CDATA[>"))
}

/// A document as the text of a payload field, escaped or in CDATA.
pub(super) fn as_payload(doc: &str, layer: Layer) -> String {
    match layer {
        Layer::Escaped => doc
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
        Layer::Cdata => as_cdata(doc),
    }
}

/// A sys_id for the `n`th record written.
pub(super) fn row_id(n: usize) -> String {
    format!("0123456789abcdef0123456789ab{n:04}")
}

/// The record that holds the spot's value (innermost level).
pub(super) fn value_record(s: &Spot, n: &mut usize) -> String {
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
pub(super) fn record_update(records: &str, decl: bool) -> String {
    let decl = match decl {
        true => "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        false => "",
    };
    format!("{decl}<record_update table=\"sys_script\">{records}</record_update>")
}

/// The spot's record wrapped in its payload layers, each an update (`sys_update_xml`) whose
/// payload is a `<record_update>` document.
pub(super) fn layered(s: &Spot, n: &mut usize) -> String {
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
pub(super) fn unload(records: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload unload_date=\"2024-05-01 10:00:00\">\n{records}\n</unload>\n"
    )
}

/// The file holding the spot.
pub(super) fn spot_file(s: &Spot, n: &mut usize) -> String {
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
pub(super) fn inputs_of(spots: &[Spot]) -> Vec<(String, String)> {
    let mut n = 0;
    let mut inputs = vec![base_file()];
    for (i, s) in spots.iter().enumerate() {
        inputs.push((format!("spot{i}.xml"), spot_file(s, &mut n)));
    }
    inputs
}

/// `source` as the rewrite reads a value that spells a character with a reference: every
/// reference decoded, at any depth (`&amp;#46;` too).
pub(super) fn read_at_any_depth(source: &str) -> String {
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

/// The records of `spots` that an `<unload>` can hold, in one `<unload>` with the base file's.
pub(super) fn one_file(spots: &[Spot]) -> String {
    let mut n = 0;
    let base = base_file().1;
    let records: Vec<String> = spots
        .iter()
        .filter(|s| !matches!(s.file, FileKind::Database))
        .map(|s| layered(s, &mut n))
        .collect();
    base.replace("</unload>", &format!("{}\n</unload>", records.join("\n")))
}

/// The outputs (or inputs), for failure messages.
pub(super) fn shown(files: &[String]) -> String {
    files[1..].join("\n")
}
