//! Secret-bearing values: the rule list of secret columns and the ciphertext shapes.
//!
//! In: a record's table and field names and the field's text. Out: a [`SecretReason`] when the
//! value is a secret: a known secret column (seeded from ServiceNow's password2 fields, extended
//! by users and by dictionary records), a `sys_properties` value whose type is a password, or a
//! value shaped like KMF ciphertext even without a rule. Also [`mask_secrets`], which every
//! message and snippet goes through so that no secret is ever shown.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// `table.field` columns that hold secrets (password2 and friends), from DOMAIN.md.
pub const KNOWN_SECRET_COLUMNS: &[(&str, &str)] = &[
    ("oauth_entity", "client_secret"),
    ("sys_auth_profile_oauth2", "password"),
    ("sys_auth_profile_basic", "password"),
    ("sys_rest_message", "basic_auth_password"),
    ("sys_rest_message_fn", "basic_auth_password"),
    ("sys_soap_message", "basic_auth_password"),
    ("sys_soap_message_function", "basic_auth_password"),
    ("sys_soap_message", "password"),
    ("sys_soap_message_function", "password"),
    ("jwt_keystore_aliases", "signing_key_password"),
    ("jwt_verifier_map", "shared_key"),
    ("ldap_server_config", "password"),
    ("sys_data_source", "jdbc_password"),
    ("sys_data_source", "scp_password"),
    ("discovery_credentials", "password"),
    ("basic_auth_credentials", "password"),
    ("api_key_credentials", "api_key"),
    ("oauth_credential", "token"),
    ("oauth_credential", "refresh_token"),
    ("oauth_credential", "token_received"),
    ("oauth_credential", "refresh_token_received"),
    ("ssh_credentials", "password"),
    ("ssh_private_key_credentials", "ssh_passphrase"),
    ("ssh_private_key_credentials", "ssh_private_key"),
    ("sys_email_account", "password"),
    ("sys_certificate", "key_store_password"),
    ("ecc_agent_property", "password"),
];

/// Field types whose values are secrets.
pub const SECRET_TYPES: [&str; 2] = ["password", "password2"];

/// Why a value counts as a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretReason {
    /// The column is on the rule list (built in, added by the user, or a password2 column
    /// declared by a dictionary record of the input).
    KnownColumn,
    /// A `sys_properties` record whose `type` is password or password2.
    PasswordProperty,
    /// The value looks like KMF ciphertext (see [`ciphertext_shape`]), with no rule for it.
    Ciphertext,
}

/// The ciphertext shapes ServiceNow exports.
///
/// A value is [`CipherShape::Noncharacter`] when it holds any of U+FDD0..U+FDEF (the framing of
/// KMF values, never found in real text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CipherShape {
    /// U+FDDE U+FDDF U+FDD2 + key id + ... + U+FDEE U+FDEF (source control, KMF).
    Noncharacter,
    /// `)pR#` + base64 (password2 in update-set payloads).
    PrefixPr,
}

const FDDE: &str = "\u{FDDE}";

/// `true` for the noncharacters U+FDD0..U+FDEF that frame KMF values (no real text has them).
pub fn is_kmf_char(c: char) -> bool {
    ('\u{FDD0}'..='\u{FDEF}').contains(&c)
}

/// `true` when a field's raw content may hold ciphertext: a KMF noncharacter (UTF-8
/// `EF B7 90..AF`) anywhere, or a value starting with `)pR#` (after blanks and a CDATA opener).
/// A quick filter before decoding; [`ciphertext_shape`] decides.
pub fn may_hold_ciphertext(bytes: &[u8]) -> bool {
    let start = bytes.trim_ascii_start();
    let start = start
        .strip_prefix(b"<![CDATA[")
        .unwrap_or(start)
        .trim_ascii_start();
    start.starts_with(b")pR#") || find_kmf_byte(bytes).is_some()
}

/// Offset of the first KMF noncharacter (UTF-8 `EF B7 90..AF`) in `bytes`.
fn find_kmf_byte(bytes: &[u8]) -> Option<usize> {
    memchr::memchr_iter(0xEF, bytes).find(|&i| {
        bytes.get(i + 1) == Some(&0xB7)
            && bytes.get(i + 2).is_some_and(|b| (0x90..=0xAF).contains(b))
    })
}

/// The first ciphertext-looking byte offset anywhere in `bytes` (a whole output, whatever
/// its structure): a KMF noncharacter, or `)pR#` followed by base64 up to the end of its
/// value. The fail-closed check of the rewrite.
pub fn find_ciphertext(bytes: &[u8]) -> Option<usize> {
    find_ciphertext_ending(bytes).map(|(i, _)| i)
}

