//! Which records a rewrite writes and how it treats them: a top-level record left out
//! (`--only`, `--exclude`), one that already exists on the target, one a derive makes a twin
//! of, and the references whose `display_value` may follow a renamed record.

use super::Planner;
use super::planner::Change;
use crate::analyze::refs::is_sys_id;
use crate::model::Record;
use crate::plan::NATURAL_KEY_TABLES;
use crate::plan::records::{DisplayRef, Layers, LeftOut, RecordNote, removal_span};
use crate::plan::tokens::ChangeKind;

/// What the planner knows of the record it is planning.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Cur {
    /// A record of the input that a derive makes a twin of (new id, state reset, labels).
    pub(super) derived: bool,
    /// A record that already exists on the target (`--existing`): never renamed or derived.
    pub(super) existing: bool,
    /// An `oauth_entity` of type `oauth_provider` (its client_id follows an endpoint's).
    pub(super) provider: bool,
    /// An `oauth_entity` of type `client` (an endpoint: ServiceNow issued its client_id).
    pub(super) endpoint: bool,
}

impl Planner<'_, '_> {
    /// Leaves a top-level record out of the output: what was planned inside it is withdrawn
    /// (so its ids stay as they are, references to it too) and the element goes.
    pub(super) fn leave_out(&mut self, r: &Record<'_>) {
        let index = r.index;
        self.withdraw(index);
        let name = r.display_name().map(|n| n.trim().to_string());
        let sys_id = r.sys_id().map(str::to_string);
        if self.details {
            self.part.rec.notes.push((
                index,
                RecordNote {
                    table: r.table.to_string(),
                    sys_id: sys_id.clone(),
                    input_sys_id: None,
                    name: name.clone(),
                    input_name: None,
                    depth: r.place.depth,
                    left_out: true,
                },
            ));
        }
        let shown = format!(
            "(record {}[{}] left out)",
            r.table,
            sys_id.as_deref().unwrap_or("-")
        );
        self.part.rec.left_out.push((
            index,
            LeftOut {
                table: r.table.to_string(),
                sys_id,
                name,
            },
        ));
        let span = removal_span(self.file, r.file_span(r.span));
        self.push(
            index,
            "",
            span,
            b"",
            Change::of(ChangeKind::LeftOut).shown(shown),
        );
    }

    /// What the planner must know of `r` before planning its fields.
    pub(super) fn cur_of(&self, r: &Record<'_>) -> Cur {
        let rules = &self.w.rules;
        let existing = !rules.existing.is_empty() && {
            let name = r.display_name();
            let name = name.as_deref().map(str::trim);
            rules
                .existing
                .iter()
                .any(|e| e.matches(r.table, r.sys_id(), name))
        };
        let deletion = r
            .action
            .is_some_and(|a| a.eq_ignore_ascii_case("delete") || a == "delete_multiple");
        let derived = self.w.derives()
            && !existing
            && !deletion
            && r.sys_id().is_some_and(is_sys_id)
            && (rules.force_natural_keys || !NATURAL_KEY_TABLES.contains(&r.table));
        let kind = match r.table {
            "oauth_entity" => r.value("type"),
            _ => None,
        };
        let kind = kind.as_deref().map(str::trim);
        let is = |k: &str| kind.is_some_and(|t| t.eq_ignore_ascii_case(k));
        Cur {
            derived,
            existing,
            provider: is("oauth_provider"),
            endpoint: is("client"),
        }
    }

    /// Notes each reference of `r` written with a `display_value`: it follows its record if
    /// that is renamed.
    pub(super) fn display_refs(&mut self, r: &Record<'_>) {
        let mut layers = None;
        // When only bare instance names can be renamed, only references showing one follow.
        let any = self.w.renames_any();
        let follows = |raw: &[u8]| any || self.w.is_bare_name(raw);
        for f in r.fields() {
            let Some(a) = r.field_attr(f, "display_value") else {
                continue;
            };
            if !follows(a.raw.as_bytes()) {
                continue;
            }
            let raw = r.raw(f).trim_ascii();
            let Ok(target) = <[u8; 32]>::try_from(raw) else {
                continue;
            };
            if !raw
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            {
                continue;
            }
            let layers = *layers.get_or_insert_with(|| Layers::pack(&r.escapings()));
            self.part.rec.display_refs.push(DisplayRef {
                record: r.index,
                field: if self.details {
                    format!("{}@display_value", f.name).into()
                } else {
                    "".into()
                },
                span: r.file_span(a.span),
                target,
                layers,
                text: false,
            });
        }
        // An update's target_name shows the record its payload holds (named in its `name`:
        // `<table>_<sys_id>`).
        if r.table == "sys_update_xml" {
            let (Some(name), Some(f)) = (r.value("name"), r.field("target_name")) else {
                return;
            };
            let id = name.trim().rsplit('_').next().unwrap_or("");
            let plain = matches!(f.kind, crate::model::ValueKind::Text) && follows(r.raw(f));
            if let (true, true, Ok(target)) = (plain, is_sys_id(id), id.as_bytes().try_into()) {
                let layers = *layers.get_or_insert_with(|| Layers::pack(&r.escapings()));
                self.part.rec.display_refs.push(DisplayRef {
                    record: r.index,
                    field: if self.details {
                        "target_name".into()
                    } else {
                        "".into()
                    },
                    span: r.file_span(f.content),
                    target,
                    layers,
                    text: true,
                });
            }
        }
    }
}
