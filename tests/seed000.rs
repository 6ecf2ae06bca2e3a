//! The seed-000 procedure ("Configure the OAuth authentication method, production instance"),
//! done by `apply` on the development export in `fixtures/seed000_dev/`.

use sn_retarget::apply::Applied;
use sn_retarget::model::OwnedRecord;
use sn_retarget::plan::{IdMode, Plan};

use crate::support::{apply_files, collect, fixture_files};

fn records(applied: &Applied) -> Vec<OwnedRecord> {
    applied
        .outputs
        .iter()
        .flat_map(|o| collect(&o.bytes).1)
        .collect()
}

fn value<'r>(r: &'r OwnedRecord, field: &str) -> &'r str {
    &r.field(field)
        .unwrap_or_else(|| panic!("{} has no {field}", r.table))
        .text
}

fn by_name<'r>(records: &'r [OwnedRecord], name: &str) -> &'r OwnedRecord {
    records
        .iter()
        .find(|r| r.field("name").is_some_and(|f| f.text == name))
        .unwrap_or_else(|| panic!("no record named {name}"))
}

/// Stages 1-4: the four development files go to production as they are (they describe the
/// development instance), ids kept, the three secrets out and listed.
#[test]
fn dev_bundle_made_ready_for_prod() {
    let files = fixture_files("seed000_dev", false);
    let plan = Plan {
        target: Some("prod12345".into()),
        ..Plan::default()
    };
    let applied = apply_files(&plan, &files);
    let before: Vec<OwnedRecord> = files.iter().flat_map(|(_, b)| collect(b).1).collect();
    let after = records(&applied);
    let ids = |rs: &[OwnedRecord]| rs.iter().map(|r| r.sys_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&before), ids(&after), "ids kept");
    let secrets: Vec<String> = applied
        .report
        .secrets
        .iter()
        .map(|s| {
            format!(
                "{} {}.{}",
                s.note.name.as_deref().unwrap_or(""),
                s.note.table,
                s.note.field
            )
        })
        .collect();
    assert_eq!(
        secrets,
        [
            "Integration Account sys_auth_profile_oauth2.password",
            "OAuth Client Dev oauth_entity.client_secret",
            "OAuth Provider Dev oauth_entity.client_secret",
        ]
    );
    let provider = by_name(&after, "OAuth Provider Dev");
    assert_eq!(
        value(provider, "token_url"),
        "https://dev12345.service-now.com/oauth_token.do"
    );
    assert_eq!(
        value(provider, "client_secret"),
        "SN-RETARGET-SECRET(oauth_entity.client_secret:b2d4f6a8102c3e4f5a6b7c8d9e0f1a2c)"
    );
    // Only the secrets changed.
    assert_eq!(applied.report.totals.values().sum::<usize>(), 3);
}

fn derive_prod(files: &[(String, Vec<u8>)]) -> Applied {
    let derived: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter(|(n, _)| !n.starts_with("2_")) // the OAuth user profile is shared, not derived
        .cloned()
        .collect();
    let plan = Plan {
        target: Some("prod12345".into()),
        sources: vec!["dev12345".into()],
        sys_ids: IdMode::Regenerate,
        seed: "prod".into(),
        regenerate_fields: vec!["oauth_entity.client_id".into()],
        replace: vec![
            "oauth_entity.name:Dev=Prod".into(),
            "oauth_entity_profile.name:Dev=Prod".into(),
        ],
        set: vec![
            "sn_se_instance.name=Production".into(),
            "sn_se_instance.environment=production".into(),
        ],
        ..Plan::default()
    };
    apply_files(&plan, &derived)
}

