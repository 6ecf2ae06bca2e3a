//! The hand-off steps as data: one table, [`STEPS`], each row a step of the seed procedures
//! with the conditions under which it applies and its text.
//!
//! A row applies when every condition holds: the tables of the records it is about, their
//! application scope, the intent of the bundle, the fields replaced in them (secrets), the
//! kind of record (a third-party provider, an endpoint for external clients) and whether the
//! application is new to the target. Its text names the seeds' steps exactly; `{name}` stands
//! for a value of the situation (always escaped where it is shown), `**...**` for bold.

use crate::plan::Intent;

/// Where a step goes in the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Before import, on the target.
    Before,
    /// The import itself.
    Import,
    /// After import, record by record in import order.
    Records,
    /// After import, once the records are in.
    After,
    /// What third parties and the owners of external clients must be told.
    Others,
}

impl Phase {
    /// The heading of its section.
    pub fn heading(self) -> &'static str {
        match self {
            Phase::Before => "Before import",
            Phase::Import => "Import",
            Phase::Records => "After import, record by record",
            Phase::After => "Then",
            Phase::Others => "Tell the others",
        }
    }
}

/// How often a step is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// Once, when a record of the bundle matches.
    Bundle,
    /// Once per application (scope) among the matching records.
    App,
    /// Once per matching record, in import order.
    Record,
    /// Once per replaced field of a matching record.
    Secret,
}

/// The application scope a record must be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeIs {
    /// Any, global included.
    Any,
    /// A scoped application (not global).
    Scoped,
    /// This application (its namespace).
    App(&'static str),
}

/// The fields that must have been replaced in the record (its secrets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    /// No condition.
    Any,
    /// At least one secret replaced.
    Some,
    /// One of these fields replaced.
    Fields(&'static [&'static str]),
}

/// What a record must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No condition.
    Any,
    /// A provider whose token URL is off ServiceNow (seeds 001/004).
    ThirdPartyProvider,
    /// An endpoint for external clients: `oauth_entity` of type `client` whose client_id no
    /// provider of the bundle shares (seed 002).
    ExternalEndpoint,
    /// A record with steps of its own in a scope other than the one in force.
    ScopeChange,
    /// The bundle's files (the import itself).
    Files,
    /// Secrets kept (`--secrets keep`) that travel encrypted.
    KeptSecrets,
}

/// The conditions of a step; each must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    /// The record's table is one of these (`sn_*_instance` matches My SN Instances and its
    /// kin); empty for any.
    pub tables: &'static [&'static str],
    /// Its application scope.
    pub scope: ScopeIs,
    /// The bundle's intent is one of these; empty for any.
    pub intents: &'static [Intent],
    /// The fields replaced in it.
    pub replaced: Replaced,
    /// What it is.
    pub kind: Kind,
    /// `Some(true)`: only when the application comes to the target for the first time (no
    /// record of the bundle is said to exist there and it is no derived twin); `Some(false)`:
    /// only when it is there already.
    pub new_to_target: Option<bool>,
}

/// One step of the hand-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Its name (stable; tests and the README use it).
    pub id: &'static str,
    /// Where it goes.
    pub phase: Phase,
    /// How often.
    pub per: Per,
    /// When it applies.
    pub when: When,
    /// The seed procedure and steps it comes from.
    pub seed: &'static str,
    /// Its text.
    pub text: &'static str,
}

const ANY: When = When {
    tables: &[],
    scope: ScopeIs::Any,
    intents: &[],
    replaced: Replaced::Any,
    kind: Kind::Any,
    new_to_target: None,
};

const INSTANCES: &[&str] = &["sn_*_instance"];

/// An endpoint for external clients (seed 002).
const EXTERNAL_CLIENT: When = When {
    tables: &["oauth_entity"],
    kind: Kind::ExternalEndpoint,
    ..ANY
};

/// Secrets of a scoped application, new to the target: the KMF steps (seed 000 stages 2, 5).
const KMF_FIRST: When = When {
    scope: ScopeIs::Scoped,
    replaced: Replaced::Some,
    new_to_target: Some(true),
    ..ANY
};

