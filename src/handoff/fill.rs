//! A step's text with the situation's values in place of its `{name}`s.

use super::situation::{RecordFacts, Situation};
use super::walk::Part;
use crate::plan::Intent;

/// `text` as parts: our words, `**` as bold toggles, each `{name}` as the value it stands for.
pub fn fill(
    text: &str,
    s: &Situation,
    r: Option<&RecordFacts>,
    secret: Option<usize>,
) -> Vec<Part> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let next = [rest.find('{'), rest.find("**")]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = next else {
            out.push(Part::Text(rest.to_string()));
            break;
        };
        if at > 0 {
            out.push(Part::Text(rest[..at].to_string()));
        }
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("**") {
            out.push(Part::Bold);
            rest = after;
            continue;
        }
        let end = rest.find('}').expect("every {name} of a step is closed");
        out.extend(value(&rest[1..end], s, r, secret));
        rest = &rest[end + 1..];
    }
    out
}

fn text(s: &str) -> Vec<Part> {
    vec![Part::Text(s.to_string())]
}

fn code_or(v: &str, otherwise: &str) -> Vec<Part> {
    match v.trim().is_empty() {
        true => text(otherwise),
        false => vec![Part::Code(v.trim().to_string())],
    }
}

/// The parts `{name}` stands for.
fn value(name: &str, s: &Situation, r: Option<&RecordFacts>, secret: Option<usize>) -> Vec<Part> {
    let get = |f: &str| r.map_or("", |r| r.get(f));
    let scope = r.and_then(|r| r.scope.as_ref());
    let retype = r.zip(secret).map(|(r, n)| &r.secrets[n]);
    match name {
        "target" => vec![Part::Value(
            s.target
                .clone()
                .unwrap_or_else(|| "the target instance".into()),
        )],
        "app" => match scope {
            Some(sc) => vec![Part::Value(sc.name.clone())],
            None => text("the record's application"),
        },
        "namespace" => code_or(
            scope.and_then(|sc| sc.namespace.as_deref()).unwrap_or(""),
            "namespace not given",
        ),
        "script_include" => match scope.and_then(|sc| sc.namespace.as_deref()) {
            Some("sn_se") => text("ScanEngine API Util"),
            _ => {
                let mut v = text("the script include of ");
                v.extend(value("app", s, r, secret));
                v.push(Part::Text(" that calls KMF".into()));
                v
            }
        },
        "why" => match s.intent {
            Intent::Derive => text("the new records are twins of records already there"),
            _ => {
                let mut v = text("the bundle uses records already there: ");
                v.push(Part::Code(s.existing.join(", ")));
                v
            }
        },
        "record" => match r {
            Some(r) => vec![Part::Record {
                table: r.table.clone(),
                name: r.name.clone(),
            }],
            None => text("the record"),
        },
        "link" => link(s, r),
        "file" => match r {
            Some(r) => vec![Part::Code(s.files[r.file].name.clone())],
            None => Vec::new(),
        },
        "field" => vec![Part::Value(
            retype.map_or(String::new(), |x| x.field.clone()),
        )],
        "key" => match retype.and_then(|x| x.key.as_ref()) {
            Some(k) => vec![Part::Text(" > ".into()), Part::Value(k.clone())],
            None => Vec::new(),
        },
        "payload" => match r.is_some_and(|r| r.depth > 0) {
            true => text(" (inside an update-set payload)"),
            false => Vec::new(),
        },
        "placeholder" => code_or(retype.map_or("", |x| x.placeholder.as_str()), "nothing"),
        "instance" => match &s.target {
            Some(t) => vec![Part::Code(format!("https://{t}"))],
            None => text("of the target"),
        },
        "kept" => text(&s.kept_secrets.to_string()),
        "url" => code_or(get("url"), "its URL"),
        "redirect" => code_or(
            get("redirect_url"),
            "the redirect URL the instance generates",
        ),
        "token_url" => code_or(get("token_url"), "its token URL"),
        "client_id" => code_or(get("client_id"), "(none set)"),
        "scopes" => scopes(s, r),
        other => panic!("a step names {{{other}}}, which no value fills"),
    }
}

/// The link that opens the record on the target.
fn link(s: &Situation, r: Option<&RecordFacts>) -> Vec<Part> {
    let Some(r) = r else { return Vec::new() };
    match (&s.target, &r.sys_id) {
        (Some(t), Some(id)) => vec![Part::Link(format!(
            "https://{t}/{}.do?sys_id={}",
            url_safe(&r.table),
            url_safe(id)
        ))],
        (None, Some(id)) => {
            let mut v = text("on the target, ");
            v.push(Part::Code(format!("{}.do?sys_id={id}", r.table)));
            v
        }
        (_, None) => text("find it by its name: it has no sys_id"),
    }
}

/// Percent-encodes all but letters, digits and `_.-`.
fn url_safe(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// The scopes the bundle gives an endpoint (`oauth_entity_scope` records naming it).
fn scopes(s: &Situation, r: Option<&RecordFacts>) -> Vec<Part> {
    let Some(id) = r.and_then(|r| r.sys_id.as_deref()) else {
        return text("(none in the bundle)");
    };
    let names: Vec<&str> = s
        .records
        .iter()
        .filter(|o| o.table == "oauth_entity_scope" && o.get("oauth_entity") == id)
        .map(|o| match o.get("oauth_entity_scope") {
            "" => o.name.as_deref().unwrap_or(""),
            v => v,
        })
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return text("(none in the bundle)");
    }
    let mut v = Vec::new();
    for (k, n) in names.iter().enumerate() {
        if k > 0 {
            v.push(Part::Text(", ".into()));
        }
        v.push(Part::Code(n.to_string()));
    }
    v
}
