//! A [`Plan`] as written to checked [`Rules`]: hosts parsed, columns split, edits parsed.

use std::collections::BTreeMap;

use super::edits::{Column, FieldReplace, FieldSet, has_control, selected_column};
use super::existing::Existing;
use super::instance::{Instance, host_map};
use super::intent::{Intent, LABEL_FIELDS};
use super::{IdMode, Plan, SecretMode};
use crate::analyze::refs::is_sys_id;
use crate::analyze::secrets::{NotSecret, SecretRules};
use crate::model::{Selector, SelectorError};

/// Why a plan cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// Not an instance name, host or URL.
    #[error(
        "not an instance host: {0:?} (give `name`, `name.service-now.com` or `https://name.service-now.com`)"
    )]
    BadHost(String),
    /// Not `table.field`.
    #[error("not a column: {0:?} (expected table.field)")]
    BadColumn(String),
    /// A malformed `--set`, `--replace` or `--scope`.
    #[error("malformed {what}: {value:?} (expected {expected})")]
    BadEdit {
        /// Which option.
        what: &'static str,
        /// What was given (never a secret: these are names and field edits).
        value: String,
        /// The expected form.
        expected: &'static str,
    },
    /// A map entry that is not `sys_id -> sys_id`.
    #[error("id map entry {0:?} -> {1:?} is not a pair of sys_ids (32 lowercase hex digits)")]
    BadMapEntry(String, String),
    /// An id map file that cannot be read.
    #[error("id map: {0}")]
    BadMapFile(String),
    /// Sources given without a target.
    #[error("--source needs --target: the instance the URLs should name instead")]
    SourcesWithoutTarget,
    /// A selector that cannot be read.
    #[error("{what}: {source}")]
    BadSelector {
        /// Which option or plan key.
        what: &'static str,
        /// What is wrong.
        source: SelectorError,
    },
    /// A `not_secret` entry without a reason.
    #[error(
        "not_secret {0:?}: give the reason it is not a secret (an exemption without one cannot be reviewed)"
    )]
    NoReason(String),
    /// A placeholder that is empty, or that needs escaping.
    #[error(
        "the placeholder must be non-empty text without < > & \" ' or ]]> or control characters"
    )]
    BadPlaceholder,
    /// The intent and another setting contradict each other.
    #[error("intent {intent}: {reason}")]
    IntentConflict {
        /// The intent given.
        intent: Intent,
        /// What contradicts it, and what to do.
        reason: String,
    },
    /// One host mapped to two targets.
    #[error("{host} is mapped twice, to {first} and to {second}")]
    HostMappedTwice {
        /// The source host.
        host: String,
        /// One target.
        first: String,
        /// The other.
        second: String,
    },
}

/// A checked plan, ready to drive the rewrite.
#[derive(Debug, Clone)]
pub struct Rules {
    /// What the output is for (given, or inferred).
    pub intent: Intent,
    /// `true` when the plan named the intent.
    pub intent_given: bool,
    /// The target instance.
    pub target: Option<Instance>,
    /// Every source instance: hosts that must not remain in the output (the host map's keys).
    pub sources: Vec<Instance>,
    /// The host map, sorted by source: `--source` hosts to the target, then `--host` pairs.
    pub host_map: Vec<(Instance, Instance)>,
    /// The `--source` hosts (all mapped to the target): more than one of them in the input is
    /// refused once it has been read.
    pub many_to_one: Vec<Instance>,
    /// Whole-word renames of display fields.
    pub labels: Vec<(String, String)>,
    /// Records to write (none: all).
    pub only: Vec<Selector>,
    /// Records to leave out.
    pub exclude: Vec<Selector>,
    /// Records that already exist on the target.
    pub existing: Vec<Existing>,
    /// State columns a derived twin starts empty, besides [`super::intent::STATE_FIELDS`].
    pub reset_fields: Vec<Column>,
    /// Keep or regenerate.
    pub sys_ids: IdMode,
    /// Seed for generated values.
    pub seed: String,
    /// Explicit id map (user map plus scope sys_id renames).
    pub map: BTreeMap<String, String>,
    /// Natural-key tables regenerate too.
    pub force_natural_keys: bool,
    /// Columns whose values are regenerated.
    pub regenerate_fields: Vec<Column>,
    /// Namespace renames.
    pub namespaces: Vec<(String, String)>,
    /// Rename namespace prefixes in text too.
    pub scope_prefix: bool,
    /// Secret handling.
    pub secrets: SecretMode,
    /// Secret columns in force (built in plus the plan's).
    pub secret_rules: SecretRules,
    /// Placeholder template.
    pub placeholder: String,
    /// Field sets.
    pub set: Vec<FieldSet>,
    /// Field replacements.
    pub replace: Vec<FieldReplace>,
    /// Longer namespaces that start with a renamed one and stay as they are (other
    /// applications' scopes; set by `fork`, empty from a plan).
    pub keep_namespaces: Vec<String>,
    /// The application's display name to change (set by `fork --name`; none from a plan).
    pub app_name: Option<AppName>,
}

