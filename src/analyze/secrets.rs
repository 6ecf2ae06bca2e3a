//! Secret-bearing values: which fields hold secrets, and why.
//!
//! In: a record (its table and the values of its fields) and one field's name and decoded
//! text. Out: a [`SecretReason`] when the value is a secret: a known secret column (seeded from
//! ServiceNow's password2 fields, extended by users and by dictionary records), a
//! `sys_properties` value whose type is a password, a value shaped like KMF ciphertext even
//! without a rule, or a value under a name that looks secret ([`looks_secret`]) that no rule
//! covers (which stops a rewrite until the plan says what it is). Table, column and type names
//! are matched in any letter case, as ServiceNow matches them.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::{RecordValues, Selector};
pub use crate::redact::cipher::{
    CipherShape, ciphertext_shape, find_ciphertext, is_kmf_char, may_hold_ciphertext,
};
pub use crate::redact::mask::{mask_column, mask_secrets, mask_secrets_at};
pub use crate::redact::names::{
    KNOWN_SECRET_COLUMNS, NOT_SECRET_ENDINGS, PLACEHOLDER_PREFIX, SECRET_NAME_ENDINGS,
    SECRET_NAME_PARTS, SECRET_NAMES, SECRET_TYPES, looks_secret,
};

/// Why a value counts as a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretReason {
    /// The column is on the rule list (built in, declared by the plan, or a password2 column
    /// declared by a dictionary record of the input).
    KnownColumn,
    /// A `sys_properties` record whose `type` is password or password2.
    PasswordProperty,
    /// The value looks like KMF ciphertext, with no rule for it.
    Ciphertext,
    /// The column (or, for `sys_properties`, the property) is named like a secret and no rule
    /// covers it: a rewrite stops until the plan declares it secret or not.
    SecretName,
    /// A secret-named key inside a JSON value or a query string.
    EmbeddedKey,
}

impl SecretReason {
    /// How people read it.
    pub fn describe(self) -> &'static str {
        match self {
            SecretReason::KnownColumn => "known secret column",
            SecretReason::PasswordProperty => "password property",
            SecretReason::Ciphertext => "ciphertext",
            SecretReason::SecretName => "named like a secret, no rule",
            SecretReason::EmbeddedKey => "secret-named key in the value",
        }
    }
}

/// A field the plan says is not a secret although its name looks like one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSecret {
    /// Which field (`table.field`, or `table[field=value].field` for some records).
    pub selector: Selector,
    /// Why it is not a secret (required: an exemption without a reason cannot be reviewed).
    pub reason: String,
}

/// `s` in lower case, borrowed when it already is.
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// `true` when `t` names a secret field type, in any letter case.
pub fn is_secret_type(t: &str) -> bool {
    SECRET_TYPES
        .iter()
        .any(|s| s.eq_ignore_ascii_case(t.trim()))
}

/// The secret rules in force: known columns plus what users and dictionaries add.
#[derive(Debug, Clone)]
pub struct SecretRules {
    /// table -> secret columns, both in lower case.
    columns: BTreeMap<String, BTreeSet<String>>,
    /// Fields of some records declared secret (`table[field=value].field`).
    selected: Vec<Selector>,
    /// Fields declared not secret although named like secrets.
    not_secret: Vec<NotSecret>,
    /// Starts of the placeholders in force (a value starting with one is not a secret).
    placeholders: Vec<String>,
}

impl Default for SecretRules {
    fn default() -> Self {
        let mut rules = SecretRules {
            columns: BTreeMap::new(),
            selected: Vec::new(),
            not_secret: Vec::new(),
            placeholders: vec![PLACEHOLDER_PREFIX.to_string()],
        };
        for (t, f) in KNOWN_SECRET_COLUMNS {
            rules.add_column(t, f);
        }
        rules
    }
}

impl SecretRules {
    /// Adds `table.field` to the rule list (any letter case). Its values are masked in every
    /// line shown from now on.
    pub fn add_column(&mut self, table: &str, field: &str) {
        mask_column(field);
        self.columns
            .entry(table.to_ascii_lowercase())
            .or_default()
            .insert(field.to_ascii_lowercase());
    }

