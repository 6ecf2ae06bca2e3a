//! Nothing of the source left behind, however it is spelled: a differential property between
//! the rewrite and the output check.
//!
//! `apply` finds source hosts, sys_ids, namespaces and secrets in the raw bytes of values
//! (references to their characters decoded, at any payload depth); `check`, which `apply` runs
//! on its own outputs only up to `CHECK_LIMIT_BYTES` in all, reads decoded text. Wherever the
//! two disagree, an output over the limit keeps the source silently. Exports are generated
//! ([`spelled`], [`exports`]) with source hosts, sys_ids of records in the input, the scope's
//! namespace and secrets in many spellings and places: letter case, percent-escapes, character
//! references (decimal, hex, zero-padded, one level deeper), attributes (`display_value`, a
//! record's, a `<database>` column's), lists, encoded queries, JSON (flat, nested, keyed by a
//! host or an id), query strings, URLs with ports, user info and paths, trailing dots, field
//! text and CDATA, escaped and CDATA payloads nested up to twice, `<unload>` and source-control
//! `<record_update>` files, records whose own sys_id is spelled with references. The rewrite runs
//! with its output check off under several plans (ids regenerated, mapped or derived, secrets
//! as placeholders or emptied, a namespace renamed as a prefix), then the check runs on the
//! outputs with the same plan (`check_outputs`, what `apply` calls):
//!
//! - it finds nothing left (`source-host-left`, `old-id-left`, `secret-left`,
//!   `old-namespace-left`) that the rewrite left;
//! - what both could miss is not left either: a planted plaintext secret, the sys_id of any
//!   record written, and, where the check does not look (attributes, `<database>` files), any
//!   source host or old id as the rewrite itself reads them;
//! - the converse: near misses that are not the source (another instance, a longer hex run, an
//!   id the input does not define) are not reported, which would stop the run;
//! - a file read in parts (as files over a few MB are) gives the edits it gives read whole.
//!
//! Each disagreement found is kept in [`found`] as a named test with its minimal input, ignored
//! while it is open (`bug: ...`), its shape left out of the generators meanwhile.

mod exports;
mod found;
mod spelled;

use proptest::prelude::*;
use sn_retarget::analyze::hosts::HostFinder;
use sn_retarget::apply::{Applied, Apply, check_outputs};
use sn_retarget::plan::Rewriter;
use sn_retarget::plan::{IdMode, Intent, Plan, SecretMode};

use exports::{
    FileKind, Layer, Place, Spot, inputs_of, one_file, read_at_any_depth, row_id, shown,
    spot_strategy,
};
use spelled::{Char, Value, near_miss_strategy, value_strategy};

/// The record every generated export defines (its id is regenerated, so every spelling of it
/// must follow).
const ID: &str = "0123456789abcdef0123456789abcd01";
/// A second one, for lists.
const ID2: &str = "0123456789abcdef0123456789abcd02";
/// The first record a spot writes (defined at the spot's depth, in a payload maybe).
const ROW1: &str = "0123456789abcdef0123456789ab0001";
/// The source instances (`--source`), in their plain spelling.
const HOSTS: [&str; 2] = ["dev1.service-now.com", "dev2.servicenowservices.com"];
/// The scope the namespace plan renames (`--scope x_old=x_new`, prefixes too).
const NAMESPACE: &str = "x_old";
/// The plaintext client secret planted in some records (a known secret column).
const PLANTED: &str = "plainS3cret";

/// `--host dev1=acme --host dev2.servicenowservices.com=acme2 --sys-ids regenerate` (what
/// `--source dev1 --target acme` does, for two sources).
fn plan() -> Plan {
    Plan {
        hosts: [("dev1", "acme"), (HOSTS[1], "acme2")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        sys_ids: IdMode::Regenerate,
        ..Plan::default()
    }
}

/// What the output check reports as left behind: the findings that stop `apply`.
const LEFT: [&str; 4] = [
    "source-host-left",
    "old-id-left",
    "secret-left",
    "old-namespace-left",
];

/// One run: the rewrite with its check off, then the check `apply` runs on its outputs.
#[derive(Debug)]
enum Outcome {
    /// The rewrite refused the input (it said so: not a silent leftover).
    Refused(String),
    /// The outputs, and what the check found left in them (`rule: message`).
    Ran {
        outputs: Vec<String>,
        left: Vec<String>,
    },
}

fn run_with(plan: &Plan, inputs: &[(String, String)]) -> Outcome {
    let named: Vec<(&str, &[u8])> = inputs
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_bytes()))
        .collect();
    let applied: Applied = match Apply::new(plan.clone()).check_outputs(false).run(&named) {
        Ok(a) => a,
        Err(e) => return Outcome::Refused(e.to_string()),
    };
    let mut checked = applied.clone();
    check_outputs(plan, &mut checked).expect("the outputs read");
    let left = checked
        .report
        .findings
        .iter()
        .filter(|f| LEFT.contains(&f.rule))
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect();
    Outcome::Ran {
        outputs: applied
            .outputs
            .iter()
            .map(|o| String::from_utf8_lossy(&o.bytes).into_owned())
            .collect(),
        left,
    }
}

