//! Which records, and which field of them: `table`, `table.field`, `table[field=value].field`,
//! `table[sys_id].field`.
//!
//! In: the text a user wrote (a flag or a plan entry). Out: a [`Selector`] that says whether a
//! record (and a field of it) is the one meant. Table and field names match in any letter
//! case, as ServiceNow's names do; the value in brackets matches the record's decoded text
//! exactly (surrounding blanks ignored).

use std::borrow::Cow;
use std::fmt;

/// What a [`Selector`] (and a secret rule) reads of a record: its table and the values of its
/// fields.
pub trait RecordValues {
    /// The record's table.
    fn table(&self) -> &str;
    /// The text of the field `name` (or the record attribute, for dictionary files).
    fn value(&self, name: &str) -> Option<Cow<'_, str>>;
}

impl RecordValues for super::Record<'_> {
    fn table(&self) -> &str {
        self.table
    }
    fn value(&self, name: &str) -> Option<Cow<'_, str>> {
        super::Record::value(self, name)
    }
}

impl RecordValues for super::OwnedRecord {
    fn table(&self) -> &str {
        &self.table
    }
    fn value(&self, name: &str) -> Option<Cow<'_, str>> {
        match self.field(name) {
            Some(f) => Some(Cow::Borrowed(&f.text)),
            None => self
                .attrs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| Cow::Borrowed(v.as_str())),
        }
    }
}

/// A record's values, each looked up once: rules that ask about a record once per field (a
/// property's `type`, a selector's field) stay linear in a record with thousands of fields.
pub struct MemoValues<'r> {
    inner: &'r dyn RecordValues,
    seen: std::cell::RefCell<Vec<Seen>>,
}

/// A name asked about, and its value.
type Seen = (Box<str>, Option<Box<str>>);

impl<'r> MemoValues<'r> {
    /// Remembers what `inner` answers.
    pub fn new(inner: &'r dyn RecordValues) -> MemoValues<'r> {
        MemoValues {
            inner,
            seen: std::cell::RefCell::new(Vec::new()),
        }
    }
}

impl RecordValues for MemoValues<'_> {
    fn table(&self) -> &str {
        self.inner.table()
    }
    fn value(&self, name: &str) -> Option<Cow<'_, str>> {
        if let Some((_, v)) = self.seen.borrow().iter().find(|(n, _)| &**n == name) {
            return v.as_deref().map(|v| Cow::Owned(v.to_string()));
        }
        let v: Option<Box<str>> = self.inner.value(name).map(|v| v.into());
        let out = v.as_deref().map(|v| Cow::Owned(v.to_string()));
        self.seen.borrow_mut().push((name.into(), v));
        out
    }
}

/// Which records of a table a selector keeps.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Filter {
    /// `[field=value]`: records whose `field` reads `value`.
    FieldIs {
        /// The field compared (lower case).
        field: String,
        /// The value it must have.
        value: String,
    },
    /// `[0123...]`: the record with this sys_id.
    SysId(String),
}

/// A table, the records of it a filter keeps, and (for field selectors) one field.
///
/// ```
/// use sn_retarget::model::Selector;
/// let s = Selector::parse_field("sys_properties[name=x.app.api_key].value").unwrap();
/// assert_eq!(s.table, "sys_properties");
/// assert_eq!(s.field, "value");
/// assert_eq!(s.to_string(), "sys_properties[name=x.app.api_key].value");
/// assert!(Selector::parse_field("oauth_entity.client_id").unwrap().filter.is_none());
/// assert!(Selector::parse_field("oauth_entity").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Selector {
    /// The table (lower case).
    pub table: String,
    /// Which of its records; `None` for all.
    pub filter: Option<Filter>,
    /// The field (lower case); empty for a record selector.
    pub field: String,
}