/// An application's display name changed where it names the application: the name of its
/// `sys_app` (`sys_scope`, `sys_store_app`) record, the `display_value` of references to it,
/// and the `application_name` (and `name`) of its update sets. Only values equal to `old`
/// change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppName {
    /// The application's sys_id (as in the input).
    pub sys_id: String,
    /// Its display name.
    pub old: String,
    /// Its new display name.
    pub new: String,
}

impl Plan {
    /// Checks the plan and turns it into [`Rules`].
    pub fn compile(&self) -> Result<Rules, PlanError> {
        let hosts = self.hosts()?;
        let (map, namespaces) = self.ids_and_namespaces()?;
        let regenerate_fields = columns(&self.regenerate_fields)?;
        let (secret_rules, placeholder) = self.secret_rules()?;
        let set = self.field_sets()?;
        let replace = (self.replace.iter().map(|s| replacement(s, true)))
            .chain(self.replace_substring.iter().map(|s| replacement(s, false)))
            .collect::<Result<Vec<_>, PlanError>>()?;
        let labels = self.labels()?;
        let existing = self
            .existing
            .iter()
            .map(|s| Existing::parse(s))
            .collect::<Result<Vec<_>, _>>()?;
        let reset_fields = columns(&self.reset_fields)?;
        let (intent, sys_ids) = intent(self, &hosts.host_map, &labels)?;
        Ok(Rules {
            intent,
            intent_given: self.intent.is_some(),
            target: hosts.target,
            sources: hosts.sources,
            host_map: hosts.host_map,
            many_to_one: hosts.many_to_one,
            labels,
            only: record_selectors("--only", &self.only)?,
            exclude: record_selectors("--exclude", &self.exclude)?,
            existing,
            reset_fields,
            sys_ids,
            seed: self.seed.clone(),
            map,
            force_natural_keys: self.force_natural_keys,
            regenerate_fields,
            namespaces,
            scope_prefix: self.scope_prefix,
            secrets: self.secrets,
            secret_rules,
            placeholder,
            set,
            replace,
            keep_namespaces: Vec::new(),
            app_name: None,
        })
    }

    /// The target, the sources and the host map (`--target`, `--source`, `--host`).
    fn hosts(&self) -> Result<Hosts, PlanError> {
        let target = self.target.as_deref().map(Instance::parse).transpose()?;
        let mut many_to_one = self
            .sources
            .iter()
            .map(|s| Instance::parse(s))
            .collect::<Result<Vec<_>, _>>()?;
        many_to_one.sort();
        many_to_one.dedup();
        if target.is_none() && !many_to_one.is_empty() {
            return Err(PlanError::SourcesWithoutTarget);
        }
        // A source equal to the target rewrites nothing.
        many_to_one.retain(|s| Some(s) != target.as_ref());
        let host_map = host_map(&many_to_one, target.as_ref(), &self.hosts)?;
        let sources: Vec<Instance> = host_map.iter().map(|(s, _)| s.clone()).collect();
        // Without --target, a host map with one target names it.
        let target = target.or_else(|| {
            let mut to = host_map.iter().map(|(_, t)| t);
            let first = to.next()?;
            to.all(|t| t == first).then(|| first.clone())
        });
        Ok(Hosts {
            target,
            sources,
            host_map,
            many_to_one,
        })
    }

