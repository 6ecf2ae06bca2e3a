//! Linear time on hostile shapes (issue 17 item 6): every reader path, and what `inspect`,
//! `check`, `apply` and `bundle` do with what it reads, stays linear in the input. Each shape
//! is run at a quarter of its size and at its full size (100,000 attributes, fields, records,
//! hosts...): a linear command takes about four times as long on the larger, a quadratic one
//! sixteen (10^10 steps: minutes). The larger may take at most eight times the smaller, plus a
//! second: timings compared within one test, so that a loaded machine slows both alike.
//! Each test runs eight processes on a few megabytes: `#[ignore]`d, `.ci/run` runs them
//! (`cargo test -- --ignored`).

use std::time::{Duration, Instant};

use crate::support::{bin, s, tmp};

const N: usize = 100_000;

fn unload(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload unload_date=\"2024-05-01 10:00:00\">{body}</unload>\n"
    )
}

/// Runs every command on the shape at a quarter and at the whole of its size: none may panic,
/// die or print more than 64 KB of messages, and the whole may take at most eight times the
/// quarter (plus a second).
fn every_command_in_time(name: &str, shape: impl Fn(usize) -> String) {
    // Timed twice when the first timing is over (a busy machine, not a quadratic step, is
    // what a second timing tells apart: quadratic fails both).
    for attempt in 0..2 {
        let small = times(&format!("{name}-quarter"), &shape(N / 4));
        let large = times(name, &shape(N));
        let slow = small
            .iter()
            .zip(&large)
            .find(|((_, a), (_, b))| *b >= *a * 8 + Duration::from_secs(1));
        match slow {
            None => return,
            Some(((what, a), (_, b))) => assert!(
                attempt == 0,
                "{name} {what}: {a:?} for a quarter, {b:?} for the whole (quadratic?)"
            ),
        }
    }
}

/// How long each command takes on `text`.
fn times(name: &str, text: &str) -> Vec<(&'static str, Duration)> {
    let d = tmp(&format!("linear-{name}"));
    let input = d.join("in.xml");
    std::fs::write(&input, text).unwrap();
    let runs: Vec<(&'static str, Vec<String>)> = vec![
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
                "--sys-ids".into(),
                "regenerate".into(),
                "--out".into(),
                s(&d.join("out.xml")),
            ],
        ),
        (
            "apply (hosts)",
            vec![
                "apply".into(),
                s(&input),
                "--source".into(),
                "dev1".into(),
                "--target".into(),
                "acme".into(),
                "--out".into(),
                s(&d.join("hosts.xml")),
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
    let mut out = Vec::new();
    for (what, args) in runs {
        let started = Instant::now();
        let ran = bin().args(&args).output().unwrap();
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&ran.stderr);
        assert!(
            ran.status.code().is_some_and(|c| (0..=2).contains(&c)) && !stderr.contains("panicked"),
            "{name} {what}: {:?} {}",
            ran.status,
            &stderr[..stderr.len().min(2000)]
        );
        assert!(
            stderr.len() < 64 << 10,
            "{name} {what}: {} bytes of messages",
            stderr.len()
        );
        out.push((what, took));
    }
    let _ = std::fs::remove_dir_all(&d);
    out
}

fn repeat(n: usize, f: impl Fn(usize) -> String) -> String {
    (0..n).map(f).collect()
}

#[test]
#[ignore = "heavy: hostile shapes of 25,000 and 100,000 elements through four commands; .ci/run runs it"]
fn many_attributes_on_one_element() {
    every_command_in_time("attrs", |n| {
        let attrs = repeat(n, |k| format!(" a{k}=\"dev1.service-now.com\""));
        unload(&format!("<x_t{attrs}><name>n</name></x_t>"))
    });
}

#[test]
#[ignore = "heavy: hostile shapes of 25,000 and 100,000 elements through four commands; .ci/run runs it"]
fn many_fields_in_one_record() {
    // Fields named alike (each `value` of a property is looked at with the record's others).
    every_command_in_time("fields", |n| {
        let fields = repeat(n, |_| "<value>x</value><u_token>y</u_token>".to_string());
        unload(&format!(
            "<sys_properties action=\"INSERT_OR_UPDATE\"><name>x.secret.key</name><type>password2</type>{fields}</sys_properties>"
        ))
    });
}

#[test]
#[ignore = "heavy: hostile shapes of 25,000 and 100,000 elements through four commands; .ci/run runs it"]
fn many_records_on_one_line() {
    // Each refers to a record the bundle lacks (a finding, and its snippet, per record) and
    // holds a value named like a secret (a message per record).
    every_command_in_time("records", |n| {
        unload(&repeat(n, |k| {
            format!(
                "<oauth_entity_profile action=\"INSERT_OR_UPDATE\"><oauth_entity display_value=\"P\">{:032x}</oauth_entity><u_api_token>v{k}</u_api_token><sys_id>{:032x}</sys_id></oauth_entity_profile>",
                k + 1,
                k + 1 + N
            )
        }))
    });
}

#[test]
#[ignore = "heavy: hostile shapes of 25,000 and 100,000 elements through four commands; .ci/run runs it"]
fn long_names() {
    every_command_in_time("names", |n| {
        let long = "n".repeat(4 * n);
        unload(&format!(
            "<x_{long} {long}=\"1\"><{long}>v</{long}><sys_id>0123456789abcdef0123456789abcdef</sys_id></x_{long}>"
        ))
    });
}

#[test]
#[ignore = "heavy: hostile shapes of 25,000 and 100,000 elements through four commands; .ci/run runs it"]
fn many_hosts_in_one_value() {
    every_command_in_time("hosts", |n| {
        let listed = repeat(n, |_| {
            "https://dev1.service-now.com/oauth_redirect.do, ".to_string()
        });
        let glued = repeat(n, |_| "dev1.service-now.com".to_string());
        let dotted = "a.".repeat(n) + "service-now.com";
        // One piece holding many schemes, no separator between them (`urls` of the check).
        let schemes = "http".repeat(n);
        unload(&format!(
            "<oauth_entity action=\"INSERT_OR_UPDATE\"><redirect_url>{listed}</redirect_url><u_a>{glued}</u_a><u_b>{dotted}</u_b><u_c>{schemes}</u_c></oauth_entity>"
        ))
    });
}

#[test]
#[ignore = "heavy: hostile shapes of 25,000 and 100,000 elements through four commands; .ci/run runs it"]
fn many_references_and_ciphertext_characters_in_one_value() {
    every_command_in_time("references", |n| {
        let ids = repeat(n, |k| format!("{:032x},", k + 1));
        let refs = repeat(n, |_| "&#64990;".to_string());
        let pr = repeat(n, |_| ")pR&#35;".to_string());
        unload(&format!(
            "<sys_user_group action=\"INSERT_OR_UPDATE\"><u_members>{}</u_members><u_blob>{refs}</u_blob><u_pr>{pr}</u_pr></sys_user_group>",
            ids.trim_end_matches(',')
        ))
    });
}

#[test]
#[ignore = "heavy: hostile shapes of 25,000 and 100,000 elements through four commands; .ci/run runs it"]
fn many_malformed_payloads() {
    every_command_in_time("payloads", |n| {
        unload(&repeat(n / 5, |k| {
            format!(
                "<sys_update_xml action=\"INSERT_OR_UPDATE\"><name>r{k}</name><payload>&lt;record_update&gt;&lt;x&gt;</payload><sys_id>{:032x}</sys_id></sys_update_xml>",
                k + 1
            )
        }))
    });
}
