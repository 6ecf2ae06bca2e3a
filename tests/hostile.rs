//! Hostile and unusual spellings through the command line (issue 17): secrets written with
//! character references at any depth, masking everywhere, `--set` on a secret, names in any
//! case, dictionaries anywhere in the input, plaintext secrets named like secrets, JSON and
//! query strings holding secrets.
//!
//! Every case fails closed: the output holds no secret, or the run stops with exit 2, names
//! what it found, and writes nothing. No secret value ever reaches standard output or error.

use crate::support::{folder_of, sn, tmp, xml_escaped};

/// The secret's characters: none of them may be shown or written.
const SECRET: &str = "Sup3rS3cr3tValue";

/// `<unload>` around `records`.
fn unload(records: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload unload_date=\"2024-05-01 10:00:00\">\n{records}\n</unload>\n"
    )
}

/// An update set row whose payload (entity-escaped) is `inner` (wrapped in a
/// `<record_update>` unless it is one).
fn escaped_row(inner: &str, id: &str) -> String {
    let inner = match inner.starts_with("<record_update") {
        true => inner.to_string(),
        false => format!("<record_update table=\"x_t\">{inner}</record_update>"),
    };
    let escaped = xml_escaped(&inner);
    format!(
        "<sys_update_xml action=\"INSERT_OR_UPDATE\"><name>x_t_{id}</name><payload>{escaped}</payload><sys_id>{id}</sys_id></sys_update_xml>"
    )
}

fn record(table: &str, field: &str, value: &str, id: &str) -> String {
    format!(
        "<{table} action=\"INSERT_OR_UPDATE\"><name>Rec {id}</name><{field}>{value}</{field}><sys_id>{id}</sys_id></{table}>"
    )
}

const ID1: &str = "0123456789abcdef0123456789abcd01";
const ID2: &str = "0123456789abcdef0123456789abcd02";
const ID3: &str = "0123456789abcdef0123456789abcd03";

/// Ciphertext spelled with character references, as ElementTree writes it with
/// `encoding="us-ascii"`: the KMF framing, then base64.
fn kmf_refs(decimal: bool) -> String {
    let frame = |c: u32| {
        if decimal {
            format!("&#{c};")
        } else {
            format!("&#x{c:X};")
        }
    };
    format!(
        "{}{}{}0123abcd{SECRET}{}{}",
        frame(0xFDDE),
        frame(0xFDDF),
        frame(0xFDD2),
        frame(0xFDEE),
        frame(0xFDEF)
    )
}

/// Every spelling of ciphertext in an unknown column (no rule names it), at the top level and
/// one and two payloads down: `apply` and `bundle` replace it, `inspect` lists it, `check`
/// flags it without showing it.
#[test]
fn ciphertext_in_character_references_is_found_at_every_depth() {
    let pr_hash = format!(")pR&#35;{SECRET}c2Vj");
    let pr_paren = format!("&#41;pR#{SECRET}c2Vj");
    let spellings = [kmf_refs(true), kmf_refs(false), pr_hash, pr_paren];
    for (k, value) in spellings.iter().enumerate() {
        let top = record("x_t", "u_blob", value, ID1);
        let one = escaped_row(&record("x_t", "u_blob", value, ID2), ID3);
        // Two payloads down: a row whose payload holds a row whose payload holds the record.
        let two = escaped_row(
            &format!(
                "<record_update table=\"sys_update_xml\">{}</record_update>",
                escaped_row(&record("x_t", "u_blob", value, ID1), ID2)
            ),
            ID3,
        );
        for (depth, records) in [(0, top), (1, one), (2, two)] {
            let what = format!("cref-{k}-{depth}");
            let d = folder_of(&what, &[("in.xml", &unload(&records))]);
            let input = d.join("in.xml");
            let out = d.join("out.xml");
            let ran = sn(&[&"apply", &input, &"--out", &out]);
            assert_eq!(ran.code, Some(0), "{what}: {}", ran.all());
            let written = std::fs::read_to_string(&out).unwrap();
            assert!(
                written.contains("SN-RETARGET-SECRET(x_t.u_blob:"),
                "{what}: {written}"
            );
            assert!(!written.contains(SECRET), "{what}: secret left: {written}");
            assert!(
                ran.stderr.contains("1 secret(s) to re-enter"),
                "{what}: {}",
                ran.stderr
            );
            assert!(!ran.all().contains(SECRET), "{what}: shown");

            let ran = sn(&[&"inspect", &input, &"--json"]);
            assert_eq!(ran.code, Some(0), "{what}: {}", ran.all());
            assert!(
                ran.stdout.contains("\"field\":\"u_blob\""),
                "{what}: {}",
                ran.stdout
            );
            assert!(!ran.all().contains(SECRET), "{what}: shown by inspect");

            let ran = sn(&[&"check", &input]);
            assert_eq!(ran.code, Some(1), "{what}: {}", ran.all());
            assert!(ran.stdout.contains("secret-left"), "{what}: {}", ran.stdout);
            assert!(
                !ran.all().contains(SECRET),
                "{what}: shown by check: {}",
                ran.stdout
            );

            let bundle = d.join("bundle");
            let ran = sn(&[&"bundle", &input, &"--out", &bundle, &"--quiet"]);
            assert_eq!(ran.code, Some(0), "{what}: {}", ran.all());
            let checklist = std::fs::read_to_string(bundle.join("CHECKLIST.md")).unwrap();
            assert!(checklist.contains("u_blob"), "{what}: {checklist}");
        }
    }
}