/// Why a selector cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a selector: {given:?} (expected {expected})")]
pub struct SelectorError {
    /// What was given.
    pub given: String,
    /// The forms accepted.
    pub expected: &'static str,
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Selector {
    const FIELD_FORMS: &'static str =
        "table.field, table[field=value].field or table[sys_id].field";
    const RECORD_FORMS: &'static str = "table, table[field=value] or table[sys_id]";

    /// Reads a field selector: `table.field`, `table[field=value].field`,
    /// `table[sys_id].field`.
    pub fn parse_field(s: &str) -> Result<Selector, SelectorError> {
        let bad = || SelectorError {
            given: s.to_string(),
            expected: Self::FIELD_FORMS,
        };
        let (records, field) = match s.trim().rfind(']') {
            Some(close) => {
                let t = s.trim();
                let rest = t[close + 1..].strip_prefix('.').ok_or_else(bad)?;
                (&t[..=close], rest)
            }
            None => s.trim().split_once('.').ok_or_else(bad)?,
        };
        if !is_name(field) {
            return Err(bad());
        }
        let mut sel = Self::parse_records(records).map_err(|_| bad())?;
        sel.field = field.to_ascii_lowercase();
        Ok(sel)
    }

    /// Reads a record selector: `table`, `table[field=value]`, `table[sys_id]`.
    pub fn parse_records(s: &str) -> Result<Selector, SelectorError> {
        let bad = || SelectorError {
            given: s.to_string(),
            expected: Self::RECORD_FORMS,
        };
        let t = s.trim();
        let (table, filter) = match t.split_once('[') {
            None => (t, None),
            Some((table, rest)) => {
                let inner = rest.strip_suffix(']').ok_or_else(bad)?;
                let filter = match inner.split_once('=') {
                    Some((f, v)) if is_name(f.trim()) => Filter::FieldIs {
                        field: f.trim().to_ascii_lowercase(),
                        value: v.trim().to_string(),
                    },
                    Some(_) => return Err(bad()),
                    None if crate::analyze::refs::is_sys_id(inner.trim()) => {
                        Filter::SysId(inner.trim().to_string())
                    }
                    None => return Err(bad()),
                };
                (table, Some(filter))
            }
        };
        if !is_name(table) {
            return Err(bad());
        }
        Ok(Selector {
            table: table.to_ascii_lowercase(),
            filter,
            field: String::new(),
        })
    }

    /// `true` when `record` is one of the records selected.
    pub fn selects(&self, record: &dyn RecordValues) -> bool {
        if !record.table().eq_ignore_ascii_case(&self.table) {
            return false;
        }
        match &self.filter {
            None => true,
            Some(Filter::FieldIs { field, value }) => record
                .value(field)
                .is_some_and(|v| v.trim() == value.as_str()),
            Some(Filter::SysId(id)) => record
                .value("sys_id")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case(id)),
        }
    }

    /// `true` when `field` of `record` is the field selected.
    pub fn selects_field(&self, record: &dyn RecordValues, field: &str) -> bool {
        field.eq_ignore_ascii_case(&self.field) && self.selects(record)
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.table)?;
        match &self.filter {
            Some(Filter::FieldIs { field, value }) => write!(f, "[{field}={value}]")?,
            Some(Filter::SysId(id)) => write!(f, "[{id}]")?,
            None => {}
        }
        if !self.field.is_empty() {
            write!(f, ".{}", self.field)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let s = Selector::parse_field("Oauth_Entity[name=OAuth Provider Dev].Client_ID").unwrap();
        assert_eq!(s.table, "oauth_entity");
        assert_eq!(s.field, "client_id");
        assert_eq!(
            s.filter,
            Some(Filter::FieldIs {
                field: "name".into(),
                value: "OAuth Provider Dev".into()
            })
        );
        let s = Selector::parse_field("x_t[0123456789abcdef0123456789abcdef].pin").unwrap();
        assert!(matches!(s.filter, Some(Filter::SysId(_))));
        let r = Selector::parse_records("sys_user_group[name=a.b]").unwrap();
        assert!(r.field.is_empty());
        for bad in [
            "", "t", "t.", ".f", "t[].f", "t[x].f", "t[=v].f", "t[a=b]f", "t[a=b.f", "t x.f",
        ] {
            assert!(Selector::parse_field(bad).is_err(), "{bad}");
        }
    }
}
