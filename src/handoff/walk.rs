//! The table walked over a situation: the checklist, as parts of text (ours) and values
//! (the situation's, untrusted) that the Markdown and HTML writers each escape their way.

use std::collections::BTreeSet;

use rayon::prelude::*;

use super::situation::{RecordFacts, Scope, Situation};
use super::steps::{Kind, Per, Phase, Replaced, STEPS, ScopeIs, Step, table_matches};

/// A piece of a step's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Our own words.
    Text(String),
    /// Bold on or off.
    Bold,
    /// A value from the input, shown as text.
    Value(String),
    /// A value from the input, shown as code (a URL, an id, a file name).
    Code(String),
    /// A record's name, shown in quotes after its table.
    Record {
        /// Its table.
        table: String,
        /// Its name.
        name: Option<String>,
    },
    /// A link to a record on the target (built from the target's host, its table and id).
    Link(String),
}

/// One checklist item: a step, for a record or an application or the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The step's id in [`STEPS`].
    pub step: &'static str,
    /// The record it is about (index in [`Situation::records`]).
    pub record: Option<usize>,
    /// Its text.
    pub parts: Vec<Part>,
    /// Sub-items (the files to import).
    pub list: Vec<Vec<Part>>,
}

/// One section of the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Where in the hand-off.
    pub phase: Phase,
    /// Its items, in order.
    pub items: Vec<Item>,
}

/// The checklist of a situation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    /// The target's host, when known.
    pub target: Option<String>,
    /// The sections that have items, in phase order.
    pub sections: Vec<Section>,
}

impl Checklist {
    /// Walks [`STEPS`] over `situation`: every row that applies, for everything it applies
    /// to.
    pub fn of(situation: &Situation) -> Checklist {
        // The phases, and the steps of each, on every core.
        let sections = [
            Phase::Before,
            Phase::Import,
            Phase::Records,
            Phase::After,
            Phase::Others,
        ]
        .into_par_iter()
        .map(|phase| {
            let items: Vec<Item> = match phase {
                Phase::Records => record_items(situation),
                _ => STEPS
                    .par_iter()
                    .filter(|s| s.phase == phase)
                    .flat_map_iter(|s| items_of(s, situation))
                    .collect(),
            };
            Section { phase, items }
        })
        .filter(|section| !section.items.is_empty())
        .collect();
        Checklist {
            target: situation.target.clone(),
            sections,
        }
    }

    /// The ids of the steps listed, in order (each once).
    pub fn steps(&self) -> Vec<&'static str> {
        let mut seen = BTreeSet::new();
        self.sections
            .iter()
            .flat_map(|s| &s.items)
            .map(|i| i.step)
            .filter(|s| seen.insert(*s))
            .collect()
    }
}

/// Whether the bundle-wide conditions of `step` hold (intent, new to the target).
fn bundle_holds(step: &Step, s: &Situation) -> bool {
    let w = &step.when;
    (w.intents.is_empty() || w.intents.contains(&s.intent))
        && w.new_to_target.is_none_or(|n| n == s.new_to_target())
}

/// Whether the record conditions of `step` hold for `r`.
fn record_holds(step: &Step, s: &Situation, r: &RecordFacts) -> bool {
    let w = &step.when;
    let scoped = r.scope.as_ref().is_some_and(|sc| !sc.is_global());
    let scope = match w.scope {
        ScopeIs::Any => true,
        ScopeIs::Scoped => scoped,
        ScopeIs::App(n) => r
            .scope
            .as_ref()
            .is_some_and(|sc| sc.namespace.as_deref() == Some(n)),
    };
    let replaced = match w.replaced {
        Replaced::Any => true,
        Replaced::Some => !r.secrets.is_empty(),
        Replaced::Fields(f) => r.secrets.iter().any(|x| f.contains(&x.field.as_str())),
    };
    let kind = match w.kind {
        Kind::ThirdPartyProvider => is_third_party(r),
        Kind::ExternalEndpoint => is_external_endpoint(s, r),
        Kind::Any | Kind::ScopeChange => true,
        Kind::Files | Kind::KeptSecrets => false,
    };
    table_matches(w.tables, &r.table) && scope && replaced && kind
}

/// `oauth_entity` of type `oauth_provider` whose token URL is off ServiceNow.
fn is_third_party(r: &RecordFacts) -> bool {
    r.get("type") == "oauth_provider"
        && url_host(r.get("token_url"))
            .is_some_and(|h| !h.ends_with(".service-now.com") && !h.ends_with(".servicenow.com"))
}

