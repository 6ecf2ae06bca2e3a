//! Command-line arguments, and one function per command.

/// `eprintln!` for messages that may hold text from the input (file, entry and record names):
/// escape sequences, other control characters and bidirectional overrides are shown escaped.
macro_rules! say {
    ($($arg:tt)*) => {
        eprintln!("{}", sn_retarget::untrusted::terminal(&format!($($arg)*)))
    };
}

pub mod alloc;
mod apply;
mod bundle;
mod check;
mod cleanup;
mod examples;
mod fork;
mod generate;
mod inspect;
mod plan;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `apply` and `bundle` check their outputs up to this many bytes (`check` holds every value
/// in memory).
pub const CHECK_LIMIT_BYTES: usize = sn_retarget::check::CHECK_LIMIT_BYTES;

/// Exit code for bad input, an unusable plan, or an output that cannot be written.
pub const EXIT_BAD_INPUT: u8 = 2;

/// The exports under `inputs` (files, folders, zip archives), never `outputs` (what this run
/// writes, should it be inside an input folder); none at all is an error (a mistyped folder, or
/// one without exports), whatever the command.
fn load(
    inputs: &[PathBuf],
    outputs: &[&std::path::Path],
) -> anyhow::Result<Vec<sn_retarget::Source>> {
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
#[command(name = "sn-retarget", version, about, after_help = examples::MAIN)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List what exports hold: shape, records (also inside payloads), references, instance
    /// hosts, scopes and secret-bearing fields (never their values).
    #[command(after_help = examples::INSPECT)]
    Inspect {
        /// Export files, or folders to search for *.xml.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// JSON for tools instead of text for people (schema in the README).
        #[arg(long)]
        json: bool,
    },
    /// Rewrite exports for a target instance: sys_ids, instance URLs, scopes, secrets, fields.
    #[command(after_help = examples::APPLY)]
    Apply(Box<ApplyArgs>),
    /// Rewrite a bundle (files, folders, zips) into an ordered folder or zip with
    /// manifest.json and CHECKLIST.md.
    #[command(after_help = examples::BUNDLE)]
    Bundle(Box<BundleArgs>),
    /// Check a bundle offline: dangling references, secrets left, URL forms, OAuth consistency.
    /// Exit 1 when an error is found.
    #[command(after_help = examples::CHECK)]
    Check(CheckArgs),
    /// Print the import order of a bundle, one file a line, with the reason for its place.
    /// With plan options (as for `bundle`), the order of the bundle they would make: its
    /// files, new ids and names.
    #[command(after_help = examples::ORDER)]
    Order(Box<OrderArgs>),
    /// Copy a scoped application into a new scope: every record it defines gets a new sys_id,
    /// its namespace is renamed wherever it names the application, files follow. Refused
    /// (exit 2, nothing written) when the fork's check finds the old namespace, an old sys_id
    /// or a secret left.
    #[command(after_help = examples::FORK)]
    Fork(Box<ForkArgs>),
    /// Write a commented plan inferred from the input, to edit and pass to `apply --plan`.
    #[command(after_help = examples::PLAN)]
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
    /// Print the completion script of a shell for sn-retarget's commands and options.
    #[command(after_help = examples::COMPLETIONS)]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a folder.
    #[command(after_help = examples::MAN)]
    Man {
        /// Write sn-retarget.1 and a sn-retarget-COMMAND.1 per command into this folder (made
        /// if needed), all or none.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Replace existing pages.
        #[arg(long, requires = "dir")]
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
enum IntentArg {
    /// As they are: records keep describing what they describe (URLs and ids kept, secrets
    /// out). Seed 000 stages 3 and 8.
    Copy,
    /// Records now describe the target: the host map applies. Seeds 001/004, 002, 003.
    Move,
    /// A new twin beside the original: new ids, --label renames, one new client_id per
    /// ServiceNow-to-ServiceNow pair, the host map, connection state reset. Seed 000 stage 6.
    Derive,
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

impl From<IntentArg> for sn_retarget::plan::Intent {
    fn from(i: IntentArg) -> Self {
        match i {
            IntentArg::Copy => Self::Copy,
            IntentArg::Move => Self::Move,
            IntentArg::Derive => Self::Derive,
        }
    }
}

impl From<IdModeArg> for sn_retarget::plan::IdMode {
    fn from(m: IdModeArg) -> Self {
        match m {
            IdModeArg::Keep => Self::Keep,
            IdModeArg::Regenerate => Self::Regenerate,
        }
    }
}

impl From<SecretArg> for sn_retarget::plan::SecretMode {
    fn from(s: SecretArg) -> Self {
        match s {
            SecretArg::Placeholder => Self::Placeholder,
            SecretArg::Blank => Self::Blank,
            SecretArg::Keep => Self::Keep,
        }
    }
}

/// `word` as one shell word in a command shown to be copied: as it is when plain, else in
/// single quotes.
fn shell_word(word: &str) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'+');
    match !word.is_empty() && word.bytes().all(plain) {
        true => word.to_string(),
        false => format!("'{}'", word.replace('\'', "'\\''")),
    }
}

/// `sn-retarget check`'s flags.
#[derive(Args)]
pub struct CheckArgs {
    /// Export files, folders or zip archives.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The instance the bundle is for (a bundle's manifest.json made for another instance
    /// is an error).
    #[arg(long)]
    target: Option<String>,
    /// An instance the files were moved away from (repeatable): a value still naming it is
    /// an error (`source-host-left`). A bundle's manifest.json names its own.
    #[arg(long = "source", value_name = "INSTANCE")]
    sources: Vec<String>,
    /// A namespace that should no longer occur (after `fork`: the old one); every
    /// occurrence, in any case, is an error (`old-namespace-left`). Repeatable.
    #[arg(long = "namespace")]
    namespaces: Vec<String>,
    /// Another application's namespace that starts with a --namespace one and is not a
    /// leftover of it (repeatable).
    #[arg(long = "keep-scope", value_name = "NAMESPACE", requires = "namespaces")]
    keep_scopes: Vec<String>,
    /// A record that already exists on the target, `table:name-or-sys_id` (repeatable):
    /// references to it are notes, not missing records.
    #[arg(long = "existing", value_name = "TABLE:NAME")]
    existing: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,
}

#[derive(Args)]
struct OrderArgs {
    /// Export files, folders or zip archives.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    plan: PlanArgs,
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
    /// Output: a FILE.xml for one input, else a folder (created if needed); several inputs and
    /// a FILE.xml are refused.
    #[arg(long, required_unless_present = "dry_run")]
    out: Option<PathBuf>,
    /// Write every edit to this JSON file (`/dev/stdout`, `/dev/null` or a pipe are written as
    /// they are).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Also write a review page (one self-contained HTML file): each output in import order,
    /// each record and changed field old -> new (secrets only as replaced), the findings and
    /// the checklist of steps around the import.
    #[arg(long, value_name = "FILE.html", conflicts_with = "dry_run")]
    review: Option<PathBuf>,
    /// Compute and report, write no output (the report goes to standard output without --report).
    #[arg(long)]
    dry_run: bool,
    /// Replace existing output files (never a folder).
    #[arg(long)]
    force: bool,
    /// Errors only on standard error (no warnings, no summary).
    #[arg(long, short = 'q')]
    quiet: bool,
    #[command(flatten)]
    plan: PlanArgs,
}

/// What to rewrite: the plan file and the flags laid over it.
#[derive(Args)]
struct PlanArgs {
    /// A plan file (TOML); flags given here override it.
    #[arg(long)]
    plan: Option<PathBuf>,
    /// What the output is for (default: move when a host is mapped, ids regenerated or a
    /// label renamed; else copy).
    #[arg(long, value_enum)]
    intent: Option<IntentArg>,
    /// The instance the output will be imported into (default: the host map's target, when
    /// every --host maps to one).
    #[arg(long)]
    target: Option<String>,
    /// An instance whose URLs (and bare names) become the target's (repeatable; several that
    /// the input all holds are refused: map each with --host).
    #[arg(long = "source")]
    sources: Vec<String>,
    /// Map one instance to another, OLD=NEW (repeatable): each source to its own target.
    #[arg(long = "host", value_name = "OLD=NEW")]
    hosts: Vec<String>,
    /// Rename a whole word in the display fields (name, sys_name, label, title) of the
    /// records the input defines, OLD=NEW (repeatable): Dev=Prod makes "OAuth Client Dev"
    /// "OAuth Client Prod" and leaves "Development" alone.
    #[arg(long = "label", value_name = "OLD=NEW")]
    labels: Vec<String>,
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
    /// Set a field: `table.field=VALUE`, or for some records `table[field=value].field=VALUE`
    /// or `table[sys_id].field=VALUE` (repeatable).
    #[arg(long = "set")]
    set: Vec<String>,
    /// Replace a whole word (or phrase) inside a field: `table.field:OLD=NEW`, selectors as for
    /// --set (repeatable). Dev=Prod leaves "Development" alone.
    #[arg(long = "replace")]
    replace: Vec<String>,
    /// Replace every occurrence, inside words too: `table.field:OLD=NEW` (repeatable).
    #[arg(long = "replace-substring")]
    replace_substring: Vec<String>,
    /// Write only these records: `table`, `table[sys_id]` or `table[field=value]`
    /// (repeatable; a record holding a selected one, e.g. its update, is written whole).
    #[arg(long = "only", value_name = "SELECTOR")]
    only: Vec<String>,
    /// Leave these records out (selectors as for --only; repeatable).
    #[arg(long = "exclude", value_name = "SELECTOR")]
    exclude: Vec<String>,
    /// A record that already exists on the target, `table:name-or-sys_id` (repeatable):
    /// references to it are expected, and derive never gives it a new id.
    #[arg(long = "existing", value_name = "TABLE:NAME")]
    existing: Vec<String>,
    /// A state column a derived twin starts empty, `table.field`, besides the built-in ones
    /// (repeatable).
    #[arg(long = "reset-field")]
    reset_fields: Vec<String>,
}

/// Says why a job stopped: the findings first when the outputs still held what the plan
/// removes, then [`refused`].
fn stopped(e: &sn_retarget::Error, quiet: bool) -> anyhow::Result<std::process::ExitCode> {
    if let sn_retarget::ErrorKind::LeftBehind(findings) = e.kind() {
        print_findings(findings, quiet, None);
    }
    refused(e)
}

/// Says why a job stopped (with the offending line when an input is not well-formed) and
/// returns exit code 2.
fn refused(e: &sn_retarget::Error) -> anyhow::Result<std::process::ExitCode> {
    say!("sn-retarget: error: {e}");
    if let Some(s) = e.read_error().and_then(|r| r.location().snippet.as_ref()) {
        say!("{s}");
    }
    Ok(std::process::ExitCode::from(EXIT_BAD_INPUT))
}

/// Findings of one rule and severity shown before the rest are counted.
const SHOWN_PER_RULE: usize = 3;

/// Prints the errors and warnings among `findings` (errors only when `quiet`) on standard
/// error: the first few of each rule, then how many more there are and where all of them are
/// (`all_in`, when something was written).
fn print_findings(findings: &[sn_retarget::check::Finding], quiet: bool, all_in: Option<&str>) {
    use sn_retarget::Severity;
    let floor = if quiet {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut shown: std::collections::BTreeMap<(&str, Severity), usize> = Default::default();
    for f in findings.iter().filter(|f| f.severity >= floor) {
        let n = shown.entry((f.rule, f.severity)).or_insert(0);
        *n += 1;
        if *n <= SHOWN_PER_RULE {
            let l = &f.location;
            say!(
                "sn-retarget: check: {}:{}:{}: {}[{}]: {}",
                l.file,
                l.line,
                l.column,
                f.severity,
                f.rule,
                f.message
            );
        }
    }
    for ((rule, severity), n) in shown {
        if n > SHOWN_PER_RULE {
            let more = n - SHOWN_PER_RULE;
            match all_in {
                Some(all_in) => say!(
                    "sn-retarget: check: ... and {more} more {severity}(s) [{rule}] ({n} in all; every finding is in {all_in})"
                ),
                None => say!(
                    "sn-retarget: check: ... and {more} more {severity}(s) [{rule}] ({n} in all)"
                ),
            }
        }
    }
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
        Command::Order(a) => bundle::order(&a.inputs, a.json, &a.plan),
        Command::Fork(args) => fork::run(*args),
        Command::Check(args) => check::run(&args),
        Command::Plan {
            inputs,
            target,
            out,
            force,
        } => plan::run(&inputs, &target, out.as_deref(), force),
        Command::Completions { shell } => generate::completions(shell),
        Command::Man { dir, force } => generate::man(dir.as_deref(), force),
    }
}

/// Leaves `data` to the operating system: the process is about to exit, and freeing millions
/// of small allocations one by one (outputs, edits, id maps) would only delay it.
fn forget_before_exit<T>(data: T) {
    std::mem::forget(data);
}