/// [`find_ciphertext`], with where the ciphertext ends (`bytes.len()` when it runs to the end
/// of `bytes`, so that a caller scanning in pieces can look again with what follows).
pub fn find_ciphertext_ending(bytes: &[u8]) -> Option<(usize, usize)> {
    static PR: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b")pR#"));
    if let Some(i) = find_kmf_byte(bytes) {
        return Some((i, i + 3));
    }
    PR.find_iter(bytes).find_map(|i| {
        let end = bytes[i..]
            .iter()
            .position(|b| matches!(b, b'<' | b'&' | b'"' | b'\'' | b']') || b.is_ascii_whitespace())
            .map_or(bytes.len(), |k| i + k);
        std::str::from_utf8(&bytes[i..end])
            .is_ok_and(|s| ciphertext_shape(s).is_some())
            .then_some((i, end))
    })
}

/// The ciphertext shape of `value`, if it has one.
///
/// ```
/// use sn_retarget::analyze::secrets::{ciphertext_shape, CipherShape};
/// assert_eq!(ciphertext_shape(")pR#nbSKvqP9LvXw/b5"), Some(CipherShape::PrefixPr));
/// assert_eq!(ciphertext_shape("\u{FDDE}\u{FDDF}\u{FDD2}1543c7e9\u{FDEE}\u{FDEF}"), Some(CipherShape::Noncharacter));
/// assert_eq!(ciphertext_shape("hello"), None);
/// ```
pub fn ciphertext_shape(value: &str) -> Option<CipherShape> {
    let v = value.trim();
    // KMF framing uses noncharacters U+FDD0..U+FDEF, which no real text contains: any of them
    // marks the value.
    if v.starts_with(FDDE) || v.contains(is_kmf_char) {
        return Some(CipherShape::Noncharacter);
    }
    if let Some(rest) = v.strip_prefix(")pR#") {
        if rest.len() >= 8
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
        {
            return Some(CipherShape::PrefixPr);
        }
    }
    None
}

/// The secret rules in force: known columns plus what users and dictionaries add.
#[derive(Debug, Clone)]
pub struct SecretRules {
    /// table -> secret columns.
    columns: BTreeMap<String, BTreeSet<String>>,
}

impl Default for SecretRules {
    fn default() -> Self {
        let mut rules = SecretRules {
            columns: BTreeMap::new(),
        };
        for (t, f) in KNOWN_SECRET_COLUMNS {
            rules.add_column(t, f);
        }
        rules
    }
}

impl SecretRules {
    /// Adds `table.field` to the rule list.
    pub fn add_column(&mut self, table: &str, field: &str) {
        self.columns
            .entry(table.to_string())
            .or_default()
            .insert(field.to_string());
    }

    /// `true` when some column of `table` is a secret column.
    pub fn has_secret_columns(&self, table: &str) -> bool {
        self.columns.contains_key(table)
    }

    /// `true` when `table.field` is a secret column.
    pub fn is_secret_column(&self, table: &str, field: &str) -> bool {
        self.columns.get(table).is_some_and(|f| f.contains(field))
    }

    /// Why the value of `table.field` is a secret, if it is (`value` decoded).
    ///
    /// `property_type` is the record's `type` when the table is `sys_properties`. An empty
    /// value is never a secret.
    pub fn classify(
        &self,
        table: &str,
        field: &str,
        value: &str,
        property_type: Option<&str>,
    ) -> Option<SecretReason> {
        if value.trim().is_empty() {
            return None;
        }
        if self.is_secret_column(table, field) {
            return Some(SecretReason::KnownColumn);
        }
        if table == "sys_properties"
            && field == "value"
            && property_type.is_some_and(|t| SECRET_TYPES.contains(&t.trim()))
        {
            return Some(SecretReason::PasswordProperty);
        }
        ciphertext_shape(value).map(|_| SecretReason::Ciphertext)
    }

    /// Why the value of `field` of `record` is a secret, if it is, and its ciphertext shape.
    ///
    /// The one place both `inspect` and the rewrite decide: a known column, a password
    /// property, or a value shaped like ciphertext (CDATA-wrapped too). Payload fields are
    /// never secrets themselves (their records are read, or they pass through untouched).
    pub fn field_secret(
        &self,
        record: &crate::model::Record<'_>,
        field: &crate::model::Field<'_>,
    ) -> Option<(SecretReason, Option<CipherShape>)> {
        self.field_secret_in(self.table_columns(record.table), record, field)
    }