    /// Declares `selector`'s field secret (on the records it selects; a plain `table.field`
    /// is the same as [`SecretRules::add_column`]).
    pub fn add_selected(&mut self, selector: Selector) {
        if selector.filter.is_none() {
            self.add_column(&selector.table, &selector.field);
        } else {
            mask_column(&selector.field);
            self.selected.push(selector);
        }
    }

    /// Declares a field named like a secret not to be one.
    pub fn add_not_secret(&mut self, not: NotSecret) {
        self.not_secret.push(not);
    }

    /// Values starting with what `template` starts with (up to its first `{`) are placeholders,
    /// not secrets.
    pub fn add_placeholder(&mut self, template: &str) {
        let prefix = template.split('{').next().unwrap_or_default().trim();
        if !prefix.is_empty() && !self.placeholders.iter().any(|p| p == prefix) {
            self.placeholders.push(prefix.to_string());
        }
    }

    /// `true` when `value` is a placeholder this tool wrote.
    pub fn is_placeholder(&self, value: &str) -> bool {
        let v = value.trim();
        self.placeholders.iter().any(|p| v.starts_with(p.as_str()))
    }

    /// `true` when some column of `table` is a secret column, or some record of it may hold
    /// a declared secret.
    pub fn has_secret_columns(&self, table: &str) -> bool {
        let t = lower(table);
        self.columns.contains_key(t.as_ref()) || self.selected.iter().any(|s| s.table == t.as_ref())
    }

    /// `true` when `table.field` is a secret column (any letter case).
    pub fn is_secret_column(&self, table: &str, field: &str) -> bool {
        self.columns
            .get(lower(table).as_ref())
            .is_some_and(|f| f.contains(lower(field).as_ref()))
    }

    /// The secret columns of `table` (look them up once per record, then call
    /// [`SecretRules::field_secret_in`] per field).
    pub fn table_columns(&self, table: &str) -> Option<&BTreeSet<String>> {
        self.columns.get(lower(table).as_ref())
    }

    /// The reason given for `field` of `record` not being a secret, if the plan gave one.
    pub fn not_secret_reason(&self, record: &dyn RecordValues, field: &str) -> Option<&str> {
        self.not_secret
            .iter()
            .find(|n| n.selector.selects_field(record, field))
            .map(|n| n.reason.as_str())
    }

    /// Why the value of `field` of `record` is a secret, if it is (`value` decoded).
    /// `reference` says the field is a reference (it has a `display_value`): its value is a
    /// sys_id, never a secret by its name. An empty value, a placeholder and `true`/`false`
    /// under a secret-looking name are not secrets.
    pub fn classify(
        &self,
        record: &dyn RecordValues,
        field: &str,
        value: &str,
        reference: bool,
    ) -> Option<SecretReason> {
        let v = value.trim();
        if v.is_empty() {
            return None;
        }
        let table = record.table();
        if self.is_secret_column(table, field)
            || self.selected.iter().any(|s| s.selects_field(record, field))
        {
            return Some(SecretReason::KnownColumn);
        }
        let property =
            table.eq_ignore_ascii_case("sys_properties") && field.eq_ignore_ascii_case("value");
        if property && record.value("type").is_some_and(|t| is_secret_type(&t)) {
            return Some(SecretReason::PasswordProperty);
        }
        if ciphertext_shape(v).is_some() {
            return Some(SecretReason::Ciphertext);
        }
        let named = (!reference && looks_secret(field))
            || (property && record.value("name").is_some_and(|n| looks_secret(n.trim())));
        let plain = matches!(v, "true" | "false") || self.is_placeholder(v);
        if named && !plain && self.not_secret_reason(record, field).is_none() {
            return Some(SecretReason::SecretName);
        }
        None
    }

    /// Why the value of `field` of `record` is a secret, if it is, and its ciphertext shape.
    ///
    /// The one place both `inspect` and the rewrite decide: see [`SecretRules::classify`].
    /// Payload fields are never secrets themselves (their records are read, or they pass
    /// through untouched).
    pub fn field_secret(
        &self,
        record: &crate::model::Record<'_>,
        field: &crate::model::Field<'_>,
    ) -> Option<(SecretReason, Option<CipherShape>)> {
        self.field_secret_in(self.table_columns(record.table), record, field)
    }

