//! A scoped application copied into a new scope, offline (`sn-retarget fork`).
//!
//! In: an [`App`] (a source-control repository or application folder, an update-set export, or
//! a zip of either, read with [`App::load`]) and [`ForkOptions`] (the new namespace, and
//! optionally a new display name, a seed and an id map). Out: [`Forked`]: every file with its
//! new path and bytes, and a [`ForkReport`].
//!
//! The exports go through the same rewrite as `apply` (see [`crate::plan`]): every record the
//! application defines gets a new sys_id (natural-key tables included: their keys change with
//! the namespace, and kept ids would overwrite the original application's records on an
//! instance holding both), derived from the old id, the seed and the new namespace, so the same
//! input and settings give the same bytes; the application's own sys_id changes even when its
//! `sys_app` record is not in the input; references to records outside the application keep
//! theirs. The namespace is renamed wherever it stands as an identifier or starts one
//! ([`crate::plan::namespace`]), in values and markup, at every payload depth, but never
//! inside a longer identifier or another application's longer namespace. Paths follow:
//! `<table>_<sys_id>.xml` takes the new id, names holding the namespace are renamed, a folder
//! named by the application's sys_id takes the new one, and `sn_source_control.properties`
//! points at it.
//!
//! `checksum.txt` is dropped. ServiceNow's source control writes it to tell whether the
//! application's files changed outside the instance; it cannot be computed here, and the old
//! one describes files that no longer exist. On import or when applying remote changes, an
//! instance validates and sanitizes the files when the checksum is missing or does not match
//! (so a stale one gains nothing), and writes a new one at the next commit. Releases and
//! instances that require it (`glide.source_control.checksum_required`) refuse a repository
//! whose checksum is missing or invalid ("checksum.txt either is missing or contains an invalid
//! checksum"), whichever of the two it is: import such a fork as an update set instead.
//!
//! ```
//! use sn_retarget::fork::{fork, App, ForkOptions};
//! let app = App::from_files(vec![
//!     ("sys_app_6ead8e780f603200cd674f8ce1050ed1.xml".into(), br#"<?xml version="1.0" encoding="UTF-8"?><record_update table="sys_app"><sys_app action="INSERT_OR_UPDATE"><name>NeedIt</name><scope>x_1_needit</scope><sys_id>6ead8e780f603200cd674f8ce1050ed1</sys_id></sys_app></record_update>"#.to_vec()),
//!     ("update/sys_properties_0123456789abcdef0123456789abcdef.xml".into(), br#"<?xml version="1.0" encoding="UTF-8"?><record_update table="sys_properties"><sys_properties action="INSERT_OR_UPDATE"><name>x_1_needit.max</name><sys_id>0123456789abcdef0123456789abcdef</sys_id><sys_scope display_value="NeedIt">6ead8e780f603200cd674f8ce1050ed1</sys_scope></sys_properties></record_update>"#.to_vec()),
//! ]);
//! let options = ForkOptions { name: Some("NeedIt Two".into()), ..ForkOptions::new("x_2_needit") };
//! let forked = fork(&app, &options).unwrap();
//! let text = String::from_utf8(forked.files[1].bytes.clone()).unwrap();
//! assert!(text.contains("<name>x_2_needit.max</name>"));
//! assert!(text.contains(r#"<sys_scope display_value="NeedIt Two">"#));
//! assert!(!text.contains("6ead8e780f603200cd674f8ce1050ed1"));
//! // The file is named by the record's new id.
//! let new_id = &forked.report.apply.id_map.iter().find(|p| p.old == "0123456789abcdef0123456789abcdef").unwrap().new;
//! assert_eq!(forked.files[1].output, std::path::PathBuf::from(format!("update/sys_properties_{new_id}.xml")));
//! ```

mod app;
mod identify;
mod paths;
mod report;

pub use app::{App, AppFile, CHECKSUM, FileKind, Layout, PROPERTIES, properties_path};
pub use identify::Survey;
pub use paths::Renamer;
pub use report::{Change, ForkReport, OtherAction, OtherFile, Summary};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::apply::{ApplyError, prepare_with_rules};
use crate::error::{Position, ReadError};
use crate::io::{InputError, OutputError};
use crate::plan::ids::{IdGen, IdMap};
use crate::plan::namespace::{NamespaceRenames, occurrences, scope_name_problem};
use crate::plan::{AppName, IdMode, Plan};

