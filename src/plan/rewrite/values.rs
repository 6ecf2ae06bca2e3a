//! What a record's values become: the value rules of one field (`--set`, `--replace`,
//! labels, regenerated values, what a derive resets, scope and instance names), and what a
//! changed value teaches the rest of the run (the record's new display texts, the client_ids a
//! derive changes and on what condition).

use super::planner::Change;
use super::{ChangeKind, Planner};
use crate::analyze::refs::is_sys_id;
use crate::model::{Field, Record, ValueKind};
use crate::plan::NATURAL_KEY_TABLES;
use crate::plan::intent::{BARE_NAME_FIELDS, KEYED_NAMES};
use crate::plan::words::{replace_substrings, replace_words};

impl Planner<'_, '_> {
    /// The value rules other than tokens: the new text and its rule, when one applies (sys_ids
    /// in it are mapped later). An explicit `--set` wins; then replacements, labels,
    /// regenerated values, what a derive resets, scope and instance names, in that order.
    pub(super) fn field_rules(
        &mut self,
        r: &Record<'_>,
        f: &Field<'_>,
    ) -> Option<(String, ChangeKind)> {
        let w = self.w;
        let rules = &w.rules;
        let which = self.which_rules(r, f)?;
        let cur_text = r.text(f);
        let mut new = cur_text.to_string();
        let mut rule = None;
        for (k, s) in rules.set.iter().enumerate() {
            if s.applies(r, f.name) {
                new.clone_from(&s.value);
                rule = Some(ChangeKind::Set);
                self.part.rec.hits.set[k] += 1;
            }
        }
        if rule == Some(ChangeKind::Set) {
            return Some((new, ChangeKind::Set));
        }
        self.replace_and_label(r, f, which.label, &mut new, &mut rule);
        for c in &rules.regenerate_fields {
            if c.table == r.table && c.field == f.name {
                let old = cur_text.trim();
                if !old.is_empty() && !w.generator.is_generated(old) {
                    new = w.generator.value(&c.table, &c.field, old);
                    rule = Some(ChangeKind::RegenerateField);
                }
            }
        }
        if which.client_id && rule.is_none() {
            let old = cur_text.trim();
            if !old.is_empty() && !w.generator.is_generated(old) {
                new = w.generator.value("oauth_entity", "client_id", old);
                rule = Some(ChangeKind::ClientId);
            }
        }
        if let Some(to) = which
            .reset
            .filter(|to| rule.is_none() && cur_text.trim() != *to)
        {
            new = to.to_string();
            rule = Some(ChangeKind::StateReset);
        }
        self.renamed_names(r, f, &which, &mut new, &mut rule);
        let rule = rule?;
        if f.kind == ValueKind::Mixed {
            // Rebuilding mixed content from its text would drop its child elements: only
            // --set (which replaces the value on purpose) may; tokens are edited in place.
            return None;
        }
        let new = w.tokens.apply_to(&new);
        Some((new, rule))
    }

    /// Which value rules may apply to `f`; `None` when none does.
    fn which_rules(&self, r: &Record<'_>, f: &Field<'_>) -> Option<WhichRules> {
        let w = self.w;
        let rules = &w.rules;
        let cur = self.cur;
        let column = |t: &str, n: &str| t == r.table && n == f.name;
        let namespace_field = f.name == "application_scope"
            || (f.name == "scope" && matches!(r.table, "sys_app" | "sys_scope" | "sys_store_app"));
        let label = !rules.labels.is_empty()
            && !cur.existing
            && crate::plan::compile::is_label_field(f.name)
            && !KEYED_NAMES.contains(&r.table)
            && !NATURAL_KEY_TABLES.contains(&r.table)
            && r.sys_id().is_some();
        let bare_name =
            !w.names.is_empty() && BARE_NAME_FIELDS.contains(&f.name) && w.is_bare_name(r.raw(f));
        let client_id = cur.derived
            && (cur.endpoint || cur.provider)
            && r.table == "oauth_entity"
            && f.name == "client_id";
        let reset = match cur.derived {
            true => w.state_reset(r.table, f.name),
            false => None,
        };
        let applies = rules
            .set
            .iter()
            .any(|s| column(&s.column.table, &s.column.field))
            || rules
                .replace
                .iter()
                .any(|p| column(&p.column.table, &p.column.field))
            || rules
                .regenerate_fields
                .iter()
                .any(|c| column(&c.table, &c.field))
            || (namespace_field && !rules.namespaces.is_empty())
            || label
            || bare_name
            || client_id
            || reset.is_some()
            || (rules.app_name.as_ref())
                .is_some_and(|a| crate::plan::rename::is_app_name_field(a, r, f));
        applies.then_some(WhichRules {
            namespace_field,
            label,
            bare_name,
            client_id,
            reset,
        })
    }