    /// The sys_id map (`--map` entries and `--scope` sys_id pairs) and the namespace renames
    /// (`--scope` namespace pairs).
    #[allow(clippy::type_complexity)]
    fn ids_and_namespaces(
        &self,
    ) -> Result<(BTreeMap<String, String>, Vec<(String, String)>), PlanError> {
        let mut map = BTreeMap::new();
        for (old, new) in &self.map {
            let (o, n) = (old.trim(), new.trim());
            if !is_sys_id(o) || !is_sys_id(n) {
                return Err(PlanError::BadMapEntry(old.clone(), new.clone()));
            }
            map.insert(o.to_string(), n.to_string());
        }
        let mut namespaces = Vec::new();
        for s in &self.scopes {
            let bad = || PlanError::BadEdit {
                what: "--scope",
                value: s.clone(),
                expected: "OLD=NEW, two sys_ids or two namespaces",
            };
            let (old, new) = s.split_once('=').ok_or_else(bad)?;
            let (old, new) = (old.trim(), new.trim());
            if old.is_empty() || new.is_empty() {
                return Err(bad());
            }
            match (is_sys_id(old), is_sys_id(new)) {
                (true, true) => {
                    map.insert(old.to_string(), new.to_string());
                }
                (false, false) if is_namespace(old) && is_namespace(new) => {
                    namespaces.push((old.to_string(), new.to_string()));
                }
                _ => return Err(bad()),
            }
        }
        Ok((map, namespaces))
    }

    /// The secret rules (`secret_fields`, `not_secret`, the placeholder) and the checked
    /// placeholder.
    fn secret_rules(&self) -> Result<(SecretRules, String), PlanError> {
        let mut secret_rules = SecretRules::default();
        for c in &self.secret_fields {
            let selector = Selector::parse_field(c).map_err(|e| PlanError::BadSelector {
                what: "secret_fields",
                source: e,
            })?;
            secret_rules.add_selected(selector);
        }
        for n in &self.not_secret {
            let selector = Selector::parse_field(&n.field).map_err(|e| PlanError::BadSelector {
                what: "not_secret",
                source: e,
            })?;
            if n.reason.trim().is_empty() {
                return Err(PlanError::NoReason(n.field.clone()));
            }
            secret_rules.add_not_secret(NotSecret {
                selector,
                reason: n.reason.trim().to_string(),
            });
        }
        let placeholder = self.placeholder.clone();
        secret_rules.add_placeholder(&placeholder);
        if placeholder.is_empty()
            || placeholder.contains(['<', '>', '&', '"', '\''])
            || placeholder.contains("]]>")
            || has_control(&placeholder)
        {
            return Err(PlanError::BadPlaceholder);
        }
        Ok((secret_rules, placeholder))
    }

    /// The `--set` edits.
    fn field_sets(&self) -> Result<Vec<FieldSet>, PlanError> {
        self.set
            .iter()
            .map(|s| {
                let bad = || PlanError::BadEdit {
                    what: "--set",
                    value: s.clone(),
                    expected: "table.field=VALUE or table[field=value].field=VALUE, the value without control characters",
                };
                let (column, select, rest) = selected_column(s)?;
                let value = rest.strip_prefix('=').ok_or_else(bad)?;
                if has_control(value) {
                    return Err(bad());
                }
                Ok(FieldSet {
                    column,
                    select,
                    value: value.to_string(),
                })
            })
            .collect()
    }

    /// The `--label` renames.
    fn labels(&self) -> Result<Vec<(String, String)>, PlanError> {
        let mut labels = Vec::new();
        for (old, new) in &self.labels {
            if old.trim().is_empty() || has_control(new) || has_control(old) {
                return Err(PlanError::BadEdit {
                    what: "--label",
                    value: format!("{old}={new}"),
                    expected: "OLD=NEW, OLD not empty, without control characters",
                });
            }
            labels.push((old.clone(), new.clone()));
        }
        Ok(labels)
    }
}

/// The target, the sources and the host map of a plan.
struct Hosts {
    target: Option<Instance>,
    sources: Vec<Instance>,
    host_map: Vec<(Instance, Instance)>,
    many_to_one: Vec<Instance>,
}

/// `table.field` columns.
fn columns(list: &[String]) -> Result<Vec<Column>, PlanError> {
    list.iter().map(|c| Column::parse(c)).collect()
}

