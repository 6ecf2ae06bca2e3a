//! What the planner does with each record the reader hands over.

use super::finish::Owner;
use super::planner::{Change, Defined, Planner, SecretFound};
use super::report::RewriteError;
use crate::analyze::embedded::may_embed;
use crate::analyze::refs::is_sys_id;
use crate::analyze::secrets::SecretReason;
use crate::model::{Attr, Field, Record, Visitor};
use crate::plan::escape::escape_attr;
use crate::plan::records::RecordNote;
use crate::plan::tokens::ChangeKind;
use crate::plan::unread::unread_secrets;
use crate::plan::{IdMode, SecretMode};

impl Visitor for Planner<'_, '_> {
    fn record(&mut self, r: &Record<'_>) {
        if matches!(r.table, "sys_dictionary" | "sys_db_object") {
            let rules = (self.learned).get_or_insert_with(|| self.w.rules.secret_rules.clone());
            self.learner.learn(rules, r);
        }
        let index = r.index;
        let rules = &self.w.rules;
        let selects = !rules.only.is_empty() || !rules.exclude.is_empty();
        if selects && !self.part.rec.select(r, &rules.only, &rules.exclude) {
            self.leave_out(r);
            return;
        }
        if r.place.depth == 0 && r.place.parent.is_none() {
            self.part.rec.written += 1;
        }
        self.cur = self.cur_of(r);
        if self.details {
            self.note_record(r);
        }
        if self.renames {
            self.display_refs(r);
        }
        self.define_id(r);

        for a in r.attrs() {
            let name = || format!("@{}", a.name);
            if !self.attr_secret(r, &name, a) {
                self.tokens_in(index, &self.shown(&name), r.file_span(a.span));
            }
        }
        self.count_set_missing(r);
        let keep_secrets = self.w.rules.secrets == SecretMode::Keep;
        let secret_rules = &self.w.rules.secret_rules;
        let secret_columns = secret_rules.table_columns(r.table);
        let values = crate::model::MemoValues::new(r);
        for f in r.fields() {
            for a in r.field_attrs(f) {
                self.field_attr(r, f, a);
            }
            if f.payload.is_some_and(|p| p.read) {
                continue; // its records are rewritten themselves
            }
            if f.payload.is_some() && !keep_secrets {
                self.unread_payload(r, f);
            }
            let secret = secret_rules.field_secret_with(secret_columns, r, f, &values);
            if let (false, Some((why, _))) = (keep_secrets, secret) {
                self.secret_field(r, f, why);
                continue;
            }
            if !keep_secrets && may_embed(r.raw(f)) && self.embedded(r, f) {
                continue;
            }
            // A kept secret edited by --set or --replace: its old value stays out of the report.
            let shown = secret.map(|(why, _)| format!("(secret: {})", why.describe()));
            match self.field_rules(r, f) {
                Some((new, rule)) => self.rule_edit(r, f, &new, rule, shown),
                None => self.tokens_in(index, f.name, r.file_span(f.content)),
            }
        }
    }

    fn discard_from(&mut self, first_index: usize) {
        self.learner.discard_from(first_index);
        self.withdraw(first_index);
    }
}

impl Planner<'_, '_> {
    /// Keeps what reports say of the record (with details): its span, its place among payloads
    /// and its names before and after.
    fn note_record(&mut self, r: &Record<'_>) {
        self.part.record_spans.push((r.file_span(r.span), r.index));
        self.part.owners.push(Owner {
            index: r.index,
            table: r.table.to_string(),
            sys_id: r.sys_id().map(str::to_string),
            payload_of: r.place.payload_of,
        });
        let name = r.display_name().map(|n| n.trim().to_string());
        let after = self.name_after(r);
        self.part.rec.notes.push((
            r.index,
            RecordNote {
                table: r.table.to_string(),
                sys_id: r.sys_id().map(str::to_string),
                input_sys_id: None,
                input_name: name.clone().filter(|n| Some(n) != after.as_ref()),
                name: after,
                depth: r.place.depth,
                left_out: false,
            },
        ));
    }

    /// A payload whose records are not read (see [`crate::plan::unread`]): a secret in its
    /// text cannot be replaced, so the file is refused rather than written with it.
    fn unread_payload(&mut self, r: &Record<'_>, f: &Field<'_>) {
        let rules = self.learned.as_ref().unwrap_or(&self.w.rules.secret_rules);
        let text = r.text(f);
        // Ciphertext, in any spelling, is the output check's to refuse (`SecretLeft`): what is
        // left here is a secret in plain text.
        let plain = unread_secrets(&text, rules)
            .into_iter()
            .find(|s| s.reason != SecretReason::Ciphertext);
        let Some(found) = plain else {
            return;
        };
        let position = self.locator.locate(r.file_span(f.content).start);
        self.part.refused.push((
            r.index,
            RewriteError::SecretInUnreadPayload {
                position,
                table: found.table,
                field: found.field,
                reason: found.reason,
            },
        ));
    }