fn run(inputs: &[(String, String)]) -> Outcome {
    run_with(&plan(), inputs)
}

/// The plans the properties run: ids regenerated (secrets as placeholders, or emptied; with a
/// namespace renamed as a prefix; as derived twins with a label), or kept with the two ids
/// re-pointed by a map (`--map`).
fn plan_strategy() -> impl Strategy<Value = Plan> {
    prop_oneof![
        3 => Just(plan()),
        1 => Just(Plan {
            secrets: SecretMode::Blank,
            ..plan()
        }),
        1 => Just(Plan {
            scopes: vec![format!("{NAMESPACE}=x_new")],
            scope_prefix: true,
            ..plan()
        }),
        1 => Just(Plan {
            intent: Some(Intent::Derive),
            labels: [("G".to_string(), "Gx".to_string())].into_iter().collect(),
            ..plan()
        }),
        1 => Just(Plan {
            sys_ids: IdMode::Keep,
            map: [(ID, "fedcba9876543210fedcba9876543210"), (ID2, "fedcba9876543210fedcba9876543211")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            ..plan()
        }),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    /// The check finds no source host, old sys_id or secret in the outputs that the rewrite
    /// left: what it reads decoded, the rewrite rewrote.
    #[test]
    fn the_check_finds_nothing_the_rewrite_left(
        mut spots in proptest::collection::vec(spot_strategy(value_strategy().boxed()), 1..4),
        plan in plan_strategy(),
    ) {
        // A reference inside CDATA is text to XML, a character to the rewrite (which reads
        // it as the one that leaves nothing of the source); decoded, a value may look
        // different to the check (`&#100;...;/oauth_token.do^ORsys_id=<id>` becomes a
        // query string with a secret-named key). No export writes references in CDATA.
        spots.retain(|s| !(s.place == Place::Cdata && s.value.source.contains("&#")));
        // The same for a reference one level too deep (`&amp;#100;`, text to the check) in a
        // query string: decoded by the rewrite, its key may name a secret to the check.
        spots.retain(|s| !(s.value.source.contains("&amp;#") && s.value.source.contains('=')));
        let inputs = inputs_of(&spots);
        let texts: Vec<String> = inputs.iter().map(|i| i.1.clone()).collect();
        match run_with(&plan, &inputs) {
            Outcome::Refused(e) => prop_assert!(false, "refused: {e}\n{}", shown(&texts)),
            Outcome::Ran { outputs, left } => {
                prop_assert!(left.is_empty(), "{left:#?}\nin:\n{}\nout:\n{}", shown(&texts), shown(&outputs));
                // What both could miss: a record not read at all keeps its id and its secret.
                let all = outputs.iter().map(|o| read_at_any_depth(o)).collect::<String>();
                prop_assert!(!all.contains(PLANTED), "secret left:\nin:\n{}\nout:\n{}", shown(&texts), shown(&outputs));
                if plan.sys_ids == IdMode::Regenerate {
                    let defined = texts.iter().map(|t| read_at_any_depth(t)).collect::<String>();
                    for k in 1..100 {
                        let id = row_id(k);
                        if defined.contains(&format!("<sys_id>{id}</sys_id>")) {
                            prop_assert!(!all.contains(&id), "{id} kept:\nin:\n{}\nout:\n{}", shown(&texts), shown(&outputs));
                        }
                    }
                }
                // Where the check does not look (attributes, `<database>` files: it reads no
                // host there), the rewrite's own reading (references at any depth) finds none.
                let hosts = HostFinder::new();
                let left_hosts: Vec<&str> = hosts
                    .find_all(all.as_bytes())
                    .map(|m| m.host)
                    .filter(|h| HOSTS.iter().any(|s| s.eq_ignore_ascii_case(h)))
                    .collect();
                prop_assert!(left_hosts.is_empty(), "{left_hosts:?}\nin:\n{}\nout:\n{}", shown(&texts), shown(&outputs));
                let old = [ID, ID2];
                prop_assert!(!old.iter().any(|id| has_token(&all, id)), "old id left:\nin:\n{}\nout:\n{}", shown(&texts), shown(&outputs));
            }
        }
    }
}

/// `true` when `text` holds `id` (in any case) as a whole run of hex digits.
fn has_token(text: &str, id: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let b = lower.as_bytes();
    lower.match_indices(id).any(|(at, _)| {
        let end = at + id.len();
        (at == 0 || !b[at - 1].is_ascii_hexdigit())
            && (end == b.len() || !b[end].is_ascii_hexdigit())
    })
}

proptest! {
    #![proptest_config(config(256))]

    /// The converse: what is not the source (another instance, a longer hex run, an id the
    /// input does not define) is not reported as left behind, which would stop the run.
    #[test]
    fn the_check_reports_no_leftover_that_is_not_the_source(
        mut spots in proptest::collection::vec(spot_strategy(near_miss_strategy().boxed()), 1..4),
        plan in plan_strategy(),
    ) {
        // A reference inside CDATA is text to XML (and to the check), a character to the
        // rewrite: `<![CDATA[m&#121;-dev1.service-now.com]]>` names `dev1` to one and `my-dev1`
        // to the other. No export writes references in CDATA.
        spots.retain(|s| !(s.place == Place::Cdata && s.value.source.contains("&#")));
        let inputs = inputs_of(&spots);
        let texts: Vec<String> = inputs.iter().map(|i| i.1.clone()).collect();
        match run_with(&plan, &inputs) {
            Outcome::Refused(e) => prop_assert!(false, "refused: {e}\n{}", shown(&texts)),
            Outcome::Ran { outputs, left } => {
                prop_assert!(left.is_empty(), "{left:#?}\nin:\n{}\nout:\n{}", shown(&texts), shown(&outputs));
            }
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// A large file is read in parts (each finding its own spelled references): read in parts
    /// of any size, a file gives the edits it gives read whole.
    #[test]
    fn spellings_read_in_parts_give_the_edits_read_whole(
        spots in proptest::collection::vec(spot_strategy(value_strategy().boxed()), 2..6),
    ) {
        let text = one_file(&spots);
        let bytes = text.as_bytes();
        let plan = plan();
        let run = |part_bytes: Option<usize>| {
            let mut w = Rewriter::new(plan.compile().unwrap());
            if let Some(n) = part_bytes {
                w = w.with_part_bytes(n);
            }
            let pass = w.read(bytes, true).map_err(|e| e.to_string())?;
            let ids = w.resolve([&pass]);
            w.finish(pass, &ids, bytes, true).map_err(|e| e.to_string())
        };
        let whole = run(None);
        prop_assert!(whole.is_ok(), "{whole:?}\n{text}");
        for n in [1, 150, 400] {
            prop_assert_eq!(&run(Some(n)), &whole, "in parts of {}:\n{}", n, text);
        }
    }
}

/// Cases per property: `PROPTEST_CASES` when set (for long runs), else `default`.
/// `default` cases (or `PROPTEST_CASES`), from a fixed seed unless `PROPTEST_RNG_SEED` gives
/// one: CI runs the same cases every time (a new seed explores: `PROPTEST_RNG_SEED=n`), and
/// what any seed found is replayed from `proptest-regressions/spellings.txt`.
fn config(default: u32) -> ProptestConfig {
    let mut c = ProptestConfig::with_cases(cases(default));
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        c.rng_seed = proptest::test_runner::RngSeed::Fixed(0x5e11_1165);
    }
    c
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The properties can fail: the check, run on the inputs as if they were outputs, reports the
/// source host and the old id in a field's text and CDATA, at every payload depth, in both
/// file kinds that hold records. (It reads no host in attributes: there the properties rely on
/// the rewrite's own reading.)
#[test]
fn the_check_sees_the_source_in_text_at_every_depth() {
    let plan = plan();
    let value = Value {
        source: format!("https://dev1.service-now.com/x.do?sys_id={ID}"),
    };
    let layers: [&[Layer]; 5] = [
        &[],
        &[Layer::Escaped],
        &[Layer::Cdata],
        &[Layer::Escaped, Layer::Escaped],
        &[Layer::Escaped, Layer::Cdata],
    ];
    for place in [Place::Text, Place::Cdata] {
        for layers in layers {
            for file in [FileKind::Unload, FileKind::RecordUpdate] {
                let spot = Spot {
                    value: value.clone(),
                    field: "script",
                    place,
                    layers: layers.to_vec(),
                    file,
                    decl: true,
                    secret: None,
                    own_id: vec![Char::Plain],
                };
                let named = inputs_of(&[spot]);
                let files: Vec<(&str, &[u8])> = named
                    .iter()
                    .map(|(n, t)| (n.as_str(), t.as_bytes()))
                    .collect();
                let applied = Apply::new(plan.clone()).run(&files).unwrap();
                let findings =
                    sn_retarget::apply::check_named(&plan, &applied.report, &files[1..]).unwrap();
                let rules: Vec<&str> = findings.iter().map(|f| f.rule).collect();
                let at = format!("{place:?} in {layers:?} of {file:?}");
                assert!(rules.contains(&"source-host-left"), "{at}: {rules:?}");
                assert!(rules.contains(&"old-id-left"), "{at}: {rules:?}");
            }
        }
    }
}