/// Why a fork was refused (nothing is written).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForkError {
    /// The new namespace is not a valid scope.
    #[error("--scope {namespace:?} is not a valid scope: {why}")]
    BadNamespace {
        /// As given.
        namespace: String,
        /// What is wrong.
        why: &'static str,
    },
    /// The new namespace is the application's own.
    #[error("the application's namespace is already {0}; give a new one")]
    SameNamespace(String),
    /// The new display name is empty or holds a control character.
    #[error("--name must be non-empty text without control characters")]
    BadName,
    /// No scoped application in the input.
    #[error(
        "no scoped application in the input (no sys_app record, and no record in a scope other than global)"
    )]
    NoApp,
    /// The application's namespace is not written anywhere in the input.
    #[error("the input never says the namespace of application {0}")]
    NoNamespace(String),
    /// More than one application.
    #[error("the input holds more than one application: {}; fork one at a time", .0.join(", "))]
    SeveralApps(Vec<String>),
    /// The new namespace already occurs in the input.
    #[error("{at}: the input already names {namespace}; forking into it would mix the two")]
    NamespaceInUse {
        /// The new namespace.
        namespace: String,
        /// `file:line:column` of its first occurrence.
        at: String,
    },
    /// `--name` given, but the application's current name is not in the input.
    #[error("--name: the application's current name is not in the input")]
    NoName,
    /// The repository layout is not usable.
    #[error("{0}")]
    Layout(String),
    /// Two files would be written to one path.
    #[error("{0}")]
    PathClash(String),
    /// An input could not be read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// An export is not well-formed.
    #[error("{0}")]
    Read(ReadError),
    /// The rewrite refused (a bad id map, ciphertext left...).
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// The output could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The output exists and is not an earlier fork into the same namespace.
    #[error("{}: exists and is not a fork into {namespace}; not replaced", path.display())]
    NotAFork {
        /// The output folder.
        path: PathBuf,
        /// The new namespace.
        namespace: String,
    },
    /// The output and the input overlap.
    #[error("{}: is the input, inside it or holds it; inputs are never modified", .0.display())]
    OverlapsInput(PathBuf),
}

/// What to fork into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkOptions {
    /// The new namespace (`x_<vendor>_<name>`).
    pub namespace: String,
    /// The new display name, if it changes.
    pub name: Option<String>,
    /// Mixed into the new sys_ids.
    pub seed: String,
    /// sys_ids to re-point, old -> new (`--map`; reversed, it undoes an earlier fork).
    pub map: BTreeMap<String, String>,
    /// Namespaces of other applications that start with the old one (`x_old_core` beside
    /// `x_old`), left as they are.
    pub keep: Vec<String>,
    /// Keep every edit in the report.
    pub details: bool,
}

impl ForkOptions {
    /// Options for `namespace`, nothing else.
    pub fn new(namespace: &str) -> ForkOptions {
        ForkOptions {
            namespace: namespace.to_string(),
            name: None,
            seed: String::new(),
            map: BTreeMap::new(),
            keep: Vec::new(),
            details: false,
        }
    }
}

/// One file of the fork.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkedFile {
    /// Its path in the input.
    pub input: PathBuf,
    /// Its path in the output.
    pub output: PathBuf,
    /// What it is.
    pub kind: FileKind,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The fork: its files (dropped ones left out) and the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forked {
    /// The files to write, in input order.
    pub files: Vec<ForkedFile>,
    /// What was done.
    pub report: ForkReport,
}