/// Ciphertext where no record reads it (a malformed payload passes through as text) stops
/// `apply` and `bundle`: exit 2, nothing written.
#[test]
fn ciphertext_in_references_no_record_reads_is_refused() {
    let malformed = format!(
        "<sys_update_xml action=\"INSERT_OR_UPDATE\"><name>x</name><payload>&lt;record_update&gt;&lt;x_t&gt;&lt;u_blob&gt;{}&lt;/x_t&gt;</payload><sys_id>{ID1}</sys_id></sys_update_xml>",
        kmf_refs(false).replace('&', "&amp;")
    );
    let d = folder_of("cref-malformed", &[("in.xml", &unload(&malformed))]);
    let out = d.join("out.xml");
    let ran = sn(&[&"apply", &d.join("in.xml"), &"--out", &out]);
    assert_eq!(ran.code, Some(2), "{}", ran.all());
    assert!(ran.stderr.contains("ciphertext left"), "{}", ran.stderr);
    assert!(!out.exists());
    let bundle = d.join("bundle");
    let ran = sn(&[&"bundle", &d.join("in.xml"), &"--out", &bundle, &"--quiet"]);
    assert_eq!(ran.code, Some(2), "{}", ran.all());
    assert!(!bundle.exists());
    assert!(!ran.all().contains(SECRET));
}

/// Snippets never show a secret: not two payloads down (`&amp;lt;password&amp;gt;`), not in a
/// column declared with `--secret-field` that holds a syntax error, not in any letter case.
#[test]
fn snippets_mask_secrets_at_any_depth_and_declared_columns() {
    // A secret-left finding on a line that holds a password two payloads down.
    let inner = format!(
        "<record_update table=\"sys_update_xml\">{}</record_update>",
        escaped_row(
            &record("sys_auth_profile_basic", "password", SECRET, ID1),
            ID2
        )
    );
    let d = folder_of(
        "mask-depth",
        &[("in.xml", &unload(&escaped_row(&inner, ID3)))],
    );
    let ran = sn(&[&"check", &d.join("in.xml")]);
    assert_eq!(ran.code, Some(1), "{}", ran.all());
    assert!(
        ran.stdout.contains("  | "),
        "a snippet is shown: {}",
        ran.stdout
    );
    assert!(!ran.all().contains(SECRET), "{}", ran.stdout);

    // A syntax error on the line of a column only the plan knows to be secret.
    let broken = format!(
        "<?xml version=\"1.0\"?>\n<unload><x_t action=\"INSERT_OR_UPDATE\"><u_pin>{SECRET}</u_pin><name>a & b</name></x_t></unload>\n"
    );
    let d = folder_of("mask-declared", &[("in.xml", &broken)]);
    let out = d.join("out.xml");
    let ran = sn(&[
        &"apply",
        &d.join("in.xml"),
        &"--secret-field",
        &"x_t.u_pin",
        &"--out",
        &out,
    ]);
    assert_eq!(ran.code, Some(2), "{}", ran.all());
    assert!(ran.stderr.contains("in.xml:2:"), "{}", ran.stderr);
    assert!(ran.stderr.contains("  | "), "{}", ran.stderr);
    assert!(!ran.all().contains(SECRET), "{}", ran.stderr);

    // Upper-case tags of a known secret column.
    let broken = format!(
        "<?xml version=\"1.0\"?>\n<unload><x_t action=\"INSERT_OR_UPDATE\"><CLIENT_SECRET>{SECRET}</CLIENT_SECRET><name>a & b</name></x_t></unload>\n"
    );
    let d = folder_of("mask-case", &[("in.xml", &broken)]);
    let ran = sn(&[&"inspect", &d.join("in.xml")]);
    assert_eq!(ran.code, Some(2), "{}", ran.all());
    assert!(!ran.all().contains(SECRET), "{}", ran.stderr);
}

