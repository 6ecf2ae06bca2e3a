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
mod checks;
mod error;
mod identify;
#[cfg(feature = "io")]
mod load;
#[cfg(feature = "io")]
mod output;
mod paths;
mod report;

pub use app::{App, AppFile, CHECKSUM, FileKind, Layout, PROPERTIES, properties_path};
pub use error::ForkError;
pub use identify::Survey;
#[cfg(feature = "io")]
pub use output::{check_destination, replaceable};
pub use paths::Renamer;
pub use report::{Change, ForkReport, OtherAction, OtherFile, Summary};

use crate::error::Error;
use crate::splice::SpliceError;
use error::refuse;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::apply::prepare_with_rules;
use crate::plan::ids::{IdGen, IdMap};
use crate::plan::namespace::{NamespaceRenames, scope_name_problem};
use crate::plan::{AppName, IdMode, Plan};
use checks::{check_outputs, names_old, refuse_clashes, refuse_in_use, undefined_names};

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
    /// More secret fields (`table.field`, `table[field=value].field`), as in `apply`.
    pub secret_fields: Vec<String>,
    /// Fields named like secrets that are not, with why, as in `apply`.
    pub not_secret: Vec<crate::plan::NotSecretEntry>,
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
            secret_fields: Vec::new(),
            not_secret: Vec::new(),
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
pub(crate) fn shown(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// The plan of the rewrite, and its rules with what only a fork sets: the seed mixed with the
/// new namespace, the application's own id mapped (its record may not be in the input), the
/// namespaces kept, the application's name.
fn plan_for(
    options: &ForkOptions,
    old: &str,
    app_id: &str,
    name: Option<&str>,
    keep: &[String],
) -> Result<(Plan, crate::plan::Rules), Error> {
    let new = &options.namespace;
    let plan = Plan {
        sys_ids: IdMode::Regenerate,
        seed: options.seed.clone(),
        map: options.map.clone(),
        force_natural_keys: true,
        scopes: vec![format!("{old}={new}")],
        scope_prefix: true,
        secret_fields: options.secret_fields.clone(),
        not_secret: options.not_secret.clone(),
        // The application's vendor prefix, when it names the old one's.
        replace: match (vendor(old), vendor(new)) {
            (Some(o), Some(n)) if o != n => vec![format!("sys_app.vendor_prefix:{o}={n}")],
            _ => Vec::new(),
        },
        ..Plan::default()
    };
    let mut rules = plan.compile()?;
    // New ids depend on the new namespace too: two forks of one application differ.
    rules.seed = format!("{}\u{0}fork\u{0}{new}", options.seed);
    let app_new = IdGen::new(&rules.seed, "").sys_id(app_id);
    rules.map.entry(app_id.to_string()).or_insert(app_new);
    rules.keep_namespaces = keep.to_vec();
    if let Some(n) = &options.name {
        let old = name.ok_or(Error::from(ForkError::NoName))?;
        rules.app_name = Some(AppName {
            sys_id: app_id.to_string(),
            old: old.to_string(),
            new: n.clone(),
        });
    }
    Ok((plan, rules))
}

/// The vendor prefix of an `x_<vendor>_<name>` namespace.
fn vendor(namespace: &str) -> Option<&str> {
    let (vendor, _) = namespace.strip_prefix("x_")?.split_once('_')?;
    (!vendor.is_empty()).then_some(vendor)
}

/// The files of the fork as they are made, with the notes on those that are not exports.
#[derive(Default)]
struct Written {
    files: Vec<ForkedFile>,
    other_files: Vec<OtherFile>,
    warnings: Vec<String>,
}

impl Written {
    /// Adds every file of `app` (`kinds`: their kinds), the exports as `outputs` gives them, in
    /// order; see [`Written::add`].
    fn add_all(
        &mut self,
        app: &App,
        kinds: &[FileKind],
        mut outputs: impl Iterator<Item = Result<Vec<u8>, SpliceError>>,
        renamer: &Renamer<'_>,
        names_old: impl Fn(&[u8]) -> bool,
    ) -> Result<(), Error> {
        for (f, &kind) in app.files.iter().zip(kinds) {
            let output = (kind == FileKind::Xml)
                .then(|| outputs.next())
                .flatten()
                .transpose()?;
            self.add(f, kind, output, renamer, &names_old);
        }
        Ok(())
    }

    /// Adds `f` of kind `kind` (`rewritten`: an export's output), named by `renamer`;
    /// `names_old` tells whether a copied file still names the old application.
    fn add(
        &mut self,
        f: &AppFile,
        kind: FileKind,
        rewritten: Option<Vec<u8>>,
        renamer: &Renamer<'_>,
        names_old: impl Fn(&[u8]) -> bool,
    ) {
        let output = renamer.path(&f.path);
        let mut note = |action, output: Option<&Path>, why: &str| {
            self.other_files.push(OtherFile {
                input: shown(&f.path),
                output: output.map(shown),
                action,
                why: why.to_string(),
            });
        };
        let bytes = match (kind, rewritten) {
            (FileKind::Xml, Some(bytes)) => bytes,
            (FileKind::Properties, _) => match renamer.properties(&f.bytes) {
                Some(b) => {
                    let why = "its path= names the application's renamed folder";
                    note(OtherAction::Rewritten, Some(&output), why);
                    b
                }
                None => {
                    note(
                        OtherAction::Copied,
                        Some(&output),
                        "its path= needs no change",
                    );
                    f.bytes.clone()
                }
            },
            (FileKind::Checksum, _) => {
                let why = "it describes the original files; ServiceNow validates the fork's files on import and writes a new one at the next commit";
                note(OtherAction::Dropped, None, why);
                return;
            }
            _ => {
                note(
                    OtherAction::Copied,
                    Some(&output),
                    "not an export of the application",
                );
                if names_old(&f.bytes) {
                    self.warnings.push(format!(
                        "{}: copied as it is, but it names the old namespace or an old sys_id",
                        shown(&f.path)
                    ));
                }
                f.bytes.clone()
            }
        };
        self.files.push(ForkedFile {
            input: f.path.clone(),
            output,
            kind,
            bytes,
        });
    }
}

/// Each file's kind, the indices of the XML files among them, and their names as shown.
fn xml_files(app: &App, layout: &Layout) -> (Vec<FileKind>, Vec<usize>, Vec<String>) {
    let kinds: Vec<FileKind> = app
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| layout.kind(i, f))
        .collect();
    let xml: Vec<usize> = (0..app.files.len())
        .filter(|&i| kinds[i] == FileKind::Xml)
        .collect();
    let names = xml.iter().map(|&i| shown(&app.files[i].path)).collect();
    (kinds, xml, names)
}

