//! Linear time on hostile shapes (issue 17 item 6): every reader path, and what `inspect`,
//! `check`, `apply` and `bundle` do with what it reads, stays linear in the input. Each shape
//! is sized so that a quadratic path would take minutes (10^10 steps and more), while a linear
//! one takes well under a second even in a debug build on a loaded machine; the bound is 20 s.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{bin, tmp};

const N: usize = 100_000;

fn unload(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload unload_date=\"2024-05-01 10:00:00\">{body}</unload>\n"
    )
}

/// Runs every command on `text` (as `name` in a fresh folder): none may take long, panic or
/// die; each ends with an exit code the README documents.
fn every_command_in_time(name: &str, text: &str) {
    let d = tmp(&format!("linear-{name}"));
    let input = d.join("in.xml");
    std::fs::write(&input, text).unwrap();
    let runs: Vec<(&str, Vec<String>)> = vec![
        (
            "inspect",
            vec!["inspect".into(), s(&input), "--json".into()],
        ),
        ("check", vec!["check".into(), s(&input)]),
        (
            "apply",
            vec![
                "apply".into(),
                s(&input),
                "--target".into(),
                "acme".into(),
                "--source".into(),
                "dev1".into(),
                "--sys-ids".into(),
                "regenerate".into(),
                "--out".into(),
                s(&d.join("out.xml")),
            ],
        ),
        (
            "bundle",
            vec![
                "bundle".into(),
                s(&input),
                "--quiet".into(),
                "--out".into(),
                s(&d.join("bundle")),
            ],
        ),
    ];
    for (what, args) in runs {
        let started = Instant::now();
        let out = bin().args(&args).output().unwrap();
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.code().is_some_and(|c| (0..=2).contains(&c)) && !stderr.contains("panicked"),
            "{name} {what}: {:?} {}",
            out.status,
            &stderr[..stderr.len().min(2000)]
        );
        assert!(
            took < Duration::from_secs(20),
            "{name} {what}: {took:?} (quadratic?)"
        );
        assert!(
            stderr.len() < 64 << 10,
            "{name} {what}: {} bytes of messages",
            stderr.len()
        );
    }
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

fn repeat(n: usize, f: impl Fn(usize) -> String) -> String {
    (0..n).map(f).collect()
}

#[test]
fn many_attributes_on_one_element() {
    let attrs = repeat(N, |k| format!(" a{k}=\"dev1.service-now.com\""));
    every_command_in_time(
        "attrs",
        &unload(&format!("<x_t{attrs}><name>n</name></x_t>")),
    );
}

#[test]
fn many_fields_in_one_record() {
    // Fields named alike (each `value` of a property is looked at with the record's others).
    let fields = repeat(N, |_| "<value>x</value><u_token>y</u_token>".to_string());
    every_command_in_time(
        "fields",
        &unload(&format!(
            "<sys_properties action=\"INSERT_OR_UPDATE\"><name>x.secret.key</name><type>password2</type>{fields}</sys_properties>"
        )),
    );
}

#[test]
fn many_records_on_one_line() {
    // Each refers to a record the bundle lacks (a finding, and its snippet, per record) and
    // holds a value named like a secret (a message per record).
    let records = repeat(N, |k| {
        format!(
            "<oauth_entity_profile action=\"INSERT_OR_UPDATE\"><oauth_entity display_value=\"P\">{:032x}</oauth_entity><u_api_token>v{k}</u_api_token><sys_id>{:032x}</sys_id></oauth_entity_profile>",
            k + 1,
            k + 1 + N
        )
    });
    every_command_in_time("records", &unload(&records));
}

#[test]
fn long_names() {
    let long = "n".repeat(4 * N);
    every_command_in_time(
        "names",
        &unload(&format!(
            "<x_{long} {long}=\"1\"><{long}>v</{long}><sys_id>0123456789abcdef0123456789abcdef</sys_id></x_{long}>"
        )),
    );
}

#[test]
fn many_hosts_in_one_value() {
    let listed = repeat(N, |_| {
        "https://dev1.service-now.com/oauth_redirect.do, ".to_string()
    });
    let glued = repeat(N, |_| "dev1.service-now.com".to_string());
    let dotted = "a.".repeat(N) + "service-now.com";
    every_command_in_time(
        "hosts",
        &unload(&format!(
            "<oauth_entity action=\"INSERT_OR_UPDATE\"><redirect_url>{listed}</redirect_url><u_a>{glued}</u_a><u_b>{dotted}</u_b></oauth_entity>"
        )),
    );
}

#[test]
fn many_references_and_ciphertext_characters_in_one_value() {
    let ids = repeat(N, |k| format!("{:032x},", k + 1));
    let refs = repeat(N, |_| "&#64990;".to_string());
    let pr = repeat(N, |_| ")pR&#35;".to_string());
    every_command_in_time(
        "references",
        &unload(&format!(
            "<sys_user_group action=\"INSERT_OR_UPDATE\"><u_members>{}</u_members><u_blob>{refs}</u_blob><u_pr>{pr}</u_pr></sys_user_group>",
            ids.trim_end_matches(',')
        )),
    );
}

#[test]
fn many_malformed_payloads() {
    let rows = repeat(N / 5, |k| {
        format!(
            "<sys_update_xml action=\"INSERT_OR_UPDATE\"><name>r{k}</name><payload>&lt;record_update&gt;&lt;x&gt;</payload><sys_id>{:032x}</sys_id></sys_update_xml>",
            k + 1
        )
    });
    every_command_in_time("payloads", &unload(&rows));
}