/// Every step, in the order the checklist lists them within a phase.
pub const STEPS: &[Step] = &[
    Step {
        id: "app-installed",
        phase: Phase::Before,
        per: Per::App,
        when: When {
            scope: ScopeIs::Scoped,
            new_to_target: Some(true),
            ..ANY
        },
        seed: "000 Before you begin",
        text: "The application **{app}** ({namespace}) is installed on {target}: the records belong to it.",
    },
    Step {
        id: "integration-user",
        phase: Phase::Before,
        per: Per::App,
        when: When {
            tables: &["oauth_entity", "sys_auth_profile_oauth2"],
            scope: ScopeIs::App("sn_se"),
            new_to_target: Some(true),
            ..ANY
        },
        seed: "000 Before you begin",
        text: "The integration user account exists on {target} with the roles **sn_se.scan_engine_admin** and **sn_se.internal_rest_integration** (Create an integration user account), and its password is at hand in a text editor: you will paste it several times.",
    },
    Step {
        id: "kmf-admin",
        phase: Phase::Before,
        per: Per::Bundle,
        when: KMF_FIRST,
        seed: "000 stage 2, steps 1-4",
        text: "Log in to {target}, type key in the Navigator and open **Key Management Administration**; add your user account to the selected users list and save (the role sn_kmf.admin is assigned). Log out and log back in.",
    },
    Step {
        id: "kmf-cryptographic-manager",
        phase: Phase::Before,
        per: Per::Bundle,
        when: KMF_FIRST,
        seed: "000 stage 2, steps 4-6",
        text: "Open your user record; in the Roles related list select Edit and also assign **sn_kmf.cryptographic_manager**. Log out and log back in to activate both KMF roles, before any secret is retyped.",
    },
    Step {
        id: "already-set-up",
        phase: Phase::Before,
        per: Per::App,
        when: When {
            scope: ScopeIs::Scoped,
            replaced: Replaced::Some,
            new_to_target: Some(false),
            ..ANY
        },
        seed: "000 stages 2, 5 and 7 (not repeated)",
        text: "Confirm that **{app}** is set up on {target} already ({why}): its integration user, your KMF roles (sn_kmf.admin, sn_kmf.cryptographic_manager) and the Track policy of {script_include} were set when it first came there; they are not repeated here.",
    },
    Step {
        id: "import-files",
        phase: Phase::Import,
        per: Per::Bundle,
        when: When {
            kind: Kind::Files,
            ..ANY
        },
        seed: "000 stage 3",
        text: "On {target}, import the files in this order (System Definition > Import XML, or Retrieved Update Sets > Import Update Set from XML for update sets):",
    },
    Step {
        id: "switch-scope",
        phase: Phase::Records,
        per: Per::Record,
        when: When {
            scope: ScopeIs::Scoped,
            kind: Kind::ScopeChange,
            ..ANY
        },
        seed: "000 stage 4, step 2",
        text: "Switch the application scope to **{app}**.",
    },
    Step {
        id: "show-password-fields",
        phase: Phase::Records,
        per: Per::Record,
        when: When {
            tables: &["sys_auth_profile_oauth2"],
            replaced: Replaced::Fields(&["password"]),
            ..ANY
        },
        seed: "000 stage 4, step 3",
        text: "Open {record} ({link}). If the Username and Password fields are not visible, configure the form layout to show them (asked whether to edit in {app} or Global scope, select Global, for the form configuration only), or open the record from the list layout.",
    },
    Step {
        id: "unlock-client-secret",
        phase: Phase::Records,
        per: Per::Record,
        when: When {
            tables: &["oauth_entity"],
            replaced: Replaced::Fields(&["client_secret"]),
            ..ANY
        },
        seed: "000 stage 4, steps 5-8",
        text: "Open {record} ({link}) and unlock the Client Secret field.",
    },
    Step {
        id: "retype-secret",
        phase: Phase::Records,
        per: Per::Secret,
        when: When {
            replaced: Replaced::Some,
            ..ANY
        },
        seed: "000 stage 4, steps 4, 6 and 8",
        text: "{record}, field **{field}{key}**{payload}, in {file}: overwrite it with the real value and select Save (it now reads {placeholder}; KMF re-encrypts what is imported with {target}'s key). Open {link}",
    },
    Step {
        id: "secrets-kept",
        phase: Phase::Records,
        per: Per::Bundle,
        when: When {
            kind: Kind::KeptSecrets,
            ..ANY
        },
        seed: "000 stage 4",
        text: "Secrets were kept (--secrets keep): {kept} encrypted value(s) travel as they are and will not decrypt on {target} unless KMF Key Exchange is set up. Re-enter them after import.",
    },
    Step {
        id: "kmf-track",
        phase: Phase::After,
        per: Per::App,
        when: KMF_FIRST,
        seed: "000 stage 5, steps 1-4",
        text: "Type key in the Navigator and open All > Key Management Framework > Module Access Policies > All; filter the Script column to Script Includes, open **{script_include}**, change the access decision to **Track** and select Save. Once on {target}: later bundles for {app} do not repeat it.",
    },
    Step {
        id: "validate-connection",
        phase: Phase::After,
        per: Per::Record,
        when: When {
            tables: INSTANCES,
            intents: &[Intent::Copy, Intent::Move],
            ..ANY
        },
        seed: "000 stage 5, steps 5-6 and stage 8, steps 6-7",
        text: "On {target}, open the instance record {record} ({link}; All > Scan Engine > My SN Instances, active filters removed) and select **Validate Connection**: Connection Status must read Connection valid ({target} calls {url} with it).",
    },
    Step {
        id: "validate-twin",
        phase: Phase::After,
        per: Per::Record,
        when: When {
            tables: INSTANCES,
            intents: &[Intent::Derive],
            ..ANY
        },
        seed: "000 stage 7",
        text: "On {target}, open the new instance record {record} ({link}); its connection status was the original's and is reset. Check its OAuth Application Registry and OAuth User Profile, select Save, then **Validate Connection**: Connection Status must read Connection valid ({target} calls {url} with it).",
    },
    Step {
        id: "register-redirect",
        phase: Phase::Others,
        per: Per::Record,
        when: When {
            tables: &["oauth_entity"],
            intents: &[Intent::Move, Intent::Derive],
            kind: Kind::ThirdPartyProvider,
            ..ANY
        },
        seed: "001 and 004 (Redirect URL)",
        text: "Register the redirect URL {redirect} of {record} with its provider (the one issuing tokens at {token_url}): it sends authorization codes only to the redirect URLs registered with it.",
    },
    Step {
        id: "hand-to-client",
        phase: Phase::Others,
        per: Per::Record,
        when: EXTERNAL_CLIENT,
        seed: "002 (Copy and Store Client ID and Client Secret; Prepare Values for the Python Script)",
        text: "Hand the owner of the external client of {record}: the client_id {client_id} (not a secret), the client secret you entered (through a safe channel), the redirect URL {redirect}, the instance URL {instance} and the scopes {scopes}.",
    },
    Step {
        id: "scopes-exist",
        phase: Phase::Others,
        per: Per::Record,
        when: EXTERNAL_CLIENT,
        seed: "002 (Configure OAuth Scopes; Invalid scope)",
        text: "Every scope the client requests must exist on {record} on {target} (the bundle gives it: {scopes}); a request for any other fails with invalid_scope.",
    },
];