/// Forks `app` into `options.namespace`.
pub fn fork(app: &App, options: &ForkOptions) -> Result<Forked, Error> {
    let new = options.namespace.as_str();
    check_options(options)?;
    let layout = Layout::of(app)?;
    let (kinds, xml, names) = xml_files(app, &layout);
    let inputs: Vec<(&str, &[u8])> = xml
        .iter()
        .zip(&names)
        .map(|(&i, n)| (n.as_str(), app.files[i].bytes.as_slice()))
        .collect();
    let survey = Survey::of(&inputs)?;
    let (entry, old, app_id) = survey.the_app()?;
    if old == new {
        return refuse(ForkError::SameNamespace(old.to_string()));
    }
    refuse_in_use(new, &survey, &options.keep, &inputs)?;
    let keep = longer_namespaces(&survey, options, old);

    let (plan, rules) = plan_for(options, old, app_id, entry.name.as_deref(), &keep)?;
    // The outputs are checked with the secret rules as they read after the rename (a selector
    // naming `x_old.api_password` names `x_new.api_password` there).
    let renames =
        NamespaceRenames::new(vec![(old.to_string(), new.to_string())]).protect(keep.clone());
    let check_rules = (
        rules.placeholder.clone(),
        secret_rules_after(&plan, &renames)?,
    );
    let prepared = prepare_with_rules(&plan, rules, &inputs, options.details, &|| {})?;

    let mut ids = IdMap::default();
    for p in &prepared.report.id_map {
        ids.insert(&p.old, &p.new);
    }
    let renamer = Renamer {
        ids: &ids,
        namespaces: &renames,
    };
    let mut written = Written::default();
    written
        .warnings
        .extend(undefined_names(&inputs, old, &keep, &entry.tables));
    let outputs = (0..xml.len()).map(|k| prepared.output(k, &app.files[xml[k]].bytes));
    written.add_all(app, &kinds, outputs, &renamer, |b| {
        names_old(b, old, &keep, &ids)
    })?;
    let Written {
        files,
        other_files,
        warnings: mut written_warnings,
    } = written;
    refuse_clashes(&files)?;

    let mut apply = prepared.report;
    for (file, &i) in apply.files.iter_mut().zip(&xml) {
        file.output = Some(shown(&renamer.path(&app.files[i].path)));
    }
    let names = (old, new);
    if let Some(w) = check_forked(&files, &mut apply, names, &keep, check_rules)? {
        written_warnings.push(w);
    }
    let new_app_id = ids
        .get(app_id.as_bytes())
        .map(|n| String::from_utf8_lossy(n));
    let app_sys_id = Change::of(app_id, new_app_id.as_deref().unwrap_or(app_id));
    let old_name = entry.name.as_deref().unwrap_or_default();
    let report = ForkReport {
        namespace: Change::of(old, new),
        app_sys_id,
        name: Change::of(old_name, options.name.as_deref().unwrap_or(old_name)),
        summary: summary_of(&files, survey.records, &apply),
        other_files,
        skipped: app.skipped.iter().map(|p| shown(p)).collect(),
        warnings: written_warnings,
        apply,
    };
    Ok(Forked { files, report })
}