/// The placeholder names each file by: its path, `/` separated.
fn shown(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Forks `app` into `options.namespace`.
pub fn fork(app: &App, options: &ForkOptions) -> Result<Forked, ForkError> {
    let new = options.namespace.as_str();
    if let Some(why) = scope_name_problem(new) {
        return Err(ForkError::BadNamespace {
            namespace: new.to_string(),
            why,
        });
    }
    if let Some(n) = &options.name {
        if n.trim().is_empty() || crate::scan::first_control(n.as_bytes()).is_some() {
            return Err(ForkError::BadName);
        }
    }
    let layout = Layout::of(app)?;
    let kinds: Vec<FileKind> = app
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| layout.kind(i, f))
        .collect();
    let xml: Vec<usize> = (0..app.files.len())
        .filter(|&i| kinds[i] == FileKind::Xml)
        .collect();
    let names: Vec<String> = xml.iter().map(|&i| shown(&app.files[i].path)).collect();
    let inputs: Vec<(&str, &[u8])> = xml
        .iter()
        .zip(&names)
        .map(|(&i, n)| (n.as_str(), app.files[i].bytes.as_slice()))
        .collect();
    let survey = Survey::of(&inputs)?;
    let (entry, old, app_id) = survey.the_app()?;
    if old == new {
        return Err(ForkError::SameNamespace(old.to_string()));
    }
    refuse_in_use(new, &survey, &options.keep, &inputs)?;
    // Longer namespaces of other applications that start with the old one stay.
    let keep: Vec<String> = survey
        .namespaces
        .iter()
        .chain(&options.keep)
        .filter(|n| n.len() > old.len() && n.starts_with(old))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let plan = Plan {
        sys_ids: IdMode::Regenerate,
        seed: options.seed.clone(),
        map: options.map.clone(),
        force_natural_keys: true,
        scopes: vec![format!("{old}={new}")],
        scope_prefix: true,
        ..Plan::default()
    };
    let mut rules = plan.compile().map_err(ApplyError::from)?;
    // New ids depend on the new namespace too: two forks of one application differ.
    rules.seed = format!("{}\u{0}fork\u{0}{new}", options.seed);
    let app_new = IdGen::new(&rules.seed, "").sys_id(app_id);
    rules.map.entry(app_id.to_string()).or_insert(app_new);
    rules.keep_namespaces.clone_from(&keep);
    let old_name = entry.name.clone().unwrap_or_default();
    if let Some(n) = &options.name {
        if entry.name.is_none() {
            return Err(ForkError::NoName);
        }
        rules.app_name = Some(AppName {
            sys_id: app_id.to_string(),
            old: old_name.clone(),
            new: n.clone(),
        });
    }
    let placeholder = rules.placeholder.clone();
    let prepared = prepare_with_rules(&plan, rules, &inputs, options.details, &|| {})?;

    let mut ids = IdMap::default();
    for p in &prepared.report.id_map {
        ids.insert(&p.old, &p.new);
    }
    let renames =
        NamespaceRenames::new(vec![(old.to_string(), new.to_string())]).protect(keep.clone());
    let renamer = Renamer {
        ids: &ids,
        namespaces: &renames,
    };
    let mut files = Vec::with_capacity(app.files.len());
    let mut other_files = Vec::new();
    let mut warnings = Vec::new();
    warnings.extend(undefined_names(&inputs, old, &keep, &entry.tables));
    // The exports' outputs, in input order.
    let mut next_xml = 0;
    for (i, f) in app.files.iter().enumerate() {
        let output = renamer.path(&f.path);
        let (bytes, other) = match kinds[i] {
            FileKind::Xml => {
                next_xml += 1;
                (prepared.output(next_xml - 1, &f.bytes), None)
            }
            FileKind::Properties => match renamer.properties(&f.bytes) {
                Some(b) => (
                    b,
                    Some((
                        OtherAction::Rewritten,
                        "its path= names the application's renamed folder",
                    )),
                ),
                None => (
                    f.bytes.clone(),
                    Some((OtherAction::Copied, "its path= needs no change")),
                ),
            },
            FileKind::Checksum => {
                other_files.push(OtherFile {
                    input: shown(&f.path),
                    output: None,
                    action: OtherAction::Dropped,
                    why: "it describes the original files; ServiceNow validates the fork's files on import and writes a new one at the next commit".into(),
                });
                continue;
            }
            FileKind::Other => {
                if names_old(&f.bytes, old, &keep, &ids) {
                    warnings.push(format!(
                        "{}: copied as it is, but it names the old namespace or an old sys_id",
                        shown(&f.path)
                    ));
                }
                (
                    f.bytes.clone(),
                    Some((OtherAction::Copied, "not an export of the application")),
                )
            }
        };
        if let Some((action, why)) = other {
            other_files.push(OtherFile {
                input: shown(&f.path),
                output: Some(shown(&output)),
                action,
                why: why.to_string(),
            });
        }
        files.push(ForkedFile {
            input: f.path.clone(),
            output,
            kind: kinds[i],
            bytes,
        });
    }
    refuse_clashes(&files)?;

    let mut apply = prepared.report;
    for (file, &i) in apply.files.iter_mut().zip(&xml) {
        file.output = Some(shown(&renamer.path(&app.files[i].path)));
    }
    apply.findings = check_outputs(&files, &apply, old, new, &keep, placeholder)?;
    let app_sys_id = Change {
        old: app_id.to_string(),
        new: ids.get(app_id.as_bytes()).map_or(app_id.to_string(), |n| {
            String::from_utf8_lossy(n).into_owned()
        }),
    };
    let summary = Summary {
        files: files.len(),
        records: survey.records,
        ids: apply.id_map.len(),
        namespace: apply
            .totals
            .get(&crate::plan::tokens::Rule::Namespace)
            .copied()
            .unwrap_or(0),
        renamed: files.iter().filter(|f| f.input != f.output).count(),
    };
    let report = ForkReport {
        namespace: Change {
            old: old.to_string(),
            new: new.to_string(),
        },
        app_sys_id,
        name: Change {
            new: options.name.clone().unwrap_or_else(|| old_name.clone()),
            old: old_name,
        },
        summary,
        other_files,
        skipped: app.skipped.iter().map(|p| shown(p)).collect(),
        warnings,
        apply,
    };
    Ok(Forked { files, report })
}