    /// `--replace` and `--replace-substring`, then `--label` (when `label`), on `new`.
    fn replace_and_label(
        &mut self,
        r: &Record<'_>,
        f: &Field<'_>,
        label: bool,
        new: &mut String,
        rule: &mut Option<ChangeKind>,
    ) {
        let rules = &self.w.rules;
        for (k, rp) in rules.replace.iter().enumerate() {
            if !rp.applies(r, f.name) {
                continue;
            }
            let pair = [(rp.old.clone(), rp.new.clone())];
            let replaced = match rp.whole_words {
                true => replace_words(new, &pair),
                false => replace_substrings(new, &pair),
            };
            if let Some(replaced) = replaced {
                *new = replaced;
                *rule = Some(ChangeKind::Replace);
                self.part.rec.hits.replace[k] += 1;
            }
        }
        if label {
            if let Some(renamed) = replace_words(new, &rules.labels) {
                for (k, pair) in rules.labels.iter().enumerate() {
                    if replace_words(new, std::slice::from_ref(pair)).is_some() {
                        self.part.rec.hits.labels[k] += 1;
                    }
                }
                *new = renamed;
                *rule = Some(ChangeKind::Label);
            }
        }
    }

    /// Names that follow the plan's renames, on `new`: a scope namespace, the application's
    /// display name, a bare instance name.
    fn renamed_names(
        &mut self,
        r: &Record<'_>,
        f: &Field<'_>,
        which: &WhichRules,
        new: &mut String,
        rule: &mut Option<ChangeKind>,
    ) {
        let w = self.w;
        let rules = &w.rules;
        if which.namespace_field {
            if let Some((_, to)) = rules.namespaces.iter().find(|(from, _)| from == new.trim()) {
                new.clone_from(to);
                *rule = Some(ChangeKind::Namespace);
            }
        }
        if let Some(app) = &rules.app_name {
            if new.trim() == app.old.trim() && crate::plan::rename::is_app_name_field(app, r, f) {
                new.clone_from(&app.new);
                *rule = Some(ChangeKind::AppName);
            }
        }
        if which.bare_name {
            let bare = new.trim().to_ascii_lowercase();
            if let Some(to) = w.names.get(&bare) {
                // The host the name stands for was met.
                if let Some((from, _)) = rules.host_map.iter().find(|(s, _)| s.name() == bare) {
                    self.part.rec.host_seen(from.host());
                }
                new.clone_from(to);
                *rule = Some(ChangeKind::InstanceName);
            }
        }
    }

    /// Writes a value a rule changed, and notes what follows from it: the record's new display
    /// texts, the client_ids a derive changes.
    pub(super) fn rule_edit(
        &mut self,
        r: &Record<'_>,
        f: &Field<'_>,
        new: &str,
        rule: ChangeKind,
        shown: Option<String>,
    ) {
        let first = self.part.edits.len();
        let change = Change {
            rule,
            old_shown: shown,
            deferred: Some(None),
        };
        self.whole_value(r, f, new, change);
        if self.part.edits.len() == first {
            return;
        }
        let old = r.text(f);
        let (old, new_text) = (old.trim(), new.trim());
        if let Some(id) = r.sys_id().filter(|id| is_sys_id(id)) {
            if self.renames && old != new_text {
                if let Ok(id) = id.as_bytes().try_into() {
                    let (o, n) = (old.to_string(), new_text.to_string());
                    self.part.rec.renamed.push((r.index, id, o, n));
                }
            }
        }
        if r.table == "oauth_entity" && f.name == "client_id" {
            let rec = &mut self.part.rec;
            rec.client_ids
                .push((first, old.to_string(), new_text.to_string()));
            if rule == ChangeKind::ClientId {
                if self.cur.provider {
                    rec.conditional.push((first, old.to_string()));
                } else {
                    rec.endpoint_ids.push((r.index, old.to_string()));
                }
            }
        }
    }
}

/// The value rules that may apply to a field (beside `--set`, `--replace`, regenerated fields
/// and the application's name, which say so themselves).
struct WhichRules {
    /// `application_scope`, or `scope` of an application record.
    namespace_field: bool,
    /// A display field `--label` may rename.
    label: bool,
    /// A bare instance name to map.
    bare_name: bool,
    /// A derived OAuth pair's client_id.
    client_id: bool,
    /// What a derive resets the field to.
    reset: Option<&'static str>,
}