/// Checks the outputs as `check` would (the old namespace `names.0` renamed `names.1`, the
/// longer namespaces `keep` kept) into the report's findings, and refuses what is left behind;
/// over the check limit, the warning that they were not checked.
fn check_forked(
    files: &[ForkedFile],
    apply: &mut crate::apply::ApplyReport,
    (old, new): (&str, &str),
    keep: &[String],
    check_rules: (String, crate::analyze::SecretRules),
) -> Result<Option<String>, Error> {
    let total: usize = files.iter().map(|f| f.bytes.len()).sum();
    if total > crate::check::CHECK_LIMIT_BYTES {
        return Ok(Some(format!(
            "outputs over {} MB: not checked; run `sn-retarget check <out> --namespace {old}` on them",
            crate::check::CHECK_LIMIT_BYTES / 1_000_000
        )));
    }
    apply.findings = check_outputs(files, apply, old, new, keep, check_rules)?;
    // The old namespace, an old sys_id or a secret left stops the fork.
    crate::apply::refuse_left_behind(&apply.plan, &apply.findings)?;
    Ok(None)
}

/// What a fork wrote, in numbers.
fn summary_of(files: &[ForkedFile], records: usize, apply: &crate::apply::ApplyReport) -> Summary {
    Summary {
        files: files.len(),
        records,
        ids: apply.id_map.len(),
        namespace: (apply
            .totals
            .get(&crate::plan::tokens::ChangeKind::Namespace))
        .copied()
        .unwrap_or(0),
        renamed: files.iter().filter(|f| f.input != f.output).count(),
    }
}

/// Refuses a new namespace that cannot be a scope name, and a new display name that is empty
/// or holds control characters.
fn check_options(options: &ForkOptions) -> Result<(), Error> {
    let new = options.namespace.as_str();
    if let Some(why) = scope_name_problem(new) {
        return refuse(ForkError::BadNamespace {
            namespace: new.to_string(),
            why,
        });
    }
    if let Some(n) = &options.name {
        if n.trim().is_empty() || crate::scan::first_control(n.as_bytes()).is_some() {
            return refuse(ForkError::BadName);
        }
    }
    Ok(())
}

/// Longer namespaces of other applications that start with the old one (seen in the files or
/// given with `--keep-scope`): they stay.
fn longer_namespaces(survey: &Survey, options: &ForkOptions, old: &str) -> Vec<String> {
    survey
        .namespaces
        .iter()
        .chain(&options.keep)
        .filter(|n| n.len() > old.len() && n.starts_with(old))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The plan's secret rules as they read after the rename (a selector naming
/// `x_old.api_password` names `x_new.api_password` there), to check the outputs with.
fn secret_rules_after(
    plan: &Plan,
    renames: &NamespaceRenames,
) -> Result<crate::analyze::SecretRules, Error> {
    let after = Plan {
        secret_fields: (plan.secret_fields.iter())
            .map(|f| renames.apply_to(f))
            .collect(),
        not_secret: (plan.not_secret.iter())
            .map(|n| crate::plan::NotSecretEntry {
                field: renames.apply_to(&n.field),
                reason: n.reason.clone(),
            })
            .collect(),
        ..Plan::default()
    };
    Ok(after.compile()?.secret_rules)
}