/// An endpoint (`type` `client`) whose client_id no provider of the bundle shares and whose
/// redirect URLs name no more than one ServiceNow instance (its own): one naming several is
/// called by those instances (seed 003), not by an external client.
fn is_external_endpoint(s: &Situation, r: &RecordFacts) -> bool {
    let instances: BTreeSet<String> = r
        .get("redirect_url")
        .split(',')
        .filter_map(|u| url_host(u.trim()))
        .filter(|h| h.ends_with(".service-now.com") || h.ends_with(".servicenow.com"))
        .collect();
    r.get("type") == "client"
        && instances.len() <= 1
        && !s.records.iter().any(|o| {
            o.table == "oauth_entity"
                && o.get("type") != "client"
                && !o.get("client_id").is_empty()
                && o.get("client_id") == r.get("client_id")
        })
}

/// The host of an `http(s)` URL, lower case.
fn url_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#', ':']).next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The items of a step that is not walked record by record.
fn items_of(step: &Step, s: &Situation) -> Vec<Item> {
    if !bundle_holds(step, s) {
        return Vec::new();
    }
    match step.when.kind {
        Kind::Files => return vec![files_item(step, s)],
        Kind::KeptSecrets if s.kept_secrets > 0 => {
            return vec![item(step, s, None, None)];
        }
        Kind::KeptSecrets => return Vec::new(),
        _ => {}
    }
    let matching: Vec<usize> = (0..s.records.len())
        .filter(|&k| record_holds(step, s, &s.records[k]))
        .collect();
    match step.per {
        Per::Bundle => matching
            .first()
            .map(|&k| item(step, s, Some(k), None))
            .into_iter()
            .collect(),
        Per::App => {
            let mut seen: BTreeSet<Option<&Scope>> = BTreeSet::new();
            matching
                .into_iter()
                .filter(|&k| seen.insert(s.records[k].scope.as_ref()))
                .map(|k| item(step, s, Some(k), None))
                .collect()
        }
        Per::Record => matching
            .into_iter()
            .map(|k| item(step, s, Some(k), None))
            .collect(),
        Per::Secret => matching
            .into_iter()
            .flat_map(|k| (0..s.records[k].secrets.len()).map(move |n| (k, n)))
            .map(|(k, n)| item(step, s, Some(k), Some(n)))
            .collect(),
    }
}

/// After import, record by record: each record's steps in the table's order, the scope
/// switched first when it changes.
fn record_items(s: &Situation) -> Vec<Item> {
    let steps: Vec<&Step> = STEPS
        .iter()
        .filter(|st| st.phase == Phase::Records && bundle_holds(st, s))
        .collect();
    let mut out: Vec<Item> = steps
        .iter()
        .filter(|st| matches!(st.when.kind, Kind::KeptSecrets))
        .flat_map(|st| items_of(st, s))
        .collect();
    // Each record's own items on every core; the scope changes between them in order.
    let own: Vec<Vec<Item>> = s
        .records
        .par_iter()
        .enumerate()
        .map(|(k, r)| {
            let mut own = Vec::new();
            for st in steps.iter().filter(|st| {
                !matches!(st.when.kind, Kind::ScopeChange | Kind::KeptSecrets)
                    && record_holds(st, s, r)
            }) {
                match st.per {
                    Per::Secret => {
                        own.extend((0..r.secrets.len()).map(|n| item(st, s, Some(k), Some(n))))
                    }
                    _ => own.push(item(st, s, Some(k), None)),
                }
            }
            own
        })
        .collect();
    let mut current: Option<&Scope> = None;
    for ((k, r), own) in s.records.iter().enumerate().zip(own) {
        if own.is_empty() {
            continue;
        }
        if r.scope.as_ref() != current && r.scope.is_some() {
            for st in steps.iter().filter(|st| st.when.kind == Kind::ScopeChange) {
                if record_holds(st, s, r) {
                    out.push(item(st, s, Some(k), None));
                }
            }
            current = r.scope.as_ref();
        }
        out.extend(own);
    }
    out
}

fn files_item(step: &Step, s: &Situation) -> Item {
    let mut it = item(step, s, None, None);
    it.list = s
        .files
        .iter()
        .map(|f| {
            vec![
                Part::Code(f.name.clone()),
                Part::Text(" (from ".into()),
                Part::Code(f.input.clone()),
                Part::Text(")".into()),
            ]
        })
        .collect();
    it
}

/// The item of `step`, its text filled in.
fn item(step: &Step, s: &Situation, record: Option<usize>, secret: Option<usize>) -> Item {
    let r = record.map(|k| &s.records[k]);
    Item {
        step: step.id,
        record,
        parts: super::fill::fill(step.text, s, r, secret),
        list: Vec::new(),
    }
}