/// A `--replace` (`whole_words`) or `--replace-substring` edit.
fn replacement(s: &str, whole_words: bool) -> Result<FieldReplace, PlanError> {
    let bad = || PlanError::BadEdit {
        what: if whole_words {
            "--replace"
        } else {
            "--replace-substring"
        },
        value: s.to_string(),
        expected: "table.field:OLD=NEW or table[field=value].field:OLD=NEW, NEW without control characters",
    };
    let (column, select, rest) = selected_column(s)?;
    let rest = rest.strip_prefix(':').ok_or_else(bad)?;
    let (old, new) = rest.split_once('=').ok_or_else(bad)?;
    if old.is_empty() || has_control(new) {
        return Err(bad());
    }
    Ok(FieldReplace {
        column,
        select,
        old: old.to_string(),
        new: new.to_string(),
        whole_words,
    })
}

/// Record selectors (`--only`, `--exclude`).
fn record_selectors(what: &'static str, list: &[String]) -> Result<Vec<Selector>, PlanError> {
    list.iter()
        .map(|s| {
            Selector::parse_records(s).map_err(|source| PlanError::BadSelector { what, source })
        })
        .collect()
}

/// The intent in force and the sys_id mode it implies, or why the plan contradicts it.
fn intent(
    plan: &Plan,
    host_map: &[(Instance, Instance)],
    labels: &[(String, String)],
) -> Result<(Intent, IdMode), PlanError> {
    let conflict = |intent, reason: &str| {
        Err(PlanError::IntentConflict {
            intent,
            reason: reason.to_string(),
        })
    };
    match plan.intent {
        None if !host_map.is_empty()
            || plan.sys_ids == IdMode::Regenerate
            || !labels.is_empty() =>
        {
            Ok((Intent::Move, plan.sys_ids))
        }
        None => Ok((Intent::Copy, plan.sys_ids)),
        Some(Intent::Copy) if !host_map.is_empty() => conflict(
            Intent::Copy,
            "records keep describing the instances they name, so no host is mapped; drop --source/--host, or use --intent move (records describe the target) or derive (a new twin)",
        ),
        Some(Intent::Copy) if plan.sys_ids == IdMode::Regenerate => conflict(
            Intent::Copy,
            "records go as they are, ids kept; drop --sys-ids regenerate, or use --intent derive for new records",
        ),
        Some(Intent::Copy) if !labels.is_empty() => conflict(
            Intent::Copy,
            "records go as they are; labels rename them: use --intent move or derive",
        ),
        Some(Intent::Move) if host_map.is_empty() => conflict(
            Intent::Move,
            "records move from one instance to another: give --host OLD=NEW (or --source OLD with --target NEW); without a host to map, use --intent copy",
        ),
        Some(Intent::Derive) => Ok((Intent::Derive, IdMode::Regenerate)),
        Some(i) => Ok((i, plan.sys_ids)),
    }
}

/// `true` when a field is one `--label` renames.
pub(crate) fn is_label_field(field: &str) -> bool {
    LABEL_FIELDS.contains(&field)
}

/// `true` for a scope namespace: `global`, `x_..`, `sn_..` and other `[a-z0-9_]` names.
fn is_namespace(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_parse() {
        let plan = Plan {
            target: Some("prod".into()),
            set: vec!["oauth_entity.name=a=b".into()],
            replace: vec!["oauth_entity.name:Dev=Prod".into()],
            scopes: vec!["x_old=x_new".into()],
            ..Plan::default()
        };
        let r = plan.compile().unwrap();
        assert_eq!(r.set[0].value, "a=b");
        assert_eq!(
            (r.replace[0].old.as_str(), r.replace[0].new.as_str()),
            ("Dev", "Prod")
        );
        assert_eq!(r.namespaces, [("x_old".to_string(), "x_new".to_string())]);
        for bad in [
            Plan {
                sources: vec!["dev1".into()],
                ..Plan::default()
            },
            Plan {
                set: vec!["oauth_entity=x".into()],
                ..Plan::default()
            },
            Plan {
                replace: vec!["a.b:=x".into()],
                ..Plan::default()
            },
            Plan {
                scopes: vec!["x_a=0123456789abcdef0123456789abcdef".into()],
                ..Plan::default()
            },
            Plan {
                placeholder: "<x>".into(),
                ..Plan::default()
            },
        ] {
            assert!(bad.compile().is_err(), "{bad:?}");
        }
    }
}
