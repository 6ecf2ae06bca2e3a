//! Command-line arguments, and one function per command.

mod apply;
mod bundle;
mod check;
mod cleanup;
mod fork;
mod inspect;
mod plan;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `apply` and `bundle` check their outputs up to this many bytes (`check` holds every value
/// in memory).
pub const CHECK_LIMIT_BYTES: usize = 64_000_000;

/// Exit code for bad input, an unusable plan, or an output that cannot be written.
pub const EXIT_BAD_INPUT: u8 = 2;

/// The exports under `inputs` (files, folders, zip archives), never `outputs` (what this run
/// writes, should it be inside an input folder); none at all is an error (a mistyped folder, or
/// one without exports), whatever the command.
fn load(
    inputs: &[PathBuf],
    outputs: &[&std::path::Path],
) -> anyhow::Result<Vec<sn_retarget::io::Source>> {
    let limits = sn_retarget::io::Limits::default();
    let sources = sn_retarget::io::load_inputs_except(inputs, &limits, outputs)?;
    if sources.is_empty() {
        let named: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        anyhow::bail!("no *.xml or *.zip input found in {}", named.join(", "));
    }
    Ok(sources)
}

/// Prepare ServiceNow XML exports for import into another instance, offline.
#[derive(Parser)]
#[command(name = "sn-retarget", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List what exports hold: shape, records (also inside payloads), references, instance
    /// hosts, scopes and secret-bearing fields (never their values).
    Inspect {
        /// Export files, or folders to search for *.xml.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// JSON for tools instead of text for people (schema in the README).
        #[arg(long)]
        json: bool,
    },
    /// Rewrite exports for a target instance: sys_ids, instance URLs, scopes, secrets, fields.
    Apply(Box<ApplyArgs>),
    /// Rewrite a bundle (files, folders, zips) into an ordered folder or zip with
    /// manifest.json and CHECKLIST.md.
    Bundle(Box<BundleArgs>),
    /// Check a bundle offline: dangling references, secrets left, URL forms, OAuth consistency.
    /// Exit 1 when an error is found.
    Check {
        /// Export files, folders or zip archives.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// The instance the bundle is for.
        #[arg(long)]
        target: Option<String>,
        /// A namespace that should no longer occur (after `fork`: the old one); every
        /// occurrence, in any case, is an error (`old-namespace-left`). Repeatable.
        #[arg(long = "namespace")]
        namespaces: Vec<String>,
        /// Another application's namespace that starts with a --namespace one and is not a
        /// leftover of it (repeatable).
        #[arg(long = "keep-scope", value_name = "NAMESPACE", requires = "namespaces")]
        keep_scopes: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: CheckFormat,
    },
    /// Print the import order of a bundle, one file a line, with the reason for its place.
    Order {
        /// Export files, folders or zip archives.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Copy a scoped application into a new scope: every record it defines gets a new sys_id,
    /// its namespace is renamed wherever it names the application, files follow. Refused
    /// (exit 2, nothing written) when the fork's check finds the old namespace, an old sys_id
    /// or a secret left.
    Fork(Box<ForkArgs>),
    /// Write a commented plan inferred from the input, to edit and pass to `apply --plan`.
    Plan {
        /// Export files, or folders to search for *.xml.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// The instance the output will be imported into.
        #[arg(long)]
        target: String,
        /// Where to write the plan (default: standard output).
        #[arg(short = 'o', long)]
        out: Option<PathBuf>,
        /// Replace an existing plan file.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Clone, Copy, ValueEnum)]
enum IdModeArg {
    Keep,
    Regenerate,
}

#[derive(Clone, Copy, ValueEnum)]
enum SecretArg {
    Placeholder,
    Blank,
    Keep,
}

#[derive(Args)]
struct BundleArgs {
    /// Export files, folders (searched for *.xml and *.zip) or zip archives.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output: a folder, or a FILE.zip.
    #[arg(long)]
    out: PathBuf,
    /// Write one <unload> holding every top-level record in import order, instead of one file
    /// per input.
    #[arg(long)]
    combine: bool,
    /// No progress bar.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Exit 1 when warnings were raised.
    #[arg(long)]
    strict: bool,
    /// Replace an existing bundle: only one this tool made, unchanged since (its
    /// .sn-retarget-bundle marker lists every file and its sha256).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    plan: PlanArgs,
}

#[derive(Args)]
struct ForkArgs {
    /// The application: a source-control repository (or its application folder), an
    /// update-set export, or a zip of either.
    app: PathBuf,
    /// The new namespace: x_<vendor prefix>_<name>, lower case, at most 18 characters.
    #[arg(long = "scope", value_name = "NEW_NAMESPACE")]
    scope: String,
    /// The application's new display name.
    #[arg(long)]
    name: Option<String>,
    /// The folder to write the fork to.
    #[arg(long)]
    out: PathBuf,
    /// Write what was done as JSON (every edit, the id map).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Replace an earlier fork into the same namespace (nothing else).
    #[arg(long)]
    force: bool,
    /// Seed for the new ids.
    #[arg(long)]
    seed: Option<String>,
    /// Re-point sys_ids: a CSV, TOML or report JSON (its id_map) file.
    #[arg(long)]
    map: Option<PathBuf>,
    /// Read the --map file the other way round: fork a fork back.
    #[arg(long, requires = "map")]
    map_reverse: bool,
    /// Another application's namespace that starts with the old one, left as it is
    /// (repeatable).
    #[arg(long = "keep-scope", value_name = "NAMESPACE")]
    keep_scopes: Vec<String>,
    /// Another secret field, as in `apply` (repeatable).
    #[arg(long = "secret-field")]
    secret_fields: Vec<String>,
    /// A field named like a secret that is not one, and why, as in `apply` (repeatable):
    /// `SELECTOR=REASON`.
    #[arg(long = "not-secret")]
    not_secret: Vec<String>,
}

#[derive(Args)]
struct ApplyArgs {
    /// Export files, folders (searched for *.xml and *.zip) or zip archives.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output: a FILE.xml for one input, else a folder (created if needed).
    #[arg(long, required_unless_present = "dry_run")]
    out: Option<PathBuf>,
    /// Write every edit to this JSON file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Compute and report, write no output (the report goes to standard output without --report).
    #[arg(long)]
    dry_run: bool,
    /// Replace existing output files (never a folder).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    plan: PlanArgs,
}

/// What to rewrite: the plan file and the flags laid over it.
#[derive(Args)]
struct PlanArgs {
    /// A plan file (TOML); flags given here override it.
    #[arg(long)]
    plan: Option<PathBuf>,
    /// The instance the output will be imported into.
    #[arg(long)]
    target: Option<String>,
    /// An instance whose URLs become the target's (repeatable).
    #[arg(long = "source")]
    sources: Vec<String>,
    /// Keep sys_ids, or regenerate those of every record the input defines.
    #[arg(long = "sys-ids", value_enum)]
    sys_ids: Option<IdModeArg>,
    /// Re-point sys_ids: a CSV (`old,new`) or TOML (`old = "new"`) file.
    #[arg(long)]
    map: Option<PathBuf>,
    /// Read the --map file the other way round (new,old): undo an earlier apply.
    #[arg(long, requires = "map")]
    map_reverse: bool,
    /// Seed for generated ids and values.
    #[arg(long)]
    seed: Option<String>,
    /// Regenerate natural-key tables' ids too (sys_properties, sys_user_group, ...).
    #[arg(long)]
    force_natural_keys: bool,
    /// Give `table.field` values new deterministic values, consistently (repeatable).
    #[arg(long = "regenerate-field")]
    regenerate_fields: Vec<String>,
    /// Rename a scope, OLD=NEW: two sys_ids or two namespaces (repeatable).
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Also rename renamed namespaces where they prefix names in text.
    #[arg(long)]
    scope_prefix: bool,
    /// What to do with secret values.
    #[arg(long, value_enum)]
    secrets: Option<SecretArg>,
    /// Another secret field (repeatable): `table.field`, or `table[field=value].field` for
    /// some records (`sys_properties[name=x.api_key].value`).
    #[arg(long = "secret-field")]
    secret_fields: Vec<String>,
    /// A field named like a secret that is not one, and why (repeatable): `SELECTOR=REASON`,
    /// e.g. `x_app_config.token_hint=a label shown to users`.
    #[arg(long = "not-secret")]
    not_secret: Vec<String>,
    /// Placeholder template: {table}, {field}, {sys_id}, {name}.
    #[arg(long)]
    placeholder: Option<String>,
    /// Set a field: `table.field=VALUE` (repeatable).
    #[arg(long = "set")]
    set: Vec<String>,
    /// Replace inside a field: `table.field:OLD=NEW` (repeatable).
    #[arg(long = "replace")]
    replace: Vec<String>,
}

/// Checks outputs like `check` (up to [`CHECK_LIMIT_BYTES`]) and prints the warnings and
/// errors on standard error.
/// `total` is the outputs' size; `outputs` gives them (name, bytes), only called when they are
/// checked.
fn check_printed<'a>(
    plan: &sn_retarget::plan::Plan,
    report: &sn_retarget::apply::ApplyReport,
    total: usize,
    outputs: impl FnOnce() -> Vec<(&'a str, std::borrow::Cow<'a, [u8]>)>,
) -> anyhow::Result<Vec<sn_retarget::check::Finding>> {
    if total > CHECK_LIMIT_BYTES {
        eprintln!(
            "sn-retarget: note: outputs over {} MB; run `sn-retarget check` on them separately",
            CHECK_LIMIT_BYTES / 1_000_000
        );
        return Ok(Vec::new());
    }
    let outputs = outputs();
    let outputs: Vec<(&str, &[u8])> = outputs.iter().map(|(n, b)| (*n, &**b)).collect();
    let findings = sn_retarget::apply::check_named(plan, report, &outputs)?;
    for f in findings
        .iter()
        .filter(|f| f.severity >= sn_retarget::Severity::Warning)
    {
        let l = &f.location;
        eprintln!(
            "sn-retarget: check: {}:{}:{}: {}[{}]: {}",
            l.file, l.line, l.column, f.severity, f.rule, f.message
        );
    }
    Ok(findings)
}

/// `true` (and said on standard error) when the checks found in the outputs what the run was
/// meant to remove: a secret (unless the plan keeps them), a source host, an old sys_id, an old
/// namespace. The run then writes nothing and exits 2.
fn left_behind(plan: &sn_retarget::plan::Plan, findings: &[sn_retarget::check::Finding]) -> bool {
    let keep = plan.secrets == sn_retarget::plan::SecretMode::Keep;
    let left: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|f| f.rule)
        .filter(|r| {
            matches!(
                *r,
                "source-host-left" | "old-id-left" | "old-namespace-left"
            ) || (*r == "secret-left" && !keep)
        })
        .collect();
    if !left.is_empty() {
        let rules: Vec<&str> = left.iter().copied().collect();
        eprintln!(
            "sn-retarget: error: the output would still hold what the plan removes ({} above); nothing was written",
            rules.join(", ")
        );
    }
    !left.is_empty()
}

/// Removes partial outputs on Ctrl-C, SIGTERM and SIGHUP; a file-size limit is a write error.
pub fn install_cleanup() {
    cleanup::install();
}

/// Runs one command; an interrupted run ends in its signal handler (exit 130).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let result = run_command(cli);
    cleanup::wait_if_interrupted();
    result
}

fn run_command(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Inspect { inputs, json } => inspect::run(&inputs, json),
        Command::Apply(args) => apply::run(*args),
        Command::Bundle(args) => bundle::run(*args),
        Command::Order { inputs, json } => bundle::order(&inputs, json),
        Command::Fork(args) => fork::run(*args),
        Command::Check {
            inputs,
            target,
            namespaces,
            keep_scopes,
            format,
        } => check::run(
            &inputs,
            target.as_deref(),
            &namespaces,
            &keep_scopes,
            format,
        ),
        Command::Plan {
            inputs,
            target,
            out,
            force,
        } => plan::run(&inputs, &target, out.as_deref(), force),
    }
}

/// Leaves `data` to the operating system: the process is about to exit, and freeing millions
/// of small allocations one by one (outputs, edits, id maps) would only delay it.
fn exit_soon<T>(data: T) {
    std::mem::forget(data);
}