/// `--set` on a secret column is refused with the reason, never silently replaced by a
/// placeholder; with `--secrets keep` it sets the value.
#[test]
fn set_on_a_secret_says_what_it_did() {
    let text = unload(&record("oauth_entity", "client_secret", SECRET, ID1));
    let d = folder_of("set-secret", &[("in.xml", &text)]);
    let out = d.join("out.xml");
    let ran = sn(&[
        &"apply",
        &d.join("in.xml"),
        &"--set",
        &"oauth_entity.client_secret=new-value",
        &"--out",
        &out,
    ]);
    assert_eq!(ran.code, Some(2), "{}", ran.all());
    assert!(
        ran.stderr.contains("--set oauth_entity.client_secret") && ran.stderr.contains("secret"),
        "{}",
        ran.stderr
    );
    assert!(!out.exists());
    assert!(!ran.all().contains(SECRET));
    let ran = sn(&[
        &"apply",
        &d.join("in.xml"),
        &"--set",
        &"oauth_entity.client_secret=new-value",
        &"--secrets",
        &"keep",
        &"--out",
        &out,
    ]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains(">new-value<")
    );
}

/// A dictionary declaring a password2 column (type in any case) makes it secret in every file,
/// whatever the order: `inspect`, `apply` and `check` alike.
#[test]
fn dictionary_columns_count_wherever_they_sit() {
    let data = unload(&record("x_t", "u_code", SECRET, ID1));
    let dictionary = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<database>\n<element label=\"T\" name=\"x_t\" type=\"collection\">\n<element label=\"Code\" max_length=\"255\" name=\"u_code\" type=\"PassWord2\"/>\n</element>\n</database>\n";
    // `a_` sorts first: the data comes before the dictionary that declares its column.
    let d = folder_of(
        "dict-order",
        &[("a_data.xml", &data), ("z_dict.xml", dictionary)],
    );
    let ran = sn(&[&"inspect", &d, &"--json"]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert!(
        ran.stdout.contains("\"field\":\"u_code\""),
        "{}",
        ran.stdout
    );
    let ran = sn(&[&"check", &d]);
    assert_eq!(ran.code, Some(1), "{}", ran.all());
    assert!(ran.stdout.contains("x_t.u_code"), "{}", ran.stdout);
    let out = tmp("dict-order-out");
    let out = out.join("o");
    let ran = sn(&[&"apply", &d, &"--out", &out]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let written = std::fs::read_to_string(out.join("a_data.xml")).unwrap();
    assert!(!written.contains(SECRET), "{written}");
    assert!(!ran.all().contains(SECRET));
}

/// An update set shaped like the strip-secrets fixture of the strongest peer (TenonHQ/Dovetail):
/// a password2 property, a string property holding an API key, a plaintext client secret, a
/// JSON setting holding a client secret, a harmless script.
fn peer_update_set() -> String {
    let rows = [
        (
            "sys_properties",
            "<name>x_app.email_builder_cs</name><type>password2</type><value>PEER-PW2-VALUE</value>",
        ),
        (
            "sys_properties",
            "<name>x_app.google_translate_api_key</name><type>string</type><value>PEER-APIKEY-VALUE</value>",
        ),
        (
            "oauth_entity",
            "<client_id>peer-client-id</client_id><client_secret>PEER-CLIENT-SECRET</client_secret><name>Incoming Messages Webhook</name>",
        ),
        (
            "x_app_setting",
            "<name>x_app.integration.config</name><value>{\"endpoint\":\"https://example.invalid/api\",\"client_secret\":\"PEER-BLOB-SECRET\",\"retries\":3}</value>",
        ),
        (
            "sys_script_include",
            "<api_name>x_app.SettingsMS</api_name><name>SettingsMS</name><script>var x = 1; // nothing secret here</script>",
        ),
    ];
    let mut out = String::new();
    for (k, (table, fields)) in rows.iter().enumerate() {
        let id = format!("{:032x}", 0xabc0 + k);
        let row_id = format!("{:032x}", 0xdef0 + k);
        let inner = format!(
            "<record_update table=\"{table}\"><{table} action=\"INSERT_OR_UPDATE\">{fields}<sys_id>{id}</sys_id></{table}></record_update>"
        );
        out.push_str(&escaped_row(&inner, &row_id));
        out.push('\n');
    }
    unload(&out)
}

const PEER_SECRETS: [&str; 4] = [
    "PEER-PW2-VALUE",
    "PEER-APIKEY-VALUE",
    "PEER-CLIENT-SECRET",
    "PEER-BLOB-SECRET",
];

/// The peer's fixture: the API-key property stops the run (named, nothing written) until the
/// plan declares it; then all four secrets are replaced, the JSON stays valid, and the
/// checklist lists the JSON key by its path. Declared not secret, with a reason, it stays.
#[test]
fn plaintext_secrets_of_the_peer_fixture_are_all_caught() {
    let d = folder_of("peer", &[("set.xml", &peer_update_set())]);
    let input = d.join("set.xml");
    let out = d.join("out.xml");
    let ran = sn(&[&"apply", &input, &"--out", &out]);
    assert_eq!(ran.code, Some(2), "{}", ran.all());
    assert!(
        ran.stderr
            .contains("sys_properties[name=x_app.google_translate_api_key].value"),
        "{}",
        ran.stderr
    );
    assert!(!out.exists());
    for secret in PEER_SECRETS {
        assert!(!ran.all().contains(secret), "{secret} shown");
    }
    let ran = sn(&[&"check", &input]);
    assert_eq!(ran.code, Some(1));
    assert_eq!(
        ran.stdout.matches("secret-left").count(),
        4,
        "{}",
        ran.stdout
    );

    let bundle = d.join("bundle");
    let ran = sn(&[
        &"bundle",
        &input,
        &"--secret-field",
        &"sys_properties[name=x_app.google_translate_api_key].value",
        &"--out",
        &bundle,
    ]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert!(
        ran.stderr.contains("4 secret(s) to re-enter"),
        "{}",
        ran.stderr
    );
    let written = std::fs::read_to_string(bundle.join("01_set.xml")).unwrap();
    for secret in PEER_SECRETS {
        assert!(!written.contains(secret), "{secret} left");
    }
    assert!(written.contains("var x = 1; // nothing secret here"));
    // The JSON value is still JSON, its other keys as they were.
    let applied = sn(&[
        &"apply",
        &input,
        &"--secret-field",
        &"sys_properties[name=x_app.google_translate_api_key].value",
        &"--out",
        &out,
    ]);
    assert_eq!(applied.code, Some(0), "{}", applied.all());
    let inspect = sn(&[&"inspect", &out, &"--json"]);
    let v: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
    let records = v["files"][0]["records"].as_array().unwrap();
    assert!(records.iter().any(|r| r["table"] == "x_app_setting"));
    let text = std::fs::read_to_string(&out).unwrap();
    let setting = text
        .lines()
        .find(|l| l.contains("integration.config"))
        .unwrap();
    let value = setting
        .split("&lt;value&gt;")
        .nth(1)
        .unwrap()
        .split("&lt;/value&gt;")
        .next()
        .unwrap()
        .replace("&amp;quot;", "\"")
        .replace("&quot;", "\"");
    let json: serde_json::Value =
        serde_json::from_str(&value).unwrap_or_else(|e| panic!("{value}: {e}"));
    assert_eq!(json["retries"], 3);
    assert_eq!(json["endpoint"], "https://example.invalid/api");
    assert!(
        json["client_secret"]
            .as_str()
            .unwrap()
            .starts_with("SN-RETARGET-SECRET(")
    );
    let checklist = std::fs::read_to_string(bundle.join("CHECKLIST.md")).unwrap();
    assert!(checklist.contains("value > client_secret"), "{checklist}");

    // Declared not secret (with a reason): kept, and the run goes on.
    let ran = sn(&[
        &"apply",
        &input,
        &"--not-secret",
        &"sys_properties[name=x_app.google_translate_api_key].value=a test key with no rights",
        &"--out",
        &d.join("kept.xml"),
    ]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let kept = std::fs::read_to_string(d.join("kept.xml")).unwrap();
    assert!(kept.contains("PEER-APIKEY-VALUE"));
    assert!(
        ran.stderr.contains("3 secret(s) to re-enter"),
        "{}",
        ran.stderr
    );
    // Without a reason: refused.
    let ran = sn(&[
        &"apply",
        &input,
        &"--not-secret",
        &"sys_properties[name=x_app.google_translate_api_key].value=",
        &"--out",
        &d.join("noreason.xml"),
    ]);
    assert_eq!(ran.code, Some(2), "{}", ran.all());
    assert!(ran.stderr.contains("reason"), "{}", ran.stderr);
}

/// Names that look secret in any table stop the run; names that only describe a secret
/// (`token_url`, `access_token_lifespan`...) do not; a secret in a query string is replaced in
/// place.
#[test]
fn fields_named_like_secrets_stop_and_query_strings_are_cleaned() {
    let described = format!(
        "<oauth_entity action=\"INSERT_OR_UPDATE\"><name>P</name><token_url>https://x.example/oauth_token.do</token_url><access_token_lifespan>1800</access_token_lifespan><token_format>opaque</token_format><send_client_credentials_as>basic</send_client_credentials_as><sys_id>{ID1}</sys_id></oauth_entity>"
    );
    let d = folder_of("named-ok", &[("in.xml", &unload(&described))]);
    let ran = sn(&[&"apply", &d.join("in.xml"), &"--out", &d.join("o.xml")]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());

    let named = record("x_t", "u_Slack_Token", SECRET, ID2);
    let d = folder_of("named-stop", &[("in.xml", &unload(&named))]);
    let ran = sn(&[&"apply", &d.join("in.xml"), &"--out", &d.join("o.xml")]);
    assert_eq!(ran.code, Some(2), "{}", ran.all());
    assert!(ran.stderr.contains("x_t.u_Slack_Token"), "{}", ran.stderr);
    assert!(!d.join("o.xml").exists());
    assert!(!ran.all().contains(SECRET));

    let url = format!("https://hooks.example/cb?state=1&amp;client_secret={SECRET}&amp;x=2");
    let query = record("x_t", "u_callback", &url, ID3);
    let d = folder_of("query", &[("in.xml", &unload(&query))]);
    let out = d.join("o.xml");
    let ran = sn(&[&"apply", &d.join("in.xml"), &"--out", &out]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(!written.contains(SECRET), "{written}");
    assert!(
        written.contains(
            "state=1&amp;client_secret=SN-RETARGET-SECRET(x_t.u_callback/?client_secret:"
        ),
        "{written}"
    );
}

/// Mixed-case and percent-encoded instance URLs, and a bare instance name in capitals, are
/// rewritten (their encoding kept), listed by `inspect` under their real host, and nothing of
/// the source is left.
#[test]
fn hosts_in_every_spelling_are_rewritten_and_listed() {
    let entity = format!(
        "<oauth_entity action=\"INSERT_OR_UPDATE\"><name>P</name><auth_url>https://Dev1.Service-Now.com/oauth_auth.do</auth_url><token_url>HTTPS://DEV1.SERVICE-NOW.COM/oauth_token.do</token_url><redirect_url>https://x.example/cb?redirect_uri=https%3A%2F%2Fdev1.service-now.com%2Foauth_redirect.do&amp;u=https%253A%252F%252Fdev1.service-now.com</redirect_url><sys_id>{ID1}</sys_id></oauth_entity><sn_se_instance action=\"INSERT_OR_UPDATE\"><instance_name>DEV1</instance_name><name>Dev</name><url>https://dev1.service-now.com</url><sys_id>{ID2}</sys_id></sn_se_instance>"
    );
    let d = folder_of("hosts-spelling", &[("in.xml", &unload(&entity))]);
    let ran = sn(&[&"inspect", &d.join("in.xml"), &"--json"]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    let hosts: Vec<&str> = v["files"][0]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["dev1.service-now.com"], "{}", ran.stdout);
    assert_eq!(v["files"][0]["hosts"][0]["count"], 6, "{}", ran.stdout);

    let out = d.join("out.xml");
    let ran = sn(&[
        &"apply",
        &d.join("in.xml"),
        &"--source",
        &"dev1",
        &"--target",
        &"acme",
        &"--out",
        &out,
    ]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(!written.to_ascii_lowercase().contains("dev1"), "{written}");
    for kept in [
        "https://acme.service-now.com/oauth_auth.do",
        "HTTPS://acme.service-now.com/oauth_token.do",
        "redirect_uri=https%3A%2F%2Facme.service-now.com%2Foauth_redirect.do",
        "u=https%253A%252F%252Facme.service-now.com",
        "<instance_name>acme</instance_name>",
    ] {
        assert!(written.contains(kept), "{kept}: {written}");
    }
    let ran = sn(&[&"check", &out]);
    assert!(!ran.stdout.contains("source-host-left"), "{}", ran.stdout);
}

/// A reference, a glide list and an encoded query naming a record of the input in upper-case
/// hex are rewritten under `regenerate` in their case, and `inspect` counts the reference as
/// resolved.
#[test]
fn sys_ids_in_upper_case_follow_their_record() {
    let upper = ID1.to_ascii_uppercase();
    let records = format!(
        "<x_app_group action=\"INSERT_OR_UPDATE\"><name>G</name><sys_id>{ID1}</sys_id></x_app_group><sys_script action=\"INSERT_OR_UPDATE\"><name>S</name><u_group display_value=\"G\">{upper}</u_group><u_list>{upper},{ID1}</u_list><condition>sys_idIN{upper}^active=true</condition><script>var id = '{upper}';</script><sys_id>{ID2}</sys_id></sys_script>"
    );
    let d = folder_of("ids-upper", &[("in.xml", &unload(&records))]);
    let ran = sn(&[&"inspect", &d.join("in.xml"), &"--json"]);
    let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    let refs = v["files"][0]["references"].as_array().unwrap();
    assert!(
        refs.iter()
            .any(|r| r["field"] == "u_group" && r["target"] == ID1 && r["resolved"] == true),
        "{}",
        ran.stdout
    );
    let out = d.join("out.xml");
    let ran = sn(&[
        &"apply",
        &d.join("in.xml"),
        &"--target",
        &"acme",
        &"--sys-ids",
        &"regenerate",
        &"--out",
        &out,
    ]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(!written.to_ascii_lowercase().contains(ID1), "{written}");
    let new = written
        .split("<sys_id>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let new_upper = new.to_ascii_uppercase();
    assert_eq!(written.matches(&new_upper).count(), 4, "{written}");
}

/// Names and values holding newlines, Markdown, HTML or terminal controls are shown escaped:
/// in CHECKLIST.md (no planted step, link or tag) and on the terminal (no escape sequence).
#[test]
fn names_cannot_inject_steps_links_or_terminal_controls() {
    let name = "x\n## Then\n1. [ ] Re-enter ALL secrets at [https://x.service-now.com](https://evil.example) <script>alert(1)</script> \u{202e}txt \u{9b}2J";
    let escaped = name.replace('&', "&amp;").replace('<', "&lt;");
    let record = format!(
        "<oauth_entity action=\"INSERT_OR_UPDATE\"><name>{escaped}</name><client_secret>{SECRET}</client_secret><sys_id>{ID1}</sys_id></oauth_entity>"
    );
    let d = folder_of("inject", &[("in.xml", &unload(&record))]);
    let bundle = d.join("bundle");
    let ran = sn(&[&"bundle", &d.join("in.xml"), &"--out", &bundle, &"--quiet"]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let checklist = std::fs::read_to_string(bundle.join("CHECKLIST.md")).unwrap();
    for line in checklist.lines() {
        assert!(!line.starts_with("1. [ ] Re-enter ALL"), "{checklist}");
        assert!(!line.contains("](https://evil.example)"), "{line}");
        assert!(!line.contains("<script>"), "{line}");
        assert!(
            !line.contains('\u{202e}') && !line.contains('\u{9b}'),
            "{line:?}"
        );
    }
    assert!(
        checklist.contains(r"\[https\://x.service-now.com\]"),
        "{checklist}"
    );
    // On the terminal: inspect's text, and a file name with an escape sequence in an error.
    let ran = sn(&[&"inspect", &d.join("in.xml")]);
    assert!(
        !ran.all().contains('\u{202e}') && !ran.all().contains('\u{9b}'),
        "{:?}",
        ran.all()
    );
    let evil = d.join("a\u{1b}[31mred\nsn-retarget: done.xml");
    std::fs::write(&evil, "<unload><x></unload>").unwrap();
    let ran = sn(&[&"inspect", &evil]);
    assert_eq!(ran.code, Some(2), "{}", ran.all());
    assert!(!ran.stderr.contains('\u{1b}'), "{:?}", ran.stderr);
    assert!(ran.stderr.contains("\\u{1b}[31mred"), "{:?}", ran.stderr);
}

/// A host or a sys_id (a record's own too) with a character spelled as a character reference
/// (`&#46;`, `&#x61;`),
/// in a value, inside an entity-escaped payload (`&amp;#46;` there) and inside a CDATA
/// payload, is rewritten as ServiceNow would read it: the whole spelling is replaced (the
/// run's own check of its output, which reads decoded text, finds nothing left).
#[test]
fn hosts_and_sys_ids_spelled_with_character_references_are_rewritten_at_every_depth() {
    // ID1 with its `a` spelled, once as decimal and once as hex.
    let id1_spelled = ID1.replacen('a', "&#97;", 1);
    let script = format!(
        "<sys_script><name>S</name><script>var u = 'https://dev1&#46;service-now.com/x.do'; var g = '{id1_spelled}';</script><sys_id>{ID2}</sys_id></sys_script>"
    );
    let cdata_inner = format!(
        "<record_update table=\"sys_script\"><sys_script><name>C</name><script>var u = 'https://&#100;ev1.service-now.com/y.do'; var g = '{}';</script><sys_id>{ID3}</sys_id></sys_script></record_update>",
        ID1.replacen('a', "&#x61;", 1)
    );
    let records = format!(
        "<x_app_group action=\"INSERT_OR_UPDATE\"><name>G</name><sys_id>{}</sys_id></x_app_group>\
         <sys_properties action=\"INSERT_OR_UPDATE\"><name>p</name><u_group>{ID1}</u_group><value>https://dev1&#x2E;service-now.com/z.do</value><sys_id>0123456789abcdef0123456789abcd04</sys_id></sys_properties>\
         <sys_properties action=\"INSERT_OR_UPDATE\"><name>q</name><value>https://dev1.service-now.com/plain.do</value><sys_id>0123456789abcdef0123456789abcd05</sys_id></sys_properties>\
         {}\
         <sys_update_xml action=\"INSERT_OR_UPDATE\"><name>c</name><payload><![CDATA[{cdata_inner}]]></payload><sys_id>0123456789abcdef0123456789abcd06</sys_id></sys_update_xml>\
         <sys_update_xml action=\"INSERT_OR_UPDATE\"><name>o</name><payload>&lt;record_update&gt;&lt;sys_script&gt;&lt;script&gt;https://dev1&#46;service-now.com/outer.do&lt;/script&gt;&lt;sys_id&gt;0123456789abcdef0123456789abcd07&lt;/sys_id&gt;&lt;/sys_script&gt;&lt;/record_update&gt;</payload><sys_id>0123456789abcdef0123456789abcd08</sys_id></sys_update_xml>",
        ID1.replacen('a', "&#97;", 1),
        escaped_row(&script, "0123456789abcdef0123456789abcd09"),
    );
    let d = folder_of("spelled-refs", &[("in.xml", &unload(&records))]);
    let out = d.join("out.xml");
    let ran = sn(&[
        &"apply",
        &d.join("in.xml"),
        &"--source",
        &"dev1",
        &"--target",
        &"acme",
        &"--sys-ids",
        &"regenerate",
        &"--out",
        &out,
    ]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let written = std::fs::read_to_string(&out).unwrap();
    for gone in [
        "dev1",
        "ev1.service-now",
        ID1,
        &id1_spelled,
        "&#46;",
        "&#x2E;",
        "&#100;",
    ] {
        assert!(!written.contains(gone), "{gone} left: {written}");
    }
    for url in ["z.do", "plain.do", "x.do", "y.do", "outer.do"] {
        assert!(
            written.contains(&format!("https://acme.service-now.com/{url}")),
            "{url}: {written}"
        );
    }
    // The group's new id everywhere its old one was, however it was spelled (its own sys_id
    // too: the record is regenerated as ServiceNow reads its id).
    let new = written.split("<sys_id>").nth(1).unwrap()[..32].to_string();
    assert!(new.bytes().all(|b| b.is_ascii_hexdigit()), "{written}");
    assert_eq!(written.matches(&new).count(), 4, "{written}");
}

/// Two payload spellings that were passed through unread (plaintext secret, source host and
/// sys_id kept, at every size): a CDATA payload holding a CDATA section (its `]]>` split, so
/// the field is several sections), and an escaped payload that leaves `>` unescaped.
#[test]
fn payloads_in_split_cdata_or_with_bare_gt_are_read() {
    let inner = |script: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><record_update table=\"oauth_entity\"><oauth_entity action=\"INSERT_OR_UPDATE\"><name>P</name><client_secret>{SECRET}</client_secret><redirect_url>https://dev1.service-now.com/oauth_redirect.do</redirect_url>{script}<sys_id>{ID1}</sys_id></oauth_entity></record_update>"
        )
    };
    // The document's own CDATA section ends in `]]>`, split by the enclosing CDATA.
    let split = format!(
        "<sys_update_xml action=\"INSERT_OR_UPDATE\"><name>a</name><payload><![CDATA[{}]]></payload><sys_id>{ID2}</sys_id></sys_update_xml>",
        inner("<script><![CDATA[x]]]]><![CDATA[></script>")
    );
    let bare_gt = format!(
        "<sys_update_xml action=\"INSERT_OR_UPDATE\"><name>b</name><payload>{}</payload><sys_id>{ID3}</sys_id></sys_update_xml>",
        inner("").replace('&', "&amp;").replace('<', "&lt;")
    );
    for (what, records) in [("split", split), ("bare-gt", bare_gt)] {
        let d = folder_of(&format!("payload-{what}"), &[("in.xml", &unload(&records))]);
        let out = d.join("out.xml");
        let ran = sn(&[
            &"apply",
            &d.join("in.xml"),
            &"--source",
            &"dev1",
            &"--target",
            &"acme",
            &"--sys-ids",
            &"regenerate",
            &"--out",
            &out,
        ]);
        assert_eq!(ran.code, Some(0), "{what}: {}", ran.all());
        assert!(!ran.all().contains(SECRET), "{what}");
        let written = std::fs::read_to_string(&out).unwrap();
        for gone in [SECRET, "dev1", ID1] {
            assert!(!written.contains(gone), "{what}: {gone} left: {written}");
        }
        assert!(
            written.contains("SN-RETARGET-SECRET(oauth_entity.client_secret:"),
            "{what}"
        );
        let ran = sn(&[&"inspect", &out]);
        assert!(
            ran.stdout.contains("(payload of #0, depth 1)"),
            "{what}: {}",
            ran.stdout
        );
    }
}

/// A payload whose records are not read (not well-formed, or nested deeper than the reader
/// goes) used to pass through with its plaintext secret while the run said "0 secrets to
/// re-enter". Now `apply` and `bundle` refuse it (exit 2, nothing written, the secret's
/// element named, never its value), `check` reports it as `secret-left`, and `--secrets keep`
/// still writes it as asked.
#[test]
fn secrets_in_payloads_that_are_not_read_stop_the_run() {
    let inner = format!(
        "<record_update table=\"oauth_entity\"><oauth_entity action=\"INSERT_OR_UPDATE\"><name>P</name><client_secret>{SECRET}</client_secret><sys_id>{ID1}</sys_id></oauth_entity></record_updat>"
    );
    let cdata = format!(
        "<sys_update_xml action=\"INSERT_OR_UPDATE\"><name>a</name><payload><![CDATA[{inner}]]></payload><sys_id>{ID2}</sys_id></sys_update_xml>"
    );
    let escaped = escaped_row(&inner, ID2);
    // Well-formed, but nine payloads deep: the reader stops at eight.
    let mut deep = format!(
        "<record_update table=\"oauth_entity\"><oauth_entity action=\"INSERT_OR_UPDATE\"><client_secret>{SECRET}</client_secret><sys_id>{ID1}</sys_id></oauth_entity></record_update>"
    );
    for k in 0..9 {
        let id = format!("{:032x}", 0xd00 + k);
        deep = escaped_row(&deep, &id);
        if k < 8 {
            deep = format!("<record_update table=\"sys_update_xml\">{deep}</record_update>");
        }
    }
    // A broken payload holding a well-formed one, escaped: the secret is a level further in.
    let well_formed = inner.replace("</record_updat>", "</record_update>");
    let nested = format!(
        "<sys_update_xml action=\"INSERT_OR_UPDATE\"><name>n</name><payload><![CDATA[<record_update table=\"sys_update_xml\">{}</record_updat>]]></payload><sys_id>{ID3}</sys_id></sys_update_xml>",
        escaped_row(&well_formed, ID2)
    );
    let cases = [
        ("cdata", cdata),
        ("escaped", escaped),
        ("deep", deep),
        ("nested", nested),
    ];
    for (what, records) in cases {
        let d = folder_of(&format!("unread-{what}"), &[("in.xml", &unload(&records))]);
        let out = d.join("out.xml");
        let ran = sn(&[&"apply", &d.join("in.xml"), &"--out", &out]);
        assert_eq!(ran.code, Some(2), "{what}: {}", ran.all());
        assert!(
            ran.stderr.contains("is not read") && ran.stderr.contains("client_secret"),
            "{what}: {}",
            ran.stderr
        );
        assert!(!out.exists(), "{what}");
        let bundle = d.join("bundle");
        let ran = sn(&[&"bundle", &d.join("in.xml"), &"--out", &bundle, &"--quiet"]);
        assert_eq!(ran.code, Some(2), "{what}: {}", ran.all());
        assert!(!bundle.exists(), "{what}");
        let ran = sn(&[&"check", &d.join("in.xml")]);
        assert_eq!(ran.code, Some(1), "{what}: {}", ran.all());
        assert!(
            ran.stdout.contains("error[secret-left]"),
            "{what}: {}",
            ran.stdout
        );
        assert!(!ran.all().contains(SECRET), "{what}");
        let ran = sn(&[
            &"apply",
            &d.join("in.xml"),
            &"--secrets",
            &"keep",
            &"--out",
            &out,
        ]);
        assert_eq!(ran.code, Some(0), "{what}: {}", ran.all());
        assert!(
            std::fs::read_to_string(&out).unwrap().contains(SECRET),
            "{what}"
        );
    }
}
