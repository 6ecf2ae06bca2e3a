//! Structured random inputs for `apply` (shared with `fuzz/fuzz_targets/apply_structured.rs`):
//! a small byte-driven generator turns any bytes into well-formed exports (`<unload>` record
//! exports, update sets whose payloads nest CDATA and entity-escaped documents, source-control
//! `<record_update>` files) holding records with sys_ids, references between them, instance
//! URLs, escaped and CDATA values, ciphertext and plaintext secrets, and into a plan (sys_ids
//! kept, regenerated or mapped; sources and target; secrets placeholder, blank or kept; field
//! sets and replacements; scope renames). [`check_structured`] then holds `apply` to its
//! promises:
//!
//! - the generated input reads, and so does the output, with the same records (tables, depths,
//!   payloads) and each record's sys_id the id map's image of the old one;
//! - the output is the input plus exactly the report's edits;
//! - no ciphertext and no secret value is left unless secrets are kept;
//! - applying the same plan to the output changes nothing (idempotent);
//! - when only ids changed, the reversed id map (through `parse_id_map(.., true)`) gives back
//!   the input byte for byte.
//!
//! The generator does not use the crate's own escaping: it is an independent writer.

#![allow(dead_code)]

use std::collections::BTreeMap;

use sn_retarget::ErrorKind;
use sn_retarget::analyze::secrets::find_ciphertext;
use sn_retarget::apply::apply;
use sn_retarget::model::{Collect, OwnedRecord, read};
use sn_retarget::plan::{IdMode, Plan, SecretMode, parse_id_map};
use sn_retarget::splice::{Edit, Edits};