    /// The secret columns of `table` (look them up once per record, then call
    /// [`SecretRules::field_secret_in`] per field).
    pub fn table_columns(&self, table: &str) -> Option<&BTreeSet<String>> {
        self.columns.get(table)
    }

    /// [`SecretRules::field_secret`] with the record's table columns already looked up.
    pub fn field_secret_in(
        &self,
        columns: Option<&BTreeSet<String>>,
        record: &crate::model::Record<'_>,
        field: &crate::model::Field<'_>,
    ) -> Option<(SecretReason, Option<CipherShape>)> {
        if field.payload.is_some() {
            return None;
        }
        let property = record.table == "sys_properties" && field.name == "value";
        let known = columns.is_some_and(|c| c.contains(field.name));
        if !known && !property && !may_hold_ciphertext(record.raw(field)) {
            return None;
        }
        let property_type = if property { record.value("type") } else { None };
        let text = record.text(field);
        let why = self.classify(record.table, field.name, &text, property_type.as_deref())?;
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

impl DictionaryLearner {
    /// Looks at one record; adds what it declares to `rules`.
    pub fn learn(&mut self, rules: &mut SecretRules, r: &crate::model::Record<'_>) {
        let is_secret_type = |t: Option<std::borrow::Cow<'_, str>>| {
            t.is_some_and(|t| SECRET_TYPES.contains(&t.trim()))
        };
        match r.table {
            "sys_dictionary"
                if r.place.parent.is_some()
                    && r.field("internal_type").is_none()
                    && is_secret_type(r.value("type")) =>
            {
                if let (Some(p), Some(name)) = (r.place.parent, r.value("name")) {
                    self.pending.push((p, name.trim().to_string()));
                }
            }
            "sys_dictionary" if is_secret_type(r.value("internal_type")) => {
                let table = r
                    .value("name")
                    .or_else(|| r.attr("table").map(|a| a.value()));
                let column = r
                    .value("element")
                    .or_else(|| r.attr("element").map(|a| a.value()));
                if let (Some(t), Some(c)) = (table, column) {
                    rules.add_column(t.trim(), c.trim());
                }
            }
            "sys_db_object" => {
                if let Some(name) = r.value("name") {
                    for (_, c) in self.pending.iter().filter(|(p, _)| *p == r.index) {
                        rules.add_column(name.trim(), c);
                    }
                    self.pending.retain(|(p, _)| *p != r.index);
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

/// Column names whose text is masked in snippets (whatever the table): every known secret
/// column, `value` (a password property's), and names that say what they hold.
fn masked_tags() -> impl Iterator<Item = &'static str> {
    KNOWN_SECRET_COLUMNS.iter().map(|(_, f)| *f).chain([
        "value",
        "secret",
        "secret_key",
        "client_secret",
        "private_key",
        "passphrase",
    ])
}

/// Masks everything in `line` that may be a secret: ciphertext runs, and the text after the
/// start tag of a secret-looking column (plain or escaped). Used for every snippet shown.
///
/// ```
/// use sn_retarget::analyze::secrets::mask_secrets;
/// let s = mask_secrets("<password>hunter2</password><v>)pR#abcdefghijkl</v>");
/// assert!(!s.contains("hunter2") && !s.contains("abcdefghijkl"));
/// ```
pub fn mask_secrets(line: &str) -> String {
    mask_secrets_at(line, 0).0
}

/// [`mask_secrets`], also moving byte offset `caret` to where it lands in the masked line.
pub fn mask_secrets_at(line: &str, caret: usize) -> (String, usize) {
    let regions = secret_regions(line);
    let mut out = String::with_capacity(line.len());
    let mut new_caret = None;
    let mut at = 0;
    for (s, e) in regions {
        if new_caret.is_none() && caret < e {
            new_caret = Some(out.len() + caret.saturating_sub(at).min(s - at));
        }
        out.push_str(&line[at..s]);
        out.push_str("***");
        at = e;
    }
    let caret = new_caret.unwrap_or(out.len() + caret.saturating_sub(at));
    out.push_str(&line[at..]);
    (out, caret)
}

/// Byte ranges of `line` that may hold secrets, sorted and disjoint.
fn secret_regions(line: &str) -> Vec<(usize, usize)> {
    let stop = |from: usize| {
        line[from..]
            .find(|c: char| c == '<' || c == '&' || c.is_whitespace())
            .map_or(line.len(), |k| from + k)
    };
    let mut regions = Vec::new();
    // Ciphertext runs: from the first noncharacter back to the start of the value, on to its end.
    let mut i = 0;
    while let Some(k) = line[i..].find(is_kmf_char) {
        let hit = i + k;
        let start = line[..hit]
            .char_indices()
            .rev()
            .find(|&(_, c)| c == '>' || c == ';' || c.is_whitespace())
            .map_or(0, |(j, c)| j + c.len_utf8());
        let end = stop(hit);
        regions.push((start, end));
        i = end.max(hit + 1);
        while !line.is_char_boundary(i) {
            i += 1;
        }
    }
    for (k, _) in line.match_indices(")pR#") {
        regions.push((k, stop(k)));
    }
    for tag in masked_tags() {
        for (lt, gt) in [("<", ">"), ("&lt;", "&gt;")] {
            let open = format!("{lt}{tag}");
            let close = format!("{lt}/{tag}");
            for (k, _) in line.match_indices(&open) {
                let after = k + open.len();
                // `<tag>` or `<tag attr="...">`, not `<tag_other>`.
                if !line[after..].starts_with(gt) && !line[after..].starts_with(' ') {
                    continue;
                }
                let Some(g) = line[after..].find(gt) else {
                    continue;
                };
                let s = after + g + gt.len();
                let e = line[s..].find(&close).map_or(line.len(), |j| s + j);
                if e > s {
                    regions.push((s, e));
                }
            }
            // And back from the end tag: a damaged start tag (`<passworY>`) is just where an
            // error snippet is shown.
            let cdata = (format!("{lt}![CDATA["), format!("]]{gt}"));
            for (k, _) in line.match_indices(&close) {
                if !line[k + close.len()..].starts_with(gt) {
                    continue;
                }
                let before = &line[..k];
                let value_end = if before.ends_with(&cdata.1) {
                    before.rfind(&cdata.0).unwrap_or(0)
                } else {
                    k
                };
                let s = line[..value_end].rfind(gt).map_or(0, |j| j + gt.len());
                if k > s {
                    regions.push((s, k));
                }
            }
        }
    }
    regions.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(regions.len());
    for (s, e) in regions {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let r = SecretRules::default();
        assert_eq!(
            r.classify("oauth_entity", "client_secret", "x", None),
            Some(SecretReason::KnownColumn)
        );
        assert_eq!(r.classify("oauth_entity", "client_secret", " ", None), None);
        assert_eq!(r.classify("oauth_entity", "client_id", "abc", None), None);
        assert_eq!(
            r.classify("sys_properties", "value", "s3cret", Some("password2")),
            Some(SecretReason::PasswordProperty)
        );
        assert_eq!(
            r.classify("sys_properties", "value", "s3cret", Some("string")),
            None
        );
        assert_eq!(
            r.classify("x_t", "secret_key", "\u{FDDE}\u{FDDF}\u{FDD2}abc", None),
            Some(SecretReason::Ciphertext)
        );
        let mut r = r;
        r.add_column("x_t", "pin");
        assert!(r.is_secret_column("x_t", "pin"));
        assert!(!r.is_secret_column("x_t", "pi"));
    }

    #[test]
    fn masking() {
        let line = "&lt;client_secret&gt;abc&lt;/client_secret&gt; \u{FDDE}\u{FDDF}zz\u{FDEF} ok";
        let m = mask_secrets(line);
        assert!(!m.contains("abc") && !m.contains("zz"), "{m}");
        assert!(m.ends_with(" ok"));
        // A window that starts inside a value still hides the part before the noncharacter.
        let m = mask_secrets("GVha2Vk\u{FDEE}\u{FDEF}</client_secret><name>");
        assert!(!m.contains("GVha2Vk"), "{m}");
        // Entities and CDATA inside a secret, and attributes on its tag, are masked too.
        for line in [
            "<password>p&amp;Sup3r</password>",
            "<password><![CDATA[Sup3r]]></password>",
            "<client_secret display_value=\"\">Sup3r</client_secret>",
            "&lt;password&gt;p&amp;amp;Sup3r&lt;/password&gt;",
            // A damaged start tag: masked back from the end tag.
            "<passworY>Sup3r</password><x>",
            "<passworY><![CDATA[Sup3r]]></password>",
            "&lt;passwor&gt;Sup3r&lt;/password&gt;",
            "&lt;pass!word&gt;&lt;![CDATA[Sup3r]]&gt;&lt;/password&gt;",
        ] {
            assert!(!mask_secrets(line).contains("Sup3r"), "{line}");
        }
        // The caret moves with the text.
        let (m, c) = mask_secrets_at("<password>hunter2</password><x", 28);
        assert_eq!(&m[c..], "<x");
    }
}
