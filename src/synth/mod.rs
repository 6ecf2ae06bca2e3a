//! A deterministic generator of realistic update sets (and of a scoped application in
//! source-control layout, [`app`]), for benchmarks and fuzz seeds.
//!
//! In: a size in bytes and a seed. Out: an update-set export as ServiceNow writes it: one
//! `sys_remote_update_set` and `sys_update_xml` rows whose payloads are about 80% entity-escaped
//! (those carrying CDATA scripts) and 20% CDATA, with scripts holding hard-coded sys_ids and
//! instance URLs, reference fields, URL fields and ciphertext-shaped secrets; about 82% of the
//! bytes sit inside payloads. The same size and seed always give the same bytes.
//!
//! ```
//! use sn_retarget::synth::{update_set, SOURCE_HOST};
//! let a = update_set(50_000, 7);
//! assert_eq!(a, update_set(50_000, 7));
//! assert!(a.len() >= 50_000);
//! assert!(String::from_utf8(a).unwrap().contains(SOURCE_HOST));
//! ```

use std::fmt::Write;

mod app;

pub use app::{APP_NAMESPACE, app};

/// The instance the generated exports come from.
pub const SOURCE_HOST: &str = "dev12345.service-now.com";

/// A small, fast, deterministic PRNG (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A sys_id: 32 lowercase hex digits.
    pub fn sys_id(&mut self) -> String {
        format!("{:016x}{:016x}", self.next_u64(), self.next_u64())
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

const WORDS: [&str; 16] = [
    "current",
    "gr",
    "query",
    "next",
    "update",
    "incident",
    "state",
    "var",
    "function",
    "return",
    "GlideRecord",
    "addQuery",
    "result",
    "payload",
    "request",
    "response",
];

/// A script body of about `len` bytes with sys_ids, instance URLs and characters that need
/// escaping (`<`, `&&`, `>`).
fn script(rng: &mut Rng, len: usize, ids: &[String]) -> String {
    let mut s = String::with_capacity(len + 200);
    s.push_str("(function executeRule(current, previous) {\n");
    while s.len() < len {
        match rng.below(6) {
            0 => {
                let id = &ids[rng.below(ids.len() as u64) as usize];
                let _ = writeln!(
                    s,
                    "    var ref = new GlideRecord('sys_user'); ref.get('{id}');"
                );
            }
            1 => {
                let id = &ids[rng.below(ids.len() as u64) as usize];
                let _ = writeln!(
                    s,
                    "    var link = 'https://{SOURCE_HOST}/nav_to.do?uri=incident.do?sys_id={id}';"
                );
            }
            2 => {
                let _ = writeln!(
                    s,
                    "    if (count < limit && state > 2) {{ gs.info('next'); }}"
                );
            }
            _ => {
                s.push_str("    ");
                for _ in 0..8 {
                    s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
                    s.push(if rng.below(3) == 0 { '.' } else { ' ' });
                }
                s.push_str(";\n");
            }
        }
    }
    s.push_str("})(current, previous);");
    s
}

fn cipher(rng: &mut Rng) -> String {
    format!(
        "\u{FDDE}\u{FDDF}\u{FDD2}7d2c1f0a9b8e4d3c2b1a0f9e8d7c6b5a\u{FDEC}\u{FDD4}1\u{FDEC}\u{FDED}{:016x}{:016x}==\u{FDEE}\u{FDEF}",
        rng.next_u64(),
        rng.next_u64()
    )
}

/// The inner record of one update: table name, sys_id and the `<record_update>` document.
/// `script_cdata`: the script is wrapped in CDATA (then the payload must be escaped), or
/// written as escaped text (then the payload can be CDATA).
fn inner_record(
    rng: &mut Rng,
    kind: u64,
    id: &str,
    ids: &[String],
    script_cdata: bool,
) -> (&'static str, String) {
    let decl = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
    let common = format!(
        "<sys_class_name>{{t}}</sys_class_name><sys_created_by>admin</sys_created_by><sys_created_on>2024-03-01 10:00:00</sys_created_on><sys_id>{id}</sys_id><sys_mod_count>2</sys_mod_count><sys_name>Generated {id}</sys_name><sys_package display_value=\"Generated App\" source=\"x_gen_app\">a1b2c3d4e5f60718293a4b5c6d7e8f90</sys_package><sys_policy/><sys_scope display_value=\"Generated App\">a1b2c3d4e5f60718293a4b5c6d7e8f90</sys_scope><sys_update_name>{{t}}_{id}</sys_update_name><sys_updated_by>admin</sys_updated_by><sys_updated_on>2024-03-01 10:00:00</sys_updated_on>"
    );
    let other = &ids[rng.below(ids.len() as u64) as usize];
    let (table, body) = match kind {
        0 => (
            "sys_rest_message",
            format!(
                "<access>package_private</access><authentication_type>oauth2</authentication_type><basic_auth_password/><description>Calls {SOURCE_HOST}</description><name>REST {id}</name><oauth2_profile display_value=\"Integration Account\">{other}</oauth2_profile><rest_endpoint>https://{SOURCE_HOST}/api/now/table/incident</rest_endpoint>"
            ),
        ),
        1 => (
            "oauth_entity",
            format!(
                "<access_token_lifespan>1800</access_token_lifespan><active>true</active><client_id>{}</client_id><client_secret>{}</client_secret><name>OAuth {id}</name><redirect_url>https://{SOURCE_HOST}/oauth_redirect.do</redirect_url><token_url>https://{SOURCE_HOST}/oauth_token.do</token_url><type>oauth_provider</type>",
                rng.sys_id(),
                cipher(rng)
            ),
        ),
        2 => (
            "sys_properties",
            format!(
                "<description>Secret for {SOURCE_HOST}</description><name>x_gen_app.secret.{id}</name><type>password2</type><value>)pR#{:016x}{:016x}{:016x}</value>",
                rng.next_u64(),
                rng.next_u64(),
                rng.next_u64()
            ),
        ),
        _ => ("sys_script_include", String::new()),
    };
    let common = common.replace("{t}", table);
    let script_len = 3000 + rng.below(3500) as usize;
    let code = script(rng, script_len, ids);
    let code = if script_cdata {
        format!("<![CDATA[{code}]]>")
    } else {
        escape(&code)
    };
    let doc = format!(
        "{decl}<record_update table=\"{table}\"><{table} action=\"INSERT_OR_UPDATE\">{body}<script>{code}</script>{common}</{table}><sys_translated_text action=\"delete_multiple\" query=\"documentkey={id}\"/></record_update>"
    );
    (table, doc)
}

/// An update set of at least `target_bytes` bytes (one row more than needed), from `seed`.
pub fn update_set(target_bytes: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let set_id = rng.sys_id();
    // A pool of ids that scripts and references point at (some defined, some not).
    let pool: Vec<String> = (0..64).map(|_| rng.sys_id()).collect();
    let mut out = String::with_capacity(target_bytes + 16 * 1024);
    out.push_str(
        r#"<?xml version="1.0" encoding="UTF-8"?><unload unload_date="2024-03-01 10:06:00">"#,
    );
    out.push('\n');
    let _ = write!(
        out,
        "<sys_remote_update_set action=\"INSERT_OR_UPDATE\">\n<application display_value=\"Generated App\">a1b2c3d4e5f60718293a4b5c6d7e8f90</application>\n<application_name>Generated App</application_name>\n<application_scope>x_gen_app</application_scope>\n<name>Generated set</name>\n<remote_sys_id>{}</remote_sys_id>\n<state>loaded</state>\n<sys_id>{set_id}</sys_id>\n</sys_remote_update_set>\n",
        rng.sys_id()
    );
    let mut n = 0u64;
    while out.len() < target_bytes {
        n += 1;
        let row_id = rng.sys_id();
        let id = rng.sys_id();
        let kind = rng.below(4);
        // About one row in five is a CDATA payload (its script written as escaped text); the
        // others carry a CDATA script, so their payload is entity-escaped, as ServiceNow does.
        let cdata_payload = n % 5 == 0;
        let (table, doc) = inner_record(&mut rng, kind, &id, &pool, !cdata_payload);
        let payload = if cdata_payload {
            format!("<payload><![CDATA[{doc}]]></payload>")
        } else {
            format!("<payload>{}</payload>", escape(&doc))
        };
        let _ = write!(
            out,
            "<sys_update_xml action=\"INSERT_OR_UPDATE\">\n<action>INSERT_OR_UPDATE</action>\n<application display_value=\"Generated App\">a1b2c3d4e5f60718293a4b5c6d7e8f90</application>\n<category>customer</category>\n<comments/>\n<name>{table}_{id}</name>\n{payload}\n<payload_hash>-619646396</payload_hash>\n<remote_update_set display_value=\"Generated set\">{set_id}</remote_update_set>\n<replace_on_upgrade>false</replace_on_upgrade>\n<sys_created_by>admin</sys_created_by>\n<sys_created_on>2024-03-01 10:00:00</sys_created_on>\n<sys_id>{row_id}</sys_id>\n<sys_mod_count>0</sys_mod_count>\n<sys_recorded_at>185b996c6870000001</sys_recorded_at>\n<sys_updated_by>admin</sys_updated_by>\n<sys_updated_on>2024-03-01 10:00:00</sys_updated_on>\n<table/>\n<target_name>Generated {n}</target_name>\n<type>Script Include</type>\n<update_domain>global</update_domain>\n<update_guid>{id}</update_guid>\n<update_guid_history>{id}:-619646396</update_guid_history>\n<update_set display_value=\"\"/>\n<view/>\n</sys_update_xml>\n"
        );
    }
    out.push_str("</unload>\n");
    out.into_bytes()
}

/// `count` small record exports (one to three records each, 1-6 KB), as `(file name, bytes)`,
/// from `seed`: the shape of a folder of thousands of exports. Some reference records of other
/// files, so that the batch has an import order to find.
///
/// ```
/// use sn_retarget::synth::small_exports;
/// let files = small_exports(10, 3);
/// assert_eq!(files.len(), 10);
/// assert_eq!(files, small_exports(10, 3));
/// ```
pub fn small_exports(count: usize, seed: u64) -> Vec<(String, Vec<u8>)> {
    let mut rng = Rng::new(seed);
    let pool: Vec<String> = (0..64).map(|_| rng.sys_id()).collect();
    let mut defined: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let mut doc = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload unload_date=\"2024-03-01 10:06:00\">\n",
        );
        let records = 1 + rng.below(3);
        for _ in 0..records {
            let id = rng.sys_id();
            let kind = rng.below(4);
            let (table, inner) = inner_record(&mut rng, kind, &id, &pool, true);
            // The record of the payload document, as a record export writes it.
            let start = inner.find(&format!("<{table} ")).unwrap_or(0);
            let end = inner
                .rfind(&format!("</{table}>"))
                .map_or(inner.len(), |e| e + table.len() + 3);
            doc.push_str(&inner[start..end]);
            if let Some(other) = defined.get(rng.below(defined.len().max(1) as u64) as usize) {
                doc.truncate(doc.len() - (table.len() + 3));
                let _ = write!(
                    doc,
                    "<parent display_value=\"Generated\">{other}</parent></{table}>"
                );
            }
            doc.push('\n');
            defined.push(id);
        }
        doc.push_str("</unload>\n");
        out.push((format!("export_{i:05}.xml"), doc.into_bytes()));
    }
    out
}