    /// [`SecretRules::field_secret`] with the record's table columns already looked up.
    pub fn field_secret_in(
        &self,
        columns: Option<&BTreeSet<String>>,
        record: &crate::model::Record<'_>,
        field: &crate::model::Field<'_>,
    ) -> Option<(SecretReason, Option<CipherShape>)> {
        self.field_secret_with(columns, record, field, record)
    }

    /// [`SecretRules::field_secret_in`], reading the record's other values through `values`
    /// (a [`crate::model::MemoValues`] of it, when every field of a record is asked about).
    pub fn field_secret_with(
        &self,
        columns: Option<&BTreeSet<String>>,
        record: &crate::model::Record<'_>,
        field: &crate::model::Field<'_>,
        values: &dyn RecordValues,
    ) -> Option<(SecretReason, Option<CipherShape>)> {
        // A payload's own records are asked about in turn (its whole text is not read here).
        if field.payload.is_some() {
            return None;
        }
        let may_cipher = may_hold_ciphertext(record.raw(field));
        let known = columns.is_some_and(|c| c.contains(lower(field.name).as_ref()));
        let property = record.table == "sys_properties" && field.name == "value";
        let maybe = known
            || property
            || !self.selected.is_empty()
            || may_cipher
            || looks_secret(field.name);
        if !maybe {
            return None;
        }
        let text = record.text(field);
        let reference = record.field_attr(field, "display_value").is_some();
        let why = self.classify(values, field.name, &text, reference)?;
        Some((why, ciphertext_shape(&text)))
    }

    /// The columns in force, sorted.
    pub fn columns(&self) -> impl Iterator<Item = (&str, &str)> {
        self.columns
            .iter()
            .flat_map(|(t, fs)| fs.iter().map(move |f| (t.as_str(), f.as_str())))
    }
}

/// Learns password2 columns from dictionary records as they are read: `sys_dictionary`
/// records in payloads (`internal_type` password2) and `<database>` files (columns with
/// `type="password2"`, whose table is the enclosing element).
#[derive(Debug, Default, Clone)]
pub struct DictionaryLearner {
    /// `<database>` columns waiting for their table record: (parent index, column).
    pending: Vec<(usize, String)>,
}

/// What [`DictionaryLearner`] reads of a record (a borrowed [`crate::model::Record`] or an
/// owned [`crate::model::OwnedRecord`]).
pub trait DictionaryRecord: RecordValues {
    /// Its index in document order.
    fn index(&self) -> usize;
    /// The index of the record element it is nested in.
    fn parent(&self) -> Option<usize>;
    /// `true` when it has a field `name`.
    fn has_field(&self, name: &str) -> bool;
    /// The record element's attribute `name`, decoded.
    fn attr_value(&self, name: &str) -> Option<Cow<'_, str>>;
}

impl DictionaryRecord for crate::model::Record<'_> {
    fn index(&self) -> usize {
        self.index
    }
    fn parent(&self) -> Option<usize> {
        self.place.parent
    }
    fn has_field(&self, name: &str) -> bool {
        self.field(name).is_some()
    }
    fn attr_value(&self, name: &str) -> Option<Cow<'_, str>> {
        self.attr(name).map(|a| a.value())
    }
}

impl DictionaryRecord for crate::model::OwnedRecord {
    fn index(&self) -> usize {
        self.index
    }
    fn parent(&self) -> Option<usize> {
        self.place.parent
    }
    fn has_field(&self, name: &str) -> bool {
        self.field(name).is_some()
    }
    fn attr_value(&self, name: &str) -> Option<Cow<'_, str>> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| Cow::Borrowed(v.as_str()))
    }
}