    /// A record whose sys_id is regenerated: its id defined here, to map everywhere.
    fn define_id(&mut self, r: &Record<'_>) {
        // Read as ServiceNow reads it, should character references spell it (`&#97;`).
        let id = match r.sys_id() {
            Some(id) => Some(std::borrow::Cow::Borrowed(id)),
            None => r.field("sys_id").map(|f| r.text(f)),
        };
        let id = id.as_deref().map(str::trim);
        if let Some(id) = id.filter(|id| is_sys_id(id) && !self.cur.existing) {
            if self.w.rules.sys_ids == IdMode::Regenerate {
                let g = &self.w.generator;
                let table = match &self.last_table {
                    Some(t) if **t == *r.table => t.clone(),
                    _ => self
                        .last_table
                        .insert(std::sync::Arc::from(r.table))
                        .clone(),
                };
                if let Ok(id_bytes) = id.as_bytes().try_into() {
                    self.part.defined.push(Defined {
                        record: r.index,
                        id: id_bytes,
                        table,
                        fresh: (!g.is_generated(id)).then(|| g.sys_id_bytes(id)),
                    });
                }
            }
        }
    }

    /// Counts the `--set` edits the record's table has but the record lacks the field of.
    fn count_set_missing(&mut self, r: &Record<'_>) {
        for s in &self.w.rules.set {
            if s.column.table == r.table
                && r.field(&s.column.field).is_none()
                && s.select.as_ref().is_none_or(|x| x.selects(r))
            {
                *self
                    .part
                    .set_missing
                    .entry((s.column.table.clone(), s.column.field.clone()))
                    .or_insert(0) += 1;
            }
        }
    }

    /// An attribute's name as the report writes it (made only when needed: with details).
    fn shown(&self, name: &dyn Fn() -> String) -> String {
        if self.details { name() } else { String::new() }
    }

    /// An attribute `a` of field `f`: a secret, the application's display name (`fork --name`),
    /// a renamed namespace (`source=`), or tokens to substitute.
    fn field_attr(&mut self, r: &Record<'_>, f: &Field<'_>, a: &Attr<'_>) {
        let name = || format!("{}@{}", f.name, a.name);
        let renamed = (a.name == "source")
            .then(|| {
                self.w
                    .rules
                    .namespaces
                    .iter()
                    .find(|(from, _)| from == a.raw)
            })
            .flatten();
        let app = self.w.rules.app_name.as_ref();
        match renamed {
            _ if self.attr_secret(r, &name, a) => {}
            _ if app.is_some_and(|app| crate::plan::rename::is_app_display_value(app, r, f, a)) => {
                let new = app.map(|app| app.new.as_str()).unwrap_or_default();
                let layers = r.escapings();
                let local = escape_attr(new);
                let bytes = self.in_layers(local, &layers);
                self.push(
                    r.index,
                    &self.shown(&name),
                    r.file_span(a.span),
                    bytes.as_bytes(),
                    Change::of(ChangeKind::AppName),
                );
            }
            Some((_, to)) => {
                let to = to.clone();
                self.push(
                    r.index,
                    &self.shown(&name),
                    r.file_span(a.span),
                    to.as_bytes(),
                    Change::of(ChangeKind::Namespace),
                );
            }
            None => self.tokens_in(r.index, &self.shown(&name), r.file_span(a.span)),
        }
    }

    /// A secret value in `f` (found for `why`): refused when an option edits it, left as found
    /// (and reported) when only its name looks secret, emptied in a derived twin, replaced by
    /// its placeholder otherwise.
    fn secret_field(&mut self, r: &Record<'_>, f: &Field<'_>, why: SecretReason) {
        if let Some(option) = self.edit_option(r, f) {
            self.refuse_edit(r, f, option, why.describe());
            return;
        }
        if why == SecretReason::SecretName {
            self.looks_secret(r, f);
            self.tokens_in(r.index, f.name, r.file_span(f.content));
            return;
        }
        // A derived twin's tokens are the original's: emptied, not to be re-entered.
        if self.cur.derived && self.w.state_reset(r.table, f.name).is_some() {
            let shown = format!("(secret: {}; the original's)", why.describe());
            let change = Change::of(ChangeKind::StateReset)
                .shown(shown)
                .deferred(None);
            self.whole_value(r, f, "", change);
            return;
        }
        let name = self.name_after(r);
        let value = self.secret_value(r, f.name, name.as_deref());
        let shown = format!("(secret: {})", why.describe());
        let text = value.clone();
        let found = SecretFound {
            field: f.name,
            key: None,
            name,
            placeholder: value,
        };
        self.secret(r, found, shown, |p, change| {
            p.whole_value(r, f, &text, change);
        });
    }
}

impl Planner<'_, '_> {
    /// Forgets every edit and finding of the records `>= first_index` (a malformed payload's,
    /// or those inside a record left out).
    pub(super) fn withdraw(&mut self, first_index: usize) {
        let p = &mut self.part;
        let keep = p
            .owner
            .iter()
            .position(|&o| o >= first_index)
            .unwrap_or(p.owner.len());
        p.edits.truncate(keep);
        p.rules.truncate(keep);
        p.owner.truncate(keep);
        p.drafts.truncate(if self.details { keep } else { 0 });
        p.deferred.retain(|(k, _)| *k < keep);
        let keep = p
            .candidates
            .iter()
            .position(|&(_, o, _)| o >= first_index)
            .unwrap_or(p.candidates.len());
        p.candidates.truncate(keep);
        p.candidate_fields
            .truncate(if self.details { keep } else { 0 });
        p.secrets.retain(|(i, _, _)| *i < first_index);
        p.looks.retain(|(i, _)| *i < first_index);
        p.refused.retain(|(i, _)| *i < first_index);
        p.owners.retain(|o| o.index < first_index);
        p.defined.retain(|d| d.record < first_index);
        p.record_spans.retain(|s| s.1 < first_index);
        let edits = p.edits.len();
        p.rec.withdraw(first_index, edits);
    }
}
