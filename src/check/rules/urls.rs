//! `instance-url-form`, `http-instance-url`, `oauth-url-path`.

use super::RuleId;
use super::is_instance_record;
use crate::analyze::hosts::{is_instance_host, shown_url as shown, urls};
use crate::check::facts::in_version;
use crate::check::{Facts, Finding};
use crate::error::Severity;

/// The path each instance-to-instance OAuth URL field must end with.
const OAUTH_PATHS: [(&str, &str); 4] = [
    ("auth_url", "/oauth_auth.do"),
    ("token_url", "/oauth_token.do"),
    ("redirect_url", "/oauth_redirect.do"),
    ("revoke_token_url", "/oauth_revoke.do"),
];

pub fn check(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    for (k, r) in facts.records.iter().enumerate() {
        if in_version(r) {
            continue;
        }
        if is_instance_record(r.table()) {
            let url = r.get("url");
            let bare = url.strip_prefix("https://").is_some_and(|h| {
                !h.is_empty() && !h.contains(['/', '?', '#', ':']) && is_instance_host(h)
            });
            if !url.is_empty() && !bare {
                out.push(facts.finding(
                    facts.record_place(k, Some("url")),
                    RuleId::InstanceUrlForm,
                    Severity::Error,
                    format!(
                        "instance URL {:?} is not exactly https://<name>.service-now.com",
                        shown(url)
                    ),
                    Some("Validate Connection fails"),
                    "remove any path, trailing slash or www., and use https",
                ));
            }
        }
        for f in &r.record.fields {
            if f.payload.is_some_and(|p| p.read) {
                continue; // its records are checked themselves
            }
            for (u, host) in urls(&f.text) {
                if u.starts_with("http://") && is_instance_host(host) {
                    out.push(facts.finding(
                        facts.field_place(k, f),
                        RuleId::HttpInstanceUrl,
                        Severity::Warning,
                        format!("{}.{} reaches instance {host} over http", r.table(), f.name),
                        Some("the instance redirects or refuses plain http"),
                        "use https://",
                    ));
                }
            }
        }
        if r.table() == "oauth_entity" {
            let to_instance = urls(r.get("token_url")).any(|(_, h)| is_instance_host(h))
                || urls(r.get("redirect_url")).any(|(_, h)| is_instance_host(h));
            if !to_instance {
                continue;
            }
            for (field, path) in OAUTH_PATHS {
                for (u, host) in urls(r.get(field)) {
                    if is_instance_host(host) && !u.trim_end_matches('/').ends_with(path) {
                        out.push(facts.finding(
                            facts.record_place(k, Some(field)),
                            RuleId::OAuthUrlPath,
                            Severity::Error,
                            format!("{field} {:?} of \"{}\" does not end in {path}", shown(u), r.name()),
                            Some("invalid_request / 404 from the other instance"),
                            "instance-to-instance OAuth URLs are https://<name>.service-now.com/oauth_*.do",
                        ));
                    }
                }
            }
        }
    }
}
