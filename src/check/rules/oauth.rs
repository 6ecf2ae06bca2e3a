//! OAuth consistency: what makes "Validate Connection" fail.

use super::RuleId;
use std::collections::{BTreeMap, BTreeSet};

use crate::analyze::hosts::{is_instance_host, shown_url as shown, urls};
use crate::check::facts::in_version;
use crate::check::{CheckOptions, Facts, Finding};
use crate::error::Severity;

fn is_true(v: &str) -> bool {
    v.eq_ignore_ascii_case("true") || v == "1"
}

fn first_host(text: &str) -> Option<String> {
    urls(text).next().map(|(_, h)| h.to_ascii_lowercase())
}

/// The OAuth records of a bundle, by kind (indices into [`Facts::records`]).
struct OAuthRecords {
    /// Every `oauth_entity`.
    entities: Vec<usize>,
    /// The `oauth_entity` records of type `oauth_provider` (calling another instance).
    providers: Vec<usize>,
    /// The `oauth_entity` records of type `client` (endpoints others call).
    endpoints: Vec<usize>,
    /// Every `oauth_entity_profile`.
    profiles: Vec<usize>,
}

impl OAuthRecords {
    fn of(facts: &Facts<'_>) -> OAuthRecords {
        let entities: Vec<usize> = facts.of_table("oauth_entity").collect();
        let of_type = |t: &str| {
            (entities.iter().copied())
                .filter(|&k| facts.records[k].get("type") == t)
                .collect()
        };
        OAuthRecords {
            providers: of_type("oauth_provider"),
            endpoints: of_type("client"),
            profiles: facts.of_table("oauth_entity_profile").collect(),
            entities,
        }
    }
}

/// Runs every OAuth rule.
pub fn check(facts: &Facts<'_>, options: &CheckOptions, out: &mut Vec<Finding>) {
    let oauth = OAuthRecords::of(facts);
    client_id(facts, &oauth, options, out);
    token_url_host(facts, out);
    redirect_missing(facts, &oauth, out);
    default_profile_and_grant_type(facts, &oauth, out);
    inactive(facts, &oauth, out);
    scope_undefined(facts, out);
}

/// `oauth-client-id`: a provider calling an instance the bundle is about (one whose endpoints it
/// holds: named by an endpoint's own redirect list, by an instance record, or the target) must
/// use the client_id of one of its endpoints.
fn client_id(
    facts: &Facts<'_>,
    oauth: &OAuthRecords,
    options: &CheckOptions,
    out: &mut Vec<Finding>,
) {
    let OAuthRecords {
        providers,
        endpoints,
        ..
    } = oauth;
    if !endpoints.is_empty() {
        let mut local: BTreeSet<String> = endpoints
            .iter()
            .flat_map(|&e| {
                urls(facts.records[e].get("redirect_url"))
                    .map(|(_, h)| h.to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
            .collect();
        local.extend(
            facts
                .instance_records()
                .into_iter()
                .filter_map(|k| first_host(facts.records[k].get("url"))),
        );
        if let Some(t) = &options.target {
            local.insert(t.host().to_string());
        }
        for &p in providers {
            let pr = &facts.records[p];
            let Some(host) = first_host(pr.get("token_url")) else {
                continue;
            };
            let id = pr.get("client_id");
            if is_instance_host(&host)
                && local.contains(&host)
                && !endpoints
                    .iter()
                    .any(|&e| facts.records[e].get("client_id") == id)
            {
                out.push(facts.finding(
                    facts.record_place(p, Some("client_id")),
                    RuleId::OAuthClientId,
                    Severity::Error,
                    format!("provider \"{}\" calls {host} with a client_id that none of its endpoints in the bundle has", pr.name()),
                    Some("invalid_client"),
                    "copy the Client ID of the endpoint record on the other instance into the provider",
                ));
            }
        }
    }
}

/// `oauth-token-url-host`: an instance record's provider must ask that instance for tokens.
fn token_url_host(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    for k in facts.instance_records() {
        let inst = &facts.records[k];
        let registry = inst.get("oauth_application_registry");
        let Some(&p) = facts.defined.get(registry) else {
            continue;
        };
        let (Some(want), Some(got)) = (
            first_host(inst.get("url")),
            first_host(facts.records[p].get("token_url")),
        ) else {
            continue;
        };
        if want != got {
            out.push(facts.finding(
                facts.record_place(p, Some("token_url")),
                RuleId::OAuthTokenUrlHost,
                Severity::Error,
                format!(
                    "provider \"{}\" asks {got} for tokens, but the instance record \"{}\" using it is {want}",
                    facts.records[p].name(),
                    inst.name()
                ),
                Some("invalid_client / Validate Connection fails"),
                "point the provider's token URL at https://<that instance>/oauth_token.do",
            ));
        }
    }
}

/// `oauth-redirect-missing`: an endpoint's redirect list must hold the redirect URL of every
/// provider calling it.
fn redirect_missing(facts: &Facts<'_>, oauth: &OAuthRecords, out: &mut Vec<Finding>) {
    for &e in &oauth.endpoints {
        let er = &facts.records[e];
        let listed: Vec<String> = urls(er.get("redirect_url"))
            .map(|(u, _)| u.trim_end_matches('/').to_string())
            .collect();
        for &p in &oauth.providers {
            let pr = &facts.records[p];
            if pr.get("client_id") != er.get("client_id") || pr.get("client_id").is_empty() {
                continue;
            }
            for (u, _) in urls(pr.get("redirect_url")).take(1) {
                let u = u.trim_end_matches('/');
                if !listed.iter().any(|l| l == u) {
                    out.push(facts.finding(
                        facts.record_place(e, Some("redirect_url")),
                        RuleId::OAuthRedirectMissing,
                        Severity::Error,
                        format!("endpoint \"{}\" does not list {}, the redirect URL of \"{}\", which calls it", er.name(), shown(u), pr.name()),
                        Some("invalid_redirect_uri (redirect URL mismatch)"),
                        "add it to the endpoint's Redirect URLs (comma and space separated)",
                    ));
                }
            }
        }
    }
}

/// `oauth-default-profile` and `oauth-grant-type`: every provider, and every endpoint with
/// profiles, has one default profile, whose grant type is the registry's default grant type.
fn default_profile_and_grant_type(facts: &Facts<'_>, oauth: &OAuthRecords, out: &mut Vec<Finding>) {
    let mut by_entity: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &pf in &oauth.profiles {
        by_entity
            .entry(facts.records[pf].get("oauth_entity"))
            .or_default()
            .push(pf);
    }
    let with_profiles = oauth.endpoints.iter().copied().filter(|&e| {
        facts.records[e]
            .sys_id()
            .is_some_and(|id| by_entity.contains_key(id))
    });
    let registries: Vec<usize> = oauth
        .providers
        .iter()
        .copied()
        .chain(with_profiles)
        .collect();
    for &p in &registries {
        let pr = &facts.records[p];
        let Some(id) = pr.sys_id() else { continue };
        let defaults: Vec<usize> = by_entity
            .get(id)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|&pf| is_true(facts.records[pf].get("default")))
                    .collect()
            })
            .unwrap_or_default();
        match defaults.len() {
            1 => {
                let grant = facts.records[defaults[0]].get("grant_type");
                let default_grant = pr.get("default_grant_type");
                if !default_grant.is_empty() && !grant.is_empty() && grant != default_grant {
                    out.push(facts.finding(
                        facts.record_place(p, Some("default_grant_type")),
                        RuleId::OAuthGrantType,
                        Severity::Error,
                        format!(
                            "registry \"{}\" has default grant type {default_grant:?}, its default profile {grant:?}",
                            pr.name()
                        ),
                        Some("invalid_grant"),
                        "make the default profile's grant type match the registry's default grant type",
                    ));
                }
            }
            0 => out.push(facts.finding(
                facts.record_place(p, None),
                RuleId::OAuthDefaultProfile,
                Severity::Error,
                format!("registry \"{}\" has no default oauth_entity_profile in the bundle", pr.name()),
                Some("no OAuth profile to request tokens with"),
                "export the profile ServiceNow generated with the registry and add it (import runs no business rule to recreate it)",
            )),
            n => out.push(facts.finding(
                facts.record_place(defaults[1], Some("default")),
                RuleId::OAuthDefaultProfile,
                Severity::Error,
                format!("registry \"{}\" has {n} default profiles", pr.name()),
                Some("the instance picks one of them"),
                "keep default=true on one profile only",
            )),
        }
    }
}