/// `true` when `table` is one of `tables` (`prefix_*_suffix` patterns allowed); an empty
/// list matches every table.
pub fn table_matches(tables: &[&str], table: &str) -> bool {
    tables.is_empty()
        || tables.iter().any(|t| match t.split_once('*') {
            Some((head, tail)) => {
                table.len() >= head.len() + tail.len()
                    && table.starts_with(head)
                    && table.ends_with(tail)
            }
            None => *t == table,
        })
}

/// The table as the README shows it: one row per step.
///
/// ```
/// let table = sn_retarget::handoff::steps_table();
/// assert!(table.lines().any(|l| l.starts_with("| `kmf-track` |")));
/// ```
pub fn steps_table() -> String {
    let mut out = String::from(
        "| step | phase | per | tables | scope | intent | replaced | kind | app new to target | seed |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for s in STEPS {
        let w = &s.when;
        let list = |v: Vec<String>| match v.is_empty() {
            true => "any".to_string(),
            false => v.join(", "),
        };
        let tables = list(w.tables.iter().map(|t| format!("`{t}`")).collect());
        let intents = list(w.intents.iter().map(|i| format!("`{i}`")).collect());
        let scope = match w.scope {
            ScopeIs::Any => "any".to_string(),
            ScopeIs::Scoped => "scoped".to_string(),
            ScopeIs::App(n) => format!("`{n}`"),
        };
        let replaced = match w.replaced {
            Replaced::Any => "-".to_string(),
            Replaced::Some => "a secret".to_string(),
            Replaced::Fields(f) => f
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let kind = match w.kind {
            Kind::Any => "-",
            Kind::ThirdPartyProvider => "third-party provider",
            Kind::ExternalEndpoint => "endpoint for external clients",
            Kind::ScopeChange => "scope changes",
            Kind::Files => "the files",
            Kind::KeptSecrets => "secrets kept",
        };
        let new = match w.new_to_target {
            None => "-",
            Some(true) => "yes",
            Some(false) => "no",
        };
        out.push_str(&format!(
            "| `{}` | {} | {:?} | {tables} | {scope} | {intents} | {replaced} | {kind} | {new} | {} |\n",
            s.id,
            s.phase.heading(),
            s.per,
            s.seed
        ));
    }
    out
}