/// Reads decisions off the input bytes; past the end every byte reads as 0, which always
/// picks the first choice and ends every loop.
pub struct Gen<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Gen<'a> {
    pub fn new(data: &'a [u8]) -> Gen<'a> {
        Gen { data, pos: 0 }
    }

    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// A number below `n` (`n` at most 256).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 { 0 } else { self.byte() as usize % n }
    }

    /// `true` with probability `num`/`den` (and always `false` once the input is used up).
    pub fn chance(&mut self, num: u8, den: u8) -> bool {
        let b = self.byte();
        self.pos <= self.data.len() && b % den < num
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

/// The sys_ids the generated documents use (32 lowercase hex digits, never generated ones).
pub fn pool_id(k: usize) -> String {
    let x = (k as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    format!("{x:032x}")
}

/// Ids no document holds: targets of the plan's explicit map.
pub fn fresh_id(k: usize) -> String {
    let x = (k as u128 + 7).wrapping_mul(0xd1b5_4a32_d192_ed03_8cb9_2ba7_2f3d_8dd7);
    format!("{x:032x}")
}

const POOL: usize = 10;

/// Every secret value generated carries this marker (base64 of "secret"), so that a secret
/// left anywhere in an output is found.
pub const SECRET_MARK: &str = "c2VjcmV0";

/// Instance hosts in the documents (a lookalike that must never be rewritten among them).
const HOSTS: &[&str] = &["dev12345", "dev1", "test77", "DEV12345", "xdev1", "acme"];

/// Pieces of free text: markup characters, `]]>`, non-ASCII, line ends, URLs, names.
const PIECES: &[&str] = &[
    "a",
    "Dev",
    " ",
    "<",
    ">",
    "&",
    "\"",
    "'",
    "]]>",
    "]]",
    "é",
    "日本",
    "\u{1F600}",
    "\t",
    "\n",
    "\r\n",
    "&amp;",
    "&lt;x/&gt;",
    "x_dev_app.api",
    "x_dev_app_table",
    "https://dev1.service-now.com/x.do?a=1&b=2",
    "https://dev12345.service-now.com",
    "dev1.service-now.com.evil.example",
    "<![CDATA[",
    "<?xml version=\"1.0\"?>",
    "<record_update>",
    "0",
    "=",
    "^",
    ",",
];

/// Escapes text content: `& < >`, and `"` when the file writes `&quot;`.
pub fn esc(s: &str, quot: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quot => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value written between double quotes.
pub fn esc_attr(s: &str) -> String {
    esc(s, true)
}

/// Where a document is being written.
#[derive(Clone, Copy)]
struct Ctx {
    /// Payload depth of the document (0 = the file).
    depth: usize,
    /// The document sits directly in a CDATA section: no CDATA of its own.
    in_cdata: bool,
    /// The file writes `&quot;` in text.
    quot: bool,
    /// Line end between elements ("" for none).
    nl: &'static str,
}

/// The tables records are drawn from (a natural-key table and an unknown one among them).
const TABLES: &[&str] = &[
    "oauth_entity",
    "oauth_entity_profile",
    "sys_auth_profile_oauth2",
    "sys_properties",
    "sys_script_include",
    "sn_se_instance",
    "u_custom",
    "sys_app",
];

/// The largest payload depth generated.
const MAX_DEPTH: usize = 3;

struct Writer<'g, 'a> {
    g: &'g mut Gen<'a>,
    /// Next record index (its id is `pool_id(index % POOL)`; repeats make duplicates).
    next: usize,
}

impl Writer<'_, '_> {
    fn text(&mut self, max_pieces: usize) -> String {
        let n = self.g.below(max_pieces + 1);
        let mut s = String::new();
        for _ in 0..n {
            match self.g.below(8) {
                0 => s.push_str(&pool_id(self.g.below(POOL))),
                _ => s.push_str(self.g.pick(PIECES)),
            }
        }
        s
    }

    fn host(&mut self) -> &'static str {
        self.g.pick(HOSTS)
    }

    fn url(&mut self) -> String {
        let h = self.host();
        // The host in any letter case, one letter at a time.
        let host = match self.g.below(3) {
            0 => format!("{h}.service-now.com")
                .chars()
                .map(|c| match self.g.below(2) {
                    0 => c.to_ascii_uppercase(),
                    _ => c.to_ascii_lowercase(),
                })
                .collect(),
            _ => format!("{h}.service-now.com"),
        };
        match self.g.below(8) {
            0 => format!("https://{host}"),
            1 => format!("https://{host}/oauth_token.do"),
            2 => format!("https://{host}/oauth_redirect.do"),
            3 => format!(
                "https://{host}/nav_to.do?uri=sys_user.do?sys_id={}",
                pool_id(self.g.below(POOL))
            ),
            4 => format!("http://{host}/"),
            // Percent-encoded inside a query string, once or twice.
            5 => format!(
                "https://x.example/cb?redirect_uri=https%3A%2F%2F{host}%2Foauth_redirect.do"
            ),
            6 => format!("https://x.example/cb?u=https%253A%252F%252F{host}"),
            _ => format!("https://{host}.evil.example/x"),
        }
    }

    /// Escaped text with some of the characters that make ciphertext (the KMF framing, `)` and
    /// `#`) written as character references, decimal or hexadecimal, as ElementTree writes them
    /// with `encoding="us-ascii"`. Escaped again by each payload around it, they read back as
    /// the same characters at the record's own layer.
    fn with_references(&mut self, escaped: String) -> String {
        if !self.g.chance(1, 3) {
            return escaped;
        }
        let mut out = String::with_capacity(escaped.len() + 16);
        for c in escaped.chars() {
            let cipher = ('\u{FDD0}'..='\u{FDEF}').contains(&c) || c == ')' || c == '#';
            match (cipher, self.g.below(3)) {
                (true, 0) => out.push_str(&format!("&#{};", c as u32)),
                (true, 1) => out.push_str(&format!("&#x{:X};", c as u32)),
                _ => out.push(c),
            }
        }
        out
    }

    /// A secret value: `)pR#` + base64, KMF-framed, plaintext (in a secret column only), or
    /// empty.
    fn secret(&mut self, column: bool) -> String {
        let tail = ["", "QUJD", "ZGVm", "+/x=", "=="];
        match self.g.below(5) {
            2 if !column => format!(")pR#{SECRET_MARK}"),
            0 => format!(")pR#{SECRET_MARK}{}", self.g.pick(&tail)),
            1 => format!(
                "\u{FDDE}\u{FDDF}\u{FDD2}7d2c1f0a9b8e4d3c2b1a0f9e8d7c6b5a\u{FDEC}\u{FDD4}1\u{FDEC}\u{FDED}{SECRET_MARK}{}\u{FDEE}\u{FDEF}",
                self.g.pick(&tail)
            ),
            2 => format!("hunter2-{SECRET_MARK}<&>\"'"),
            3 => String::new(),
            _ => format!(")pR#{SECRET_MARK}"),
        }
    }

    /// A text field: escaped text, a CDATA section (split at `]]>`), or empty.
    fn field(&mut self, ctx: Ctx, name: &str, value: &str) -> String {
        let form = self.g.below(6);
        match form {
            0 if value.is_empty() => format!("<{name}/>"),
            1 if value.is_empty() => format!("<{name}></{name}>"),
            2 | 3 if !ctx.in_cdata => {
                format!(
                    "<{name}><![CDATA[{}]]></{name}>",
                    value.replace("]]>", "]]]]><![CDATA[>")
                )
            }
            _ => {
                let escaped = self.with_references(esc(value, ctx.quot));
                format!("<{name}>{escaped}</{name}>")
            }
        }
    }

    /// A reference field: an id of the pool (or a dangling one), with a display value.
    fn reference(&mut self, ctx: Ctx, name: &str) -> String {
        let id = if self.g.chance(1, 8) {
            fresh_id(100 + self.g.below(4))
        } else {
            pool_id(self.g.below(POOL))
        };
        if self.g.chance(1, 2) {
            let dv = self.text(3);
            format!("<{name} display_value=\"{}\">{id}</{name}>", esc_attr(&dv))
        } else {
            self.field(ctx, name, &id)
        }
    }

    /// One record of `table` with id `id`; `payload_depth` allows a version with a payload.
    fn record(&mut self, ctx: Ctx, table: &str, id: &str) -> String {
        let mut f: Vec<String> = Vec::new();
        let name = self.text(4);
        f.push(self.field(ctx, "name", &name));
        match table {
            "oauth_entity" => {
                let cid = if self.g.chance(1, 2) {
                    "9f8e7d6c5b4a39281716051423324150".to_string()
                } else {
                    pool_id(self.g.below(POOL))
                };
                f.push(self.field(ctx, "client_id", &cid));
                let s = self.secret(true);
                f.push(self.field(ctx, "client_secret", &s));
                for col in ["redirect_url", "auth_url", "token_url"] {
                    let u = self.url();
                    f.push(self.field(ctx, col, &u));
                }
                let urls = format!("{},{}", self.url(), self.url());
                f.push(self.field(ctx, "redirect_url_list", &urls));
            }
            "oauth_entity_profile" => {
                f.push(self.reference(ctx, "oauth_entity"));
                f.push(self.field(ctx, "default", "true"));
            }
            "sys_auth_profile_oauth2" => {
                f.push(self.reference(ctx, "oauth_entity_profile"));
                let s = self.secret(true);
                f.push(self.field(ctx, "password", &s));
                f.push(self.field(ctx, "username", "integration"));
            }
            "sys_properties" => {
                let secret = self.g.chance(1, 2);
                let ty = if secret { "password2" } else { "string" };
                f.push(self.field(ctx, "type", ty));
                let v = if secret {
                    self.secret(true)
                } else {
                    self.url()
                };
                f.push(self.field(ctx, "value", &v));
            }
            "sys_script_include" => {
                let mut script = format!(
                    "var u = '{}'; // {} {}\n",
                    self.url(),
                    pool_id(self.g.below(POOL)),
                    self.text(4)
                );
                script.push_str(&format!(
                    "gs.getProperty('x_dev_app.url'); // sys_id={}",
                    pool_id(self.g.below(POOL))
                ));
                f.push(self.field(ctx, "script", &script));
                f.push(self.field(ctx, "api_name", "x_dev_app.Links"));
            }
            "sn_se_instance" => {
                let h = self.host().to_string();
                f.push(self.field(ctx, "instance_name", &h));
                let u = self.url();
                f.push(self.field(ctx, "url", &u));
                f.push(self.reference(ctx, "oauth_entity"));
                let p = self.g.pick(&["true", "false"]);
                f.push(self.field(ctx, "production", p));
            }
            "u_custom" => {
                let t = self.text(6);
                f.push(self.field(ctx, "u_notes", &t));
                let s = self.secret(false);
                f.push(self.field(ctx, "u_secret", &s));
                let list = format!(
                    "{},{}",
                    pool_id(self.g.below(POOL)),
                    pool_id(self.g.below(POOL))
                );
                f.push(self.field(ctx, "u_list", &list));
                let q = format!(
                    "documentkey={}^ORsys_id={}",
                    pool_id(self.g.below(POOL)),
                    pool_id(self.g.below(POOL))
                );
                f.push(self.field(ctx, "u_query", &q));
            }
            _ => {
                // sys_app: a scope record.
                f.push(self.field(ctx, "scope", "x_dev_app"));
            }
        }
        if table != "sys_app" && self.g.chance(1, 2) {
            let scope = format!(
                "<sys_scope display_value=\"Dev App\">{}</sys_scope>",
                pool_id(0)
            );
            f.push(scope);
            f.push(format!(
                "<sys_package display_value=\"Dev App\" source=\"x_dev_app\">{}</sys_package>",
                pool_id(0)
            ));
        }
        f.push(format!("<sys_id>{id}</sys_id>"));
        if self.g.chance(1, 4) {
            f.rotate_left(1); // sys_id not last
        }
        let action = self
            .g
            .pick(&["INSERT_OR_UPDATE", "INSERT_OR_UPDATE", "DELETE"]);
        format!(
            "<{table} action=\"{action}\">{nl}{}{nl}</{table}>",
            f.join(ctx.nl),
            nl = ctx.nl
        )
    }

    fn new_id(&mut self) -> String {
        let id = pool_id(self.next % POOL);
        self.next += 1 + self.g.below(2);
        id
    }

    /// A `<record_update>` document (a payload, or a source-control file) for `table`.
    fn update_document(&mut self, ctx: Ctx, table: &str, id: &str) -> String {
        let mut s = String::new();
        if self.g.chance(3, 4) {
            s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        }
        s.push_str(&format!("<record_update table=\"{table}\">"));
        s.push_str(&self.record(ctx, table, id));
        if ctx.depth < MAX_DEPTH && self.g.chance(1, 3) {
            // The previous version, in its own payload one level down.
            let vid = self.new_id();
            let h = self.host();
            let payload = self.payload(ctx, table, id);
            s.push_str(&format!(
                "<sys_update_version action=\"INSERT_OR_UPDATE\"><instance_name>{h}</instance_name><name>{table}_{id}</name>{payload}<sys_id>{vid}</sys_id></sys_update_version>"
            ));
        }
        if self.g.chance(1, 4) {
            let did = self.new_id();
            s.push_str(&format!(
                "<sys_metadata_delete action=\"INSERT_OR_UPDATE\"><sys_db_object display_value=\"\" name=\"{table}\">{table}</sys_db_object><sys_id>{did}</sys_id><sys_metadata>{id}</sys_metadata></sys_metadata_delete>"
            ));
        }
        s.push_str("</record_update>");
        s
    }

    /// A `<payload>` field holding a record_update document for `table`, one level below
    /// `ctx`, CDATA-wrapped or escaped.
    fn payload(&mut self, ctx: Ctx, table: &str, id: &str) -> String {
        let cdata = !ctx.in_cdata && self.g.chance(1, 2);
        let inner = Ctx {
            depth: ctx.depth + 1,
            in_cdata: cdata,
            quot: ctx.quot,
            nl: "",
        };
        let doc = self.update_document(inner, table, id);
        if cdata {
            debug_assert!(!doc.contains("]]>"));
            format!("<payload><![CDATA[{doc}]]></payload>")
        } else {
            format!("<payload>{}</payload>", esc(&doc, ctx.quot))
        }
    }

    fn document(&mut self) -> Vec<u8> {
        let nl = self.g.pick(&["\n", "\r\n", ""]);
        let ctx = Ctx {
            depth: 0,
            in_cdata: false,
            quot: self.g.chance(1, 4),
            nl,
        };
        let mut s = String::new();
        if self.g.chance(1, 8) {
            s.push('\u{FEFF}');
        }
        let kind = self.g.below(6);
        // (A source-control file's declaration is written with its record_update.)
        if kind != 0 && self.g.chance(3, 4) {
            s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            s.push_str(nl);
        }
        match kind {
            0 => {
                // Source control: one record_update file.
                let table = self.g.pick(TABLES);
                let id = self.new_id();
                s.push_str(&self.update_document(ctx, table, &id));
            }
            1 | 2 => {
                // An update set.
                let set_id = self.new_id();
                s.push_str(&format!("<unload unload_date=\"2024-05-01 10:00:00\">{nl}"));
                s.push_str(&format!(
                    "<sys_remote_update_set action=\"INSERT_OR_UPDATE\"><name>{}</name><sys_id>{set_id}</sys_id></sys_remote_update_set>{nl}",
                    esc(&self.text(3), ctx.quot)
                ));
                for _ in 0..1 + self.g.below(4) {
                    let table = self.g.pick(TABLES);
                    let id = self.new_id();
                    let row = self.new_id();
                    let payload = self.payload(ctx, table, &id);
                    let action = self.g.pick(&["INSERT_OR_UPDATE", "DELETE"]);
                    s.push_str(&format!(
                        "<sys_update_xml action=\"INSERT_OR_UPDATE\">{nl}<action>{action}</action>{nl}<name>{table}_{id}</name>{nl}{payload}{nl}<remote_update_set display_value=\"x\">{set_id}</remote_update_set>{nl}<sys_id>{row}</sys_id>{nl}<target_name>{}</target_name>{nl}<type>{table}</type>{nl}<update_guid>{}</update_guid>{nl}</sys_update_xml>{nl}",
                        esc(&self.text(2), ctx.quot),
                        pool_id(self.g.below(POOL)),
                    ));
                }
                s.push_str("</unload>");
            }
            3 => s.push_str("<unload unload_date=\"2024-05-01 10:00:00\"/>"),
            _ => {
                // A record or list export.
                s.push_str(&format!("<unload unload_date=\"2024-05-01 10:00:00\">{nl}"));
                for _ in 0..1 + self.g.below(5) {
                    let table = self.g.pick(TABLES);
                    let id = self.new_id();
                    s.push_str(&self.record(ctx, table, &id));
                    s.push_str(nl);
                }
                s.push_str("</unload>");
            }
        }
        if self.g.chance(1, 2) {
            s.push_str(nl);
        }
        s.into_bytes()
    }

    fn plan(&mut self) -> Plan {
        let mut p = Plan::default();
        let targets = [
            "acme",
            "acme.service-now.com",
            "https://prod1.service-now.com/",
            "test77",
        ];
        if self.g.chance(3, 4) {
            p.target = Some(self.g.pick(&targets).to_string());
            let sources = ["dev12345", "https://DEV1.service-now.com", "test77"];
            for s in sources {
                if self.g.chance(1, 2) {
                    p.sources.push(s.to_string());
                }
            }
        }
        if self.g.chance(1, 2) {
            p.sys_ids = IdMode::Regenerate;
        }
        p.force_natural_keys = self.g.chance(1, 4);
        p.seed = self.g.pick(&["", "s1", "x y"]).to_string();
        for k in 0..self.g.below(3) {
            let old = pool_id(self.g.below(POOL));
            p.map.insert(old, fresh_id(k));
        }
        if self.g.chance(1, 4) {
            // Ids only: reversible.
            p.sources.clear();
            p.secrets = SecretMode::Keep;
            return p;
        }
        p.secrets = self
            .g
            .pick(&[SecretMode::Placeholder, SecretMode::Blank, SecretMode::Keep]);
        if self.g.chance(1, 4) {
            p.placeholder = "REENTER {name} in {table}.{field} of {sys_id}".into();
        }
        if self.g.chance(1, 4) {
            p.secret_fields.push("u_custom.u_notes".into());
        }
        if self.g.chance(1, 4) {
            p.set
                .push("oauth_entity.name=Prod <&> ]]> \"name\" é".to_string());
        }
        if self.g.chance(1, 4) {
            p.set.push("sn_se_instance.production=true".to_string());
        }
        if self.g.chance(1, 4) {
            p.replace
                .push("sys_script_include.script:Dev=Prod & <co>".to_string());
        }
        if self.g.chance(1, 4) {
            p.regenerate_fields.push("oauth_entity.client_id".into());
        }
        if self.g.chance(1, 4) {
            p.scopes.push("x_dev_app=x_prod_app".into());
            p.scope_prefix = self.g.chance(1, 2);
        }
        if self.g.chance(1, 4) {
            // A derived twin: new ids, renamed, state reset, client_ids paired.
            p.intent = Some(sn_retarget::plan::Intent::Derive);
            p.labels.insert("Dev".into(), "Prod".into());
            if self.g.chance(1, 2) {
                p.labels.insert("App".into(), "Twin & <co>".into());
            }
        }
        p
    }
}

/// One generated case: documents and a plan.
pub struct Case {
    pub docs: Vec<Vec<u8>>,
    pub plan: Plan,
}

pub fn generate(data: &[u8]) -> Case {
    let mut g = Gen::new(data);
    let mut w = Writer { g: &mut g, next: 0 };
    let mut docs = vec![w.document()];
    if w.g.chance(1, 4) {
        docs.push(w.document());
    }
    let plan = w.plan();
    Case { docs, plan }
}

fn records(name: &str, bytes: &[u8]) -> Vec<OwnedRecord> {
    let mut c = Collect::default();
    let outcome = read(bytes, &mut c).unwrap_or_else(|e| {
        panic!(
            "{name} does not read: {e}\n{}",
            String::from_utf8_lossy(bytes)
        )
    });
    assert!(
        outcome
            .diagnostics
            .iter()
            .all(|d| d.code != "malformed-payload"),
        "{name}: {:?}\n{}",
        outcome.diagnostics,
        String::from_utf8_lossy(bytes)
    );
    c.sort();
    c.records
}

/// Second-run edits that are known and reported, not yet fixed: a whole value holding `]]>`
/// written into a CDATA field (a `--set` value, or a placeholder naming such a record): the
/// section is split (`]]]]><![CDATA[>`), the field reads as mixed content, and the second run
/// writes the same text again as escaped text (`Planner::whole_value` compares bytes, not
/// text). (Second-run edits once known here are fixed; their inputs stay as regressions in
/// `fuzz/regressions/apply_structured/`: map targets regenerated, placeholder names from
/// before the rewrite, a `--set` filling an empty name, a name holding the record's own id.)
fn known_second_run_edit(
    first: &[sn_retarget::plan::EditEntry],
    e: &sn_retarget::plan::EditEntry,
) -> bool {
    first
        .iter()
        .any(|f| f.table == e.table && f.field == e.field && f.new.contains("]]]]"))
}

fn only_ids(plan: &Plan) -> bool {
    (plan.target.is_none() || plan.sources.is_empty())
        && plan.hosts.is_empty()
        && plan.labels.is_empty()
        && plan.secrets == SecretMode::Keep
        && plan.set.is_empty()
        && plan.replace.is_empty()
        && plan.regenerate_fields.is_empty()
        && plan.scopes.is_empty()
}

/// The generated plan, after `apply` refused what does not fit the input (checked to be
/// right): a source the input does not name is dropped; several sources merged into the one
/// target are asked for one by one (`--host`), which is allowed.
fn fitted(plan: &Plan, inputs: &[(&str, &[u8])]) -> Plan {
    use sn_retarget::plan::Instance;
    use sn_retarget::plan::fit::MisfitError;
    let mut plan = plan.clone();
    let lower: Vec<Vec<u8>> = inputs.iter().map(|(_, d)| d.to_ascii_lowercase()).collect();
    // A whole host: no host-name byte just before it, none (nor a dot and a label) after it.
    let label = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-');
    // After a percent-escape (`%2F`, or `%252F` escaped twice) a host starts anew.
    let escaped_before = |d: &[u8], i: usize| {
        let hex = |k: usize| d[k].is_ascii_hexdigit();
        (i >= 3 && d[i - 3] == b'%' && hex(i - 2) && hex(i - 1))
            || (i >= 5 && d[i - 5] == b'%' && &d[i - 4..i - 2] == b"25" && hex(i - 2) && hex(i - 1))
    };
    let named = |host: &str| {
        lower.iter().any(|d| {
            (0..d.len().saturating_sub(host.len() - 1)).any(|i| {
                let end = i + host.len();
                &d[i..end] == host.as_bytes()
                    && (escaped_before(d, i)
                        || !(i > 0 && (label(d.get(i - 1)) || d[i - 1] == b'.')))
                    && !label(d.get(end))
                    && !(d.get(end) == Some(&b'.') && label(d.get(end + 1)))
            })
        })
    };
    for _ in 0..8 {
        match apply(&plan, inputs, false)
            .map(|_| ())
            .map_err(sn_retarget::Error::into_kind)
        {
            Err(ErrorKind::Misfit(MisfitError::HostNotFound { host, .. })) => {
                assert!(!named(&host), "{host} refused, but the input names it");
                let gone = |s: &String| Instance::parse(s).is_ok_and(|i| i.host() == host);
                plan.sources.retain(|s| !gone(s));
                plan.hosts.retain(|s, _| !gone(s));
            }
            Err(ErrorKind::Misfit(MisfitError::SourcesMerged { hosts, target })) => {
                // Each named as a host, or as a bare name (`<instance_name>dev1</instance_name>`).
                // (a bare name: at least a whole word somewhere)
                let bare = |h: &str| {
                    let n = h.split('.').next().unwrap_or(h).as_bytes();
                    lower.iter().any(|d| {
                        (0..(d.len() + 1).saturating_sub(n.len())).any(|i| {
                            &d[i..i + n.len()] == n
                                && !(i > 0 && d[i - 1].is_ascii_alphanumeric())
                                && !d.get(i + n.len()).is_some_and(u8::is_ascii_alphanumeric)
                        })
                    })
                };
                assert!(
                    hosts.len() > 1 && hosts.iter().all(|h| named(h) || bare(h)),
                    "{hosts:?}"
                );
                for s in std::mem::take(&mut plan.sources) {
                    plan.hosts.insert(s, target.clone());
                }
            }
            _ => return plan,
        }
    }
    panic!("the plan never fits: {plan:?}");
}

/// Generates a case from `data` and checks `apply`'s promises on it.
pub fn check_structured(data: &[u8]) {
    check_case(&generate(data));
}

pub fn check_case(case: &Case) {
    let names: Vec<String> = (0..case.docs.len()).map(|i| format!("in{i}.xml")).collect();
    let inputs: Vec<(&str, &[u8])> = names
        .iter()
        .zip(&case.docs)
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let plan = &fitted(&case.plan, &inputs);
    let before: Vec<Vec<OwnedRecord>> = inputs.iter().map(|(n, d)| records(n, d)).collect();
    let show = || {
        format!(
            "plan: {plan:?}\n{}",
            case.docs
                .iter()
                .map(|d| String::from_utf8_lossy(d).into_owned())
                .collect::<Vec<_>>()
                .join("\n----\n")
        )
    };
    let applied = match apply(plan, &inputs, true) {
        Ok(a) => a,
        Err(e) if matches!(e.kind(), ErrorKind::Plan(_)) => {
            panic!("generated plan refused: {e}\n{}", show())
        }
        Err(e) => panic!("apply failed: {e}\n{}", show()),
    };
    let id_map: BTreeMap<&str, &str> = applied
        .report
        .id_map
        .iter()
        .map(|p| (p.old.as_str(), p.new.as_str()))
        .collect();
    let mut outputs: Vec<(&str, &[u8])> = Vec::new();
    for (k, out) in applied.outputs.iter().enumerate() {
        let (name, input) = inputs[k];
        let out_bytes = out.bytes.as_slice();
        outputs.push((name, out_bytes));
        // Well-formed, the same records, ids through the map.
        let after = records(&format!("output of {name}"), out_bytes);
        assert_eq!(before[k].len(), after.len(), "{name}: records\n{}", show());
        for (b, a) in before[k].iter().zip(&after) {
            assert_eq!(
                (&b.table, b.place, &b.escapings),
                (&a.table, a.place, &a.escapings),
                "{name}: record {} moved\n{}",
                b.index,
                show()
            );
            let expected = b
                .sys_id
                .as_deref()
                .map(|id| id_map.get(id).copied().unwrap_or(id));
            assert_eq!(
                a.sys_id.as_deref(),
                expected,
                "{name}: record {} ({}) sys_id\n{}",
                b.index,
                b.table,
                show()
            );
        }
        // Output = input + the report's edits.
        let mut edits = Edits::new();
        for e in &applied.report.files[k].entries {
            edits.push(Edit::new(e.at, e.new.as_bytes()));
        }
        assert_eq!(
            edits
                .apply_to_vec(input)
                .expect("report edits are disjoint"),
            out_bytes,
            "{name}: output differs from input + report\n{}",
            show()
        );
        assert_eq!(out.edits, applied.report.files[k].entries.len());
        // No secret left.
        if plan.secrets != SecretMode::Keep {
            assert_eq!(
                find_ciphertext(out_bytes),
                None,
                "{name}: ciphertext left\n{}",
                show()
            );
            let text = String::from_utf8_lossy(out_bytes);
            assert!(
                !text.contains(SECRET_MARK),
                "{name}: a secret value left\n{}\n{text}",
                show()
            );
        }
    }
    // What `apply` and `bundle` check after a run finds no source host and no secret left.
    let findings = sn_retarget::apply::check_named(plan, &applied.report, &outputs)
        .unwrap_or_else(|e| panic!("the outputs do not read: {e}\n{}", show()));
    for f in &findings {
        let left = f.rule == "source-host-left"
            || (f.rule == "secret-left" && plan.secrets != SecretMode::Keep);
        assert!(!left, "{}: {}\n{}", f.rule, f.message, show());
    }
    // Idempotent (hosts no longer named are not asked for: they would be refused).
    let mut second = plan.clone();
    let still = |h: &String| {
        sn_retarget::plan::Instance::parse(h)
            .is_ok_and(|i| sn_retarget::plan::fit::names_instance(&outputs_bytes(&outputs), &i))
    };
    second.sources.retain(|h| still(h));
    second.hosts.retain(|h, _| still(h));
    let again = apply(&second, &outputs, true)
        .unwrap_or_else(|e| panic!("the output does not apply: {e}\n{}", show()));
    for (k, file) in again.report.files.iter().enumerate() {
        let left: Vec<_> = file
            .entries
            .iter()
            .filter(|e| !known_second_run_edit(&applied.report.files[k].entries, e))
            .map(|e| (&e.table, &e.field, &e.old, &e.new, e.rule))
            .collect();
        assert!(
            left.is_empty(),
            "{}: second run edits {left:?}\n{}",
            names[k],
            show()
        );
    }
    // Reversible when only ids changed: the map read back reversed restores the input.
    if only_ids(plan) {
        let csv: String = std::iter::once("old,new\n".to_string())
            .chain(
                applied
                    .report
                    .id_map
                    .iter()
                    .map(|p| format!("{},{}\n", p.old, p.new)),
            )
            .collect();
        let reversed = parse_id_map(&csv, true).expect("the report's id map reads");
        assert_eq!(reversed.len(), applied.report.id_map.len());
        for p in &applied.report.id_map {
            assert_eq!(reversed.get(&p.new), Some(&p.old));
        }
        let back = Plan {
            map: reversed,
            secrets: SecretMode::Keep,
            ..Plan::default()
        };
        let restored =
            apply(&back, &outputs, false).unwrap_or_else(|e| panic!("undo: {e}\n{}", show()));
        for (k, o) in restored.outputs.iter().enumerate() {
            assert!(
                o.bytes == case.docs[k],
                "{}: not restored by the reversed map\n{}\n---- restored:\n{}",
                names[k],
                show(),
                String::from_utf8_lossy(&o.bytes)
            );
        }
    }
}

fn outputs_bytes<'a>(outputs: &[(&str, &'a [u8])]) -> Vec<&'a [u8]> {
    outputs.iter().map(|(_, b)| *b).collect()
}
