//! The `apply` job: a plan and inputs in, outputs and a report out.
//!
//! [`Apply`] is the way in: a builder over a [`Plan`] that rewrites inputs in memory
//! ([`Apply::run`]) or from files to files ([`Apply::write_to`]: inputs checked first, every
//! output staged beside its place and all moved in together, nothing left behind on an error).
//! After the rewrite, the outputs are checked like `check` does ([`Apply::check_outputs`]): a
//! secret, a source host or an old sys_id still in them stops the job. For one file in memory,
//! [`crate::retarget`] is the one call.
//!
//! ```
//! use sn_retarget::apply::Apply;
//! use sn_retarget::plan::Plan;
//! let input = br#"<unload><oauth_entity action="INSERT_OR_UPDATE"><client_secret>)pR#c2VjcmV0c2VjcmV0</client_secret><redirect_url>https://dev1.service-now.com/oauth_redirect.do</redirect_url><sys_id>0123456789abcdef0123456789abcdef</sys_id></oauth_entity></unload>"#;
//! let plan = Plan { target: Some("prod1".into()), sources: vec!["dev1".into()], ..Plan::default() };
//! let applied = Apply::new(plan).details(true).run(&[("dev.xml", &input[..])]).unwrap();
//! let out = String::from_utf8(applied.outputs[0].bytes.clone()).unwrap();
//! assert!(out.contains("https://prod1.service-now.com/oauth_redirect.do"));
//! assert!(out.contains("SN-RETARGET-SECRET(oauth_entity.client_secret:0123456789abcdef0123456789abcdef)"));
//! assert_eq!(applied.report.secrets.len(), 1);
//! ```

#[cfg(feature = "io")]
mod disk;
mod prepare;
mod report;

use std::path::PathBuf;

#[cfg(feature = "io")]
pub use disk::Written;
pub use prepare::{
    Prepared, Unverified, apply, apply_with, check_named, check_outputs, prepare,
    prepare_unverified, prepare_with_rules,
};
pub use report::{Applied, ApplyReport, FileEdits, FileSecret, HostPair, IdPair, KeptId, Output};

use crate::check::CHECK_LIMIT_BYTES;
use crate::error::{Error, ErrorKind};
use crate::plan::{Plan, SecretMode};

/// Applies a plan: in memory ([`Apply::run`]) or from files to files ([`Apply::write_to`]).
///
/// Settings take `&mut self` and return it, so that they chain on a new builder; a builder can
/// run many times.
#[derive(Debug, Clone)]
pub struct Apply {
    plan: Plan,
    details: bool,
    check_outputs: bool,
    report_to: Option<PathBuf>,
    dry_run: bool,
}

impl Apply {
    /// A job for `plan`: no details, outputs checked, nothing but the outputs written.
    pub fn new(plan: Plan) -> Apply {
        Apply {
            plan,
            details: false,
            check_outputs: true,
            report_to: None,
            dry_run: false,
        }
    }

    /// Keep every edit in the report (its `entries`, `records`): what `--report` writes.
    pub fn details(&mut self, yes: bool) -> &mut Apply {
        self.details = yes;
        self
    }

    /// Check the outputs as `check` does (on by default): the findings go into the report, and
    /// a secret (unless the plan keeps them), a source host, an old sys_id or an old namespace
    /// still in them stops the job ([`ErrorKind::LeftBehind`]). Outputs over
    /// [`CHECK_LIMIT_BYTES`] together are not checked ([`Written::checked`] says so).
    pub fn check_outputs(&mut self, yes: bool) -> &mut Apply {
        self.check_outputs = yes;
        self
    }

    /// [`Apply::write_to`] also writes the report there (as JSON, with the outputs: all or
    /// nothing; a special file such as `/dev/stdout` or a pipe is written as it is). Turns
    /// details on.
    pub fn report_to(&mut self, path: impl Into<PathBuf>) -> &mut Apply {
        self.report_to = Some(path.into());
        self.details = true;
        self
    }

    /// [`Apply::write_to`] computes, checks and reports, and writes no output.
    pub fn dry_run(&mut self, yes: bool) -> &mut Apply {
        self.dry_run = yes;
        self
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Rewrites `inputs` (name, bytes) in memory: the outputs (one per input, in order) and the
    /// report, with the checks' findings when [`Apply::check_outputs`].
    pub fn run(&self, inputs: &[(&str, &[u8])]) -> Result<Applied, Error> {
        let mut applied = apply(&self.plan, inputs, self.details)?;
        let total: usize = applied.outputs.iter().map(|o| o.bytes.len()).sum();
        if self.check_outputs && total <= CHECK_LIMIT_BYTES {
            check_outputs(&self.plan, &mut applied)?;
            refuse_left_behind(&self.plan, &applied.report.findings)?;
        }
        Ok(applied)
    }

    /// Rewrites the exports under `inputs` (files, folders searched for `*.xml` and `*.zip`,
    /// zip archives; never `out` itself, should it be inside an input folder) into `out`: a
    /// `FILE.xml` for one input, else a folder where each output keeps its input's relative
    /// path. An existing output is refused unless `force`; an input is never written over.
    /// Every output (and the report, [`Apply::report_to`]) is staged beside its place and all
    /// are moved in together once all are written and checked: on any error nothing is left.
    #[cfg(feature = "io")]
    pub fn write_to(
        &self,
        inputs: &[PathBuf],
        out: &std::path::Path,
        force: bool,
    ) -> Result<Written, Error> {
        disk::write_to(self, inputs, out, force)
    }
}

/// Stops a job whose outputs still hold what the plan removes (see [`Apply::check_outputs`]):
/// [`ErrorKind::LeftBehind`] with every finding when one of them is a secret (unless the plan
/// keeps them), a source host, an old sys_id or an old namespace.
///
/// ```
/// use sn_retarget::apply::refuse_left_behind;
/// use sn_retarget::plan::Plan;
/// assert!(refuse_left_behind(&Plan::default(), &[]).is_ok());
/// ```
pub fn refuse_left_behind(plan: &Plan, findings: &[crate::check::Finding]) -> Result<(), Error> {
    let keep = plan.secrets == SecretMode::Keep;
    let left = |rule: &str| {
        matches!(
            rule,
            "source-host-left" | "old-id-left" | "old-namespace-left"
        ) || (rule == "secret-left" && !keep)
    };
    match findings.iter().any(|f| left(f.rule)) {
        true => Err(ErrorKind::LeftBehind(findings.to_vec()).into()),
        false => Ok(()),
    }
}

/// Retargets one export in memory: the input with the plan's edits, checked (see
/// [`Apply::check_outputs`]). A plan's [`Default`] changes nothing but secrets, which become
/// placeholders; an untouched input comes back byte for byte.
///
/// ```
/// use sn_retarget::{Plan, retarget};
/// let xml = b"<unload><sys_script action=\"INSERT_OR_UPDATE\"><name>x</name><url>https://dev1.service-now.com/x.do</url></sys_script></unload>";
/// // The default plan changes nothing here.
/// assert_eq!(retarget(xml, &Plan::default()).unwrap(), xml);
/// // A plan from the same TOML `--plan` reads.
/// let plan: Plan = toml::from_str("hosts = { dev1 = \"acme\" }").unwrap();
/// let out = retarget(xml, &plan).unwrap();
/// assert!(String::from_utf8(out).unwrap().contains("https://acme.service-now.com/x.do"));
/// ```
pub fn retarget(input: &[u8], plan: &Plan) -> Result<Vec<u8>, Error> {
    let mut applied = Apply::new(plan.clone()).run(&[("input", input)])?;
    Ok(applied.outputs.remove(0).bytes)
}
