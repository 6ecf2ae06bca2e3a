//! What a run of `apply` did: the report (`--report`), and the outputs in memory.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::plan::tokens::ChangeKind;
use crate::plan::{
    ClientIdChange, EditEntry, Intent, LeftOut, Plan, PlanError, RecordNote, SecretNote,
};

/// One output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Output {
    /// The input's name.
    pub name: String,
    /// The output bytes.
    pub bytes: Vec<u8>,
    /// Number of edits made.
    pub edits: usize,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FileEdits {
    /// The input's name.
    pub input: String,
    /// Where the output went (filled in by whoever writes it).
    pub output: Option<String>,
    /// Number of edits.
    pub edits: usize,
    /// Edits per rule.
    pub counts: BTreeMap<ChangeKind, usize>,
    /// Every edit (when details were asked for).
    pub entries: Vec<EditEntry>,
    /// Things worth a look.
    pub warnings: Vec<String>,
    /// Top-level records left out by `--only` / `--exclude`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
    /// `true` when every record was left out: the file has no output.
    pub dropped: bool,
    /// Every record as the output describes it: its new id and name, and the input's when
    /// they changed (when details were asked for).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<RecordNote>,
}

/// A secret to re-enter, with the file it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FileSecret {
    /// The input's name.
    pub file: String,
    /// The record and field.
    #[serde(flatten)]
    pub note: SecretNote,
}

/// A source host and the host it became.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct HostPair {
    /// The source instance's host.
    pub from: String,
    /// The target's.
    pub to: String,
}

/// An old -> new sys_id pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct IdPair {
    /// Before.
    pub old: String,
    /// After.
    pub new: String,
}

/// A natural-key record whose id was kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct KeptId {
    /// Its table (matched by natural key on import).
    pub table: String,
    /// Its sys_id, unchanged.
    pub sys_id: String,
}

/// The report of an `apply` run (`--report FILE.json`). Secret values never appear in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ApplyReport {
    /// The plan as given.
    pub plan: Plan,
    /// What the output is for (as given, or inferred from the plan).
    pub intent: Intent,
    /// The instance the output is for (its host).
    pub target: Option<String>,
    /// The host map in force: each source host and the host it became.
    pub hosts: Vec<HostPair>,
    /// Records that already exist on the target (`table:name-or-sys_id`, as given).
    pub existing: Vec<String>,
    /// Per file, in input order.
    pub files: Vec<FileEdits>,
    /// Edits per rule, all files.
    pub totals: BTreeMap<ChangeKind, usize>,
    /// Every sys_id changed, sorted by old id (feed it back, reversed, to undo).
    pub id_map: Vec<IdPair>,
    /// Records of natural-key tables whose ids were kept.
    pub natural_keys_kept: Vec<KeptId>,
    /// Every secret replaced, in input order: what to re-enter, where.
    pub secrets: Vec<FileSecret>,
    /// `oauth_entity.client_id` values changed (client ids are not secrets), sorted.
    pub client_ids: Vec<ClientIdChange>,
    /// Rules of the plan that applied nowhere (each worth a look).
    pub warnings: Vec<String>,
    /// What `check` finds in the outputs (filled by [`check_outputs`](crate::apply::check_outputs); empty otherwise).
    pub findings: Vec<crate::check::Finding>,
}

impl ApplyReport {
    /// The report of a run of `plan` that changed nothing in one file, `input`, written to
    /// `output` (a plan that changes nothing, as [`Rewriter::is_identity`](crate::plan::Rewriter::is_identity) says).
    pub fn unchanged(plan: &Plan, input: &str, output: &str) -> Result<ApplyReport, PlanError> {
        let rules = plan.compile()?;
        Ok(ApplyReport {
            plan: plan.clone(),
            intent: rules.intent,
            target: rules.target.as_ref().map(|t| t.host().to_string()),
            hosts: Vec::new(),
            existing: rules.existing.iter().map(ToString::to_string).collect(),
            files: vec![FileEdits {
                input: input.to_string(),
                output: Some(output.to_string()),
                edits: 0,
                counts: BTreeMap::new(),
                entries: Vec::new(),
                warnings: Vec::new(),
                left_out: Vec::new(),
                dropped: false,
                records: Vec::new(),
            }],
            totals: BTreeMap::new(),
            id_map: Vec::new(),
            natural_keys_kept: Vec::new(),
            secrets: Vec::new(),
            client_ids: Vec::new(),
            warnings: Vec::new(),
            findings: Vec::new(),
        })
    }
}

/// The outputs and the report.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Applied {
    /// One per input, in input order.
    pub outputs: Vec<Output>,
    /// What was done.
    pub report: ApplyReport,
}