/// Refuses a new namespace the input already names (outside the old one, when the old one
/// starts with it).
fn refuse_in_use(
    new: &str,
    survey: &Survey,
    keep: &[String],
    inputs: &[(&str, &[u8])],
) -> Result<(), ForkError> {
    let longer: Vec<String> = survey
        .namespaces
        .iter()
        .chain(keep)
        .filter(|n| n.len() > new.len() && n.starts_with(new))
        .cloned()
        .collect();
    for (name, bytes) in inputs {
        if let Some(span) = occurrences(new, &longer, bytes, true).next() {
            let p = Position::locate(bytes, span.start);
            return Err(ForkError::NamespaceInUse {
                namespace: new.to_string(),
                at: format!("{name}:{}:{}", p.line, p.column),
            });
        }
    }
    Ok(())
}

/// A warning naming the identifiers that start with the old namespace and `_` but with no
/// table the application defines: renamed all the same (they are in its namespace), but one
/// may be another application's scope (`x_old_core`).
fn undefined_names(
    inputs: &[(&str, &[u8])],
    old: &str,
    keep: &[String],
    tables: &[String],
) -> Option<String> {
    let mut unknown = BTreeSet::new();
    for (_, bytes) in inputs {
        for span in occurrences(old, keep, bytes, false) {
            if bytes.get(span.end) != Some(&b'_') {
                continue;
            }
            let len = bytes[span.start..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            let ident = String::from_utf8_lossy(&bytes[span.start..span.start + len]);
            if !tables.iter().any(|t| ident.starts_with(t.as_str())) {
                unknown.insert(ident.into_owned());
            }
        }
    }
    // The shortest of each family (`x_old_t` stands for `x_old_t_field`, `x_old_t__en`...).
    let mut roots: Vec<&str> = Vec::new();
    for u in &unknown {
        if !roots.iter().any(|r| u.starts_with(r)) {
            roots.push(u);
        }
    }
    if roots.is_empty() {
        return None;
    }
    let shown: Vec<&str> = roots.iter().take(10).copied().collect();
    let more = roots.len().saturating_sub(shown.len());
    Some(format!(
        "renamed as the application's own, though it defines no table they start with: {}{}; if one is another application's scope, fork again with --keep-scope <that namespace>",
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
}

/// `true` when `bytes` name the old namespace (in any case) or an old sys_id.
fn names_old(bytes: &[u8], old: &str, keep: &[String], ids: &IdMap) -> bool {
    occurrences(old, keep, bytes, true).next().is_some()
        || crate::plan::tokens::id_tokens(bytes).any(|s| ids.get(&bytes[s.range()]).is_some())
}

/// Refuses two files written to one path.
fn refuse_clashes(files: &[ForkedFile]) -> Result<(), ForkError> {
    let mut seen: BTreeMap<&Path, &Path> = BTreeMap::new();
    for f in files {
        if let Some(first) = seen.insert(&f.output, &f.input) {
            return Err(ForkError::PathClash(format!(
                "{} and {} would both be written to {}",
                first.display(),
                f.input.display(),
                f.output.display()
            )));
        }
    }
    Ok(())
}

/// `check` on the forked exports: no old id, no old namespace, no ciphertext...
fn check_outputs(
    files: &[ForkedFile],
    apply: &crate::apply::ApplyReport,
    old: &str,
    new: &str,
    keep: &[String],
    placeholder: String,
) -> Result<Vec<crate::check::Finding>, ForkError> {
    let sources: Vec<crate::io::Source> = files
        .iter()
        .filter(|f| f.kind == FileKind::Xml)
        .map(|f| crate::io::Source {
            name: shown(&f.output),
            path: f.output.clone(),
            relative: f.output.clone(),
            bytes: f.bytes.clone(),
        })
        .collect();
    let options = crate::check::CheckOptions {
        old_ids: apply
            .id_map
            .iter()
            .map(|p| p.old.clone())
            .collect::<BTreeSet<_>>(),
        old_namespaces: vec![old.to_string()],
        keep_namespaces: keep.iter().cloned().chain([new.to_string()]).collect(),
        placeholder: Some(placeholder),
        ..crate::check::CheckOptions::default()
    };
    let report = crate::check::check(&sources, &options).map_err(ForkError::Read)?;
    Ok(report.findings)
}

impl Forked {
    /// Writes the fork as the folder `out` (see [`crate::io::write_folder`]): all at once,
    /// nothing left behind on error or interruption. An existing `out` is refused unless
    /// `force`, and even then unless it is an earlier fork into the same namespace.
    pub fn write(&self, out: &Path, force: bool) -> Result<(), ForkError> {
        let exists = std::fs::symlink_metadata(out).is_ok();
        if exists {
            replaceable(out, force, &self.report.namespace.new)?;
        }
        let files: Vec<(String, Vec<u8>)> = self
            .files
            .iter()
            .map(|f| (shown(&f.output), f.bytes.clone()))
            .collect();
        crate::io::write_folder(out, &files, exists)?;
        Ok(())
    }
}

/// Refuses to replace `out` unless `force` and it is a fork into `namespace` (a folder whose
/// one application has that namespace).
pub fn replaceable(out: &Path, force: bool, namespace: &str) -> Result<(), ForkError> {
    if !force {
        return Err(OutputError::Exists(out.to_path_buf()).into());
    }
    let is_fork = out.is_dir()
        && App::load(out, &crate::io::Limits::default())
            .ok()
            .and_then(|app| {
                let layout = Layout::of(&app).ok()?;
                let inputs: Vec<(String, &[u8])> = app
                    .files
                    .iter()
                    .enumerate()
                    .filter(|(i, f)| layout.kind(*i, f) == FileKind::Xml)
                    .map(|(_, f)| (shown(&f.path), f.bytes.as_slice()))
                    .collect();
                let inputs: Vec<(&str, &[u8])> =
                    inputs.iter().map(|(n, b)| (n.as_str(), *b)).collect();
                let survey = Survey::of(&inputs).ok()?;
                let (_, ns, _) = survey.the_app().ok()?;
                Some(ns == namespace)
            })
            .unwrap_or(false);
    match is_fork {
        true => Ok(()),
        false => Err(ForkError::NotAFork {
            path: out.to_path_buf(),
            namespace: namespace.to_string(),
        }),
    }
}

/// Refuses an output folder (or report) that is the input, lies inside it or holds it, and an
/// output that exists and may not be replaced (see [`Forked::write`]), before any work.
pub fn check_destination(
    input: &Path,
    out: &Path,
    report: Option<&Path>,
    force: bool,
    namespace: &str,
) -> Result<(), ForkError> {
    let canon = |p: &Path| {
        std::fs::canonicalize(p).ok().or_else(|| {
            // Not there yet: its parent's canonical path and its name.
            let parent = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            Some(std::fs::canonicalize(parent).ok()?.join(p.file_name()?))
        })
    };
    let input_c = canon(input).unwrap_or_else(|| input.to_path_buf());
    for p in std::iter::once(out).chain(report) {
        let c = canon(p).unwrap_or_else(|| p.to_path_buf());
        if c == input_c || c.starts_with(&input_c) || input_c.starts_with(&c) {
            return Err(ForkError::OverlapsInput(p.to_path_buf()));
        }
    }
    if let Some(r) = report {
        let c = canon(r).unwrap_or_else(|| r.to_path_buf());
        let out_c = canon(out).unwrap_or_else(|| out.to_path_buf());
        if c.starts_with(&out_c) {
            return Err(ForkError::Layout(format!(
                "{}: the report would be written inside the output folder",
                r.display()
            )));
        }
        if !force && std::fs::symlink_metadata(r).is_ok() {
            return Err(OutputError::Exists(r.to_path_buf()).into());
        }
    }
    if std::fs::symlink_metadata(out).is_ok() {
        replaceable(out, force, namespace)?;
    }
    Ok(())
}