/// Stage 6-7: OAuth Client Prod and OAuth Provider Prod (and the provider's profile, and the
/// production My SN Instances record) derived from the development ones.
#[test]
fn prod_client_and_provider_derived_from_dev() {
    let files = fixture_files("seed000_dev", false);
    let dev: Vec<OwnedRecord> = files.iter().flat_map(|(_, b)| collect(b).1).collect();
    let applied = derive_prod(&files);
    let prod = records(&applied);

    let client = by_name(&prod, "OAuth Client Prod");
    let provider = by_name(&prod, "OAuth Provider Prod");
    let dev_client = by_name(&dev, "OAuth Client Dev");
    let dev_provider = by_name(&dev, "OAuth Provider Dev");
    assert_ne!(client.sys_id, dev_client.sys_id);
    assert_ne!(provider.sys_id, dev_provider.sys_id);
    // One new client id, shared by the endpoint and the provider that calls it.
    assert_eq!(value(client, "client_id"), value(provider, "client_id"));
    assert_ne!(value(client, "client_id"), value(dev_client, "client_id"));
    for f in ["redirect_url", "token_url", "auth_url", "revoke_token_url"] {
        let url = value(provider, f);
        assert!(
            url.starts_with("https://prod12345.service-now.com/oauth_"),
            "{f}: {url}"
        );
    }
    let profile = by_name(&prod, "OAuth Provider Prod default_profile");
    assert_eq!(
        Some(value(profile, "oauth_entity")),
        provider.sys_id.as_deref()
    );
    let instance = by_name(&prod, "Production");
    assert_eq!(value(instance, "url"), "https://prod12345.service-now.com");
    assert_eq!(value(instance, "instance_name"), "prod12345");
    assert_eq!(value(instance, "environment"), "production");
    assert_eq!(
        Some(value(instance, "oauth_application_registry")),
        provider.sys_id.as_deref()
    );
    // The shared user profile is referenced, not derived: its id is kept.
    let shared = dev
        .iter()
        .find(|r| r.table == "sys_auth_profile_oauth2")
        .unwrap();
    assert_eq!(
        Some(value(instance, "oauth_user_profile")),
        shared.sys_id.as_deref()
    );
    assert_eq!(applied.report.secrets.len(), 2);
}

/// Stage 8: the production records, exported from production (secrets encrypted with its
/// key), made ready for development: ids and production URLs kept, secrets out.
#[test]
fn prod_records_made_ready_for_dev() {
    let files = fixture_files("seed000_dev", false);
    let prod = derive_prod(&files);
    // As production would export them: its own ciphertext in the secret fields.
    let exported: Vec<(String, Vec<u8>)> = prod
        .outputs
        .iter()
        .map(|o| {
            let text = String::from_utf8(o.bytes.clone()).unwrap();
            let mut out = String::new();
            for (i, part) in text.split("SN-RETARGET-SECRET(").enumerate() {
                if i == 0 {
                    out.push_str(part);
                } else {
                    let rest = &part[part.find(')').unwrap() + 1..];
                    out.push_str("\u{FDDE}\u{FDDF}\u{FDD2}00ff00ff00ff00ff00ff00ff00ff00ff\u{FDEC}\u{FDD4}1\u{FDEC}\u{FDED}cHJvZA==\u{FDEE}\u{FDEF}");
                    out.push_str(rest);
                }
            }
            (o.name.clone(), out.into_bytes())
        })
        .collect();
    let plan = Plan {
        target: Some("dev12345".into()),
        ..Plan::default()
    };
    let applied = apply_files(&plan, &exported);
    let after = records(&applied);
    let before: Vec<OwnedRecord> = exported.iter().flat_map(|(_, b)| collect(b).1).collect();
    let ids = |rs: &[OwnedRecord]| rs.iter().map(|r| r.sys_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&before), ids(&after));
    let provider = by_name(&after, "OAuth Provider Prod");
    assert!(value(provider, "token_url").starts_with("https://prod12345.service-now.com/"));
    let names: Vec<&str> = applied
        .report
        .secrets
        .iter()
        .filter_map(|s| s.note.name.as_deref())
        .collect();
    assert_eq!(names, ["OAuth Client Prod", "OAuth Provider Prod"]);
}