/// `oauth-inactive`: an inactive registry that something uses.
fn inactive(facts: &Facts<'_>, oauth: &OAuthRecords, out: &mut Vec<Finding>) {
    for &en in &oauth.entities {
        let er = &facts.records[en];
        if er.get("active").is_empty() || is_true(er.get("active")) {
            continue;
        }
        let Some(id) = er.sys_id() else { continue };
        let own = [
            "oauth_entity_profile",
            "oauth_entity_scope",
            "oauth_entity_profile_scope",
        ];
        let user = facts.references.iter().find(|(k, r)| {
            let rec = &facts.records[*k];
            r.target == id && !own.contains(&rec.table()) && !rec.is_deletion() && !in_version(rec)
        });
        if let Some((k, r)) = user {
            out.push(facts.finding(
                facts.record_place(en, Some("active")),
                RuleId::OAuthInactive,
                Severity::Error,
                format!(
                    "registry \"{}\" is inactive but {}.{} uses it",
                    er.name(),
                    facts.records[*k].table(),
                    r.field
                ),
                Some("invalid_client"),
                "set active to true",
            ));
        }
    }
}

/// `oauth-scope-undefined`: scopes requested by profiles must exist, on the same registry.
fn scope_undefined(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    for k in facts.of_table("oauth_entity_profile_scope") {
        let ps = &facts.records[k];
        let scope = ps.get("oauth_entity_scope");
        match facts.defined.get(scope) {
            None => out.push(facts.finding(
                facts.record_place(k, Some("oauth_entity_scope")),
                RuleId::OAuthScopeUndefined,
                Severity::Error,
                format!("profile scope requests scope {scope} that the bundle does not define"),
                Some("invalid_scope"),
                "add the oauth_entity_scope record to the bundle",
            )),
            Some(&s) => {
                let profile = facts
                    .defined
                    .get(ps.get("oauth_entity_profile"))
                    .map(|&p| facts.records[p].get("oauth_entity"));
                let owner = facts.records[s].get("oauth_entity");
                if profile.is_some_and(|p| !p.is_empty() && p != owner) {
                    out.push(facts.finding(
                        facts.record_place(k, Some("oauth_entity_scope")),
                        RuleId::OAuthScopeUndefined,
                        Severity::Error,
                        format!("scope \"{}\" belongs to another registry than the profile requesting it", facts.records[s].get("oauth_entity_scope")),
                        Some("invalid_scope"),
                        "define the scope on the profile's own registry",
                    ));
                }
            }
        }
    }
}