impl DictionaryLearner {
    /// Looks at one record; adds what it declares to `rules`.
    pub fn learn(&mut self, rules: &mut SecretRules, r: &dyn DictionaryRecord) {
        let secret_type = |t: Option<Cow<'_, str>>| t.is_some_and(|t| is_secret_type(&t));
        match lower(r.table()).as_ref() {
            "sys_dictionary"
                if r.parent().is_some()
                    && !r.has_field("internal_type")
                    && secret_type(r.value("type")) =>
            {
                if let (Some(p), Some(name)) = (r.parent(), r.value("name")) {
                    self.pending.push((p, name.trim().to_string()));
                }
            }
            "sys_dictionary" if secret_type(r.value("internal_type")) => {
                let table = r.value("name").or_else(|| r.attr_value("table"));
                let column = r.value("element").or_else(|| r.attr_value("element"));
                if let (Some(t), Some(c)) = (table, column) {
                    rules.add_column(t.trim(), c.trim());
                }
            }
            "sys_db_object" => {
                if let Some(name) = r.value("name") {
                    for (_, c) in self.pending.iter().filter(|(p, _)| *p == r.index()) {
                        rules.add_column(name.trim(), c);
                    }
                    self.pending.retain(|(p, _)| *p != r.index());
                }
            }
            _ => {}
        }
    }

    /// Forgets columns seen in records withdrawn by the reader.
    pub fn discard_from(&mut self, first_index: usize) {
        self.pending.retain(|(p, _)| *p < first_index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OwnedRecord;

    fn record(table: &str, fields: &[(&str, &str)]) -> OwnedRecord {
        OwnedRecord {
            index: 0,
            table: table.into(),
            action: None,
            sys_id: None,
            place: crate::model::Place {
                depth: 0,
                payload_of: None,
                parent: None,
            },
            escapings: Vec::new(),
            file_span: Default::default(),
            attrs: Vec::new(),
            fields: fields
                .iter()
                .map(|(n, t)| crate::model::OwnedField {
                    name: n.to_string(),
                    attrs: Vec::new(),
                    kind: crate::model::ValueKind::Text,
                    text: t.to_string(),
                    file_span: Default::default(),
                    payload: None,
                })
                .collect(),
        }
    }

    #[test]
    fn rules() {
        let r = SecretRules::default();
        let oauth = record("oauth_entity", &[]);
        assert_eq!(
            r.classify(&oauth, "client_secret", "x", false),
            Some(SecretReason::KnownColumn)
        );
        assert_eq!(
            r.classify(&oauth, "CLIENT_SECRET", "x", false),
            Some(SecretReason::KnownColumn)
        );
        assert_eq!(r.classify(&oauth, "client_secret", " ", false), None);
        assert_eq!(r.classify(&oauth, "client_id", "abc", false), None);
        let p2 = record("sys_properties", &[("type", "Password2"), ("name", "x.y")]);
        assert_eq!(
            r.classify(&p2, "value", "s3cret", false),
            Some(SecretReason::PasswordProperty)
        );
        let s = record("sys_properties", &[("type", "string"), ("name", "x.y")]);
        assert_eq!(r.classify(&s, "value", "s3cret", false), None);
        let key = record(
            "sys_properties",
            &[("type", "string"), ("name", "x.api_key")],
        );
        assert_eq!(
            r.classify(&key, "value", "s3cret", false),
            Some(SecretReason::SecretName)
        );
        let t = record("x_t", &[]);
        assert_eq!(
            r.classify(&t, "secret_key", "\u{FDDE}\u{FDDF}\u{FDD2}abc", false),
            Some(SecretReason::Ciphertext)
        );
        assert_eq!(
            r.classify(&t, "secret_key", "abc", false),
            Some(SecretReason::SecretName)
        );
        assert_eq!(r.classify(&t, "secret_key", "abc", true), None);
        assert_eq!(r.classify(&t, "secret_key", "true", false), None);
        assert_eq!(
            r.classify(
                &t,
                "secret_key",
                "SN-RETARGET-SECRET(x_t.secret_key:-)",
                false
            ),
            None
        );
        let mut r = r;
        r.add_column("X_T", "Pin");
        assert!(r.is_secret_column("x_t", "pin"));
        assert!(!r.is_secret_column("x_t", "pi"));
        r.add_not_secret(NotSecret {
            selector: Selector::parse_field("x_t.secret_key").unwrap(),
            reason: "a key name, not a key".into(),
        });
        assert_eq!(r.classify(&t, "secret_key", "abc", false), None);
    }
}
