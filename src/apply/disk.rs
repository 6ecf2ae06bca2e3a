//! `apply` from files to files: where each output goes, every problem found before anything is
//! written, outputs staged and moved into place together.
//!
//! A plan that changes nothing writes each input as it is while the inputs are checked; on one
//! file larger than the output check takes it checks the file while copying it, a piece at a
//! time (constant memory). Otherwise the edits are prepared, the outputs checked for ciphertext
//! (first, or while written when they are large), then checked like `check` does, and written.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Apply, ApplyReport, Prepared, Unverified, prepare_unverified};
use crate::Source;
use crate::check::CHECK_LIMIT_BYTES;
use crate::error::{DestinationError, Error, ErrorKind};
use crate::io::{Limits, OutputError, Staged, write_direct};
use crate::model::check_outer_streamed;
use crate::plan::Rewriter;
use crate::splice::SpliceError;

/// What [`Apply::write_to`] wrote.
#[derive(Debug)]
#[non_exhaustive]
pub struct Written {
    /// What was done (each file's `output`, the findings of the checks).
    pub report: ApplyReport,
    /// Where each input's output went (none for a dry run, or for a file every record of which
    /// was left out).
    pub outputs: Vec<Option<PathBuf>>,
    /// `false` when the outputs were too large to check as `check` does (over
    /// [`CHECK_LIMIT_BYTES`](crate::check::CHECK_LIMIT_BYTES) together) or checks were turned off: run `check` on them.
    pub checked: bool,
}

/// The exports under `inputs` (never this run's own outputs); none at all is an error.
pub(crate) fn load(inputs: &[PathBuf], outputs: &[&Path]) -> Result<Vec<Source>, Error> {
    let sources = crate::io::load_inputs_except(inputs, &Limits::default(), outputs)?;
    if sources.is_empty() {
        return Err(DestinationError::NoInput(inputs.to_vec()).into());
    }
    Ok(sources)
}

pub(super) fn write_to(
    job: &Apply,
    inputs: &[PathBuf],
    out: &Path,
    force: bool,
) -> Result<Written, Error> {
    let plan = &job.plan;
    let unchanged = Rewriter::new(plan.compile()?).is_identity();
    if unchanged {
        if let Some(done) = copy_streamed(job, inputs, out, force)? {
            return Ok(done);
        }
    }
    // Never its own outputs, should they be inside an input folder.
    let own: Vec<&Path> = std::iter::once(out)
        .chain(job.report_to.as_deref())
        .collect();
    let files = load(inputs, &own)?;
    let written = write_files(job, &files, unchanged, out, force);
    // Checked on failure too: a change while read may be what broke an input.
    if written.is_err() {
        crate::io::inputs_unchanged(&files)?;
    }
    let (written, edits) = written?;
    // The inputs and the edits are freed on another thread: freeing many allocations one by
    // one would only delay the answer (a process about to exit may not wait for it at all).
    rayon::spawn(move || drop((files, edits)));
    Ok(written)
}

/// [`write_to`] with its inputs read: the outputs written, and the edits (to be freed).
fn write_files(
    job: &Apply,
    files: &[Source],
    unchanged: bool,
    out: &Path,
    force: bool,
) -> Result<(Written, Vec<(String, crate::splice::Edits)>), Error> {
    let plan = &job.plan;
    let named: Vec<(&str, &[u8])> = files
        .iter()
        .map(|f| (f.name.as_str(), f.bytes.as_slice()))
        .collect();
    let places = files
        .iter()
        .map(|f| (f.relative.as_path(), f.path.as_path()));
    let dests = destinations(job, out, force, places)?;
    // Every output and the report are written beside their places and moved in together once
    // all are written: a failure (a full disk, a refused folder) leaves nothing behind.
    let mut staged = Staged::new(force);
    let written: Vec<&PathBuf> = match job.dry_run {
        true => Vec::new(),
        false => dests.iter().collect(),
    };
    // A plan that changes nothing writes each input as it is while the inputs are checked
    // (what it wrote is dropped if they are not well-formed).
    let (prepared, copied) = rayon::join(
        || prepare_unverified(plan, &named, job.details, &|| {}),
        || -> Result<bool, OutputError> {
            if !unchanged {
                return Ok(false);
            }
            for ((_, input), dest) in named.iter().zip(&written) {
                staged.add_with(dest, |w| w.write_all(input))?;
            }
            Ok(true)
        },
    );
    let mut ready = Ready::of(prepared?, &named)?;
    // The same checks as `check`, on the outputs, named as they will be.
    let checked = job.check_outputs && matches!(ready, Ready::Checked(_));
    if let (true, Ready::Checked(p)) = (checked, &mut ready) {
        check_as_named(plan, p, &named, &dests)?;
    }
    let copied = copied?;
    let report_json = name_outputs(ready.report_mut(), &dests, job.report_to.is_some())?;
    let dropped: Vec<bool> = ready.report_mut().files.iter().map(|f| f.dropped).collect();
    write_outputs(&ready, &mut staged, &written, &named, &dropped, copied)?;
    let report_to = job.report_to.as_deref().filter(|p| !is_special(p));
    if let Some(path) = report_to {
        staged.add_with(path, |w| w.write_all(&report_json))?;
    }
    // An input mapped into memory and changed meanwhile may have given partly old, partly new
    // bytes: nothing written from it is moved into place (`staged` removes it).
    crate::io::inputs_unchanged(files)?;
    staged.commit()?;
    write_special(job.report_to.as_deref(), &report_json)?;
    let outputs = dests
        .iter()
        .zip(&dropped)
        .map(|(d, &dropped)| (!dropped && !job.dry_run).then(|| d.clone()))
        .collect();
    let (report, edits) = match ready {
        Ready::Checked(p) => (p.report, p.edits),
        Ready::Unchecked(u) => u.into_parts(),
    };
    let written = Written {
        report,
        outputs,
        checked,
    };
    Ok((written, edits))
}

/// The outputs' names in the report (each file's `output`), and the report as JSON when it is
/// asked for.
fn name_outputs(report: &mut ApplyReport, dests: &[PathBuf], json: bool) -> Result<Vec<u8>, Error> {
    for (file, dest) in report.files.iter_mut().zip(dests) {
        if !file.dropped {
            file.output = Some(dest.display().to_string());
        }
    }
    if !json {
        return Ok(Vec::new());
    }
    serde_json::to_vec_pretty(&*report).map_err(|source| {
        ErrorKind::Serialize {
            what: "the report",
            source,
        }
        .into()
    })
}

/// Runs the `check` rules on the outputs of `p`, named as they will be written (`dests`), and
/// keeps the findings; a secret, a source host or an old sys_id left refuses the run.
fn check_as_named(
    plan: &crate::plan::Plan,
    p: &mut Prepared,
    named: &[(&str, &[u8])],
    dests: &[PathBuf],
) -> Result<(), Error> {
    let shown: Vec<String> = named
        .iter()
        .enumerate()
        .map(|(i, (n, _))| {
            dests
                .get(i)
                .map_or_else(|| n.to_string(), |d| d.display().to_string())
        })
        .collect();
    let outputs: Vec<(usize, Vec<u8>)> = named
        .iter()
        .enumerate()
        .filter(|(i, _)| !p.report.files[*i].dropped)
        .map(|(i, (_, bytes))| Ok((i, p.output(i, bytes)?)))
        .collect::<Result<_, SpliceError>>()?;
    let outputs: Vec<(&str, &[u8])> = outputs
        .iter()
        .map(|(i, o)| (shown[*i].as_str(), o.as_slice()))
        .collect();
    let findings = super::check_named(plan, &p.report, &outputs)?;
    super::refuse_left_behind(plan, &findings)?;
    p.report.findings = findings;
    Ok(())
}

/// Writes every output (`dests`: none for a dry run) but those of the files whose every record
/// was left out (`dropped`), which have none; see [`write_one`].
fn write_outputs(
    ready: &Ready,
    staged: &mut Staged,
    dests: &[&PathBuf],
    named: &[(&str, &[u8])],
    dropped: &[bool],
    copied: bool,
) -> Result<(), Error> {
    for (i, (_, input)) in named.iter().enumerate() {
        if !dropped[i] {
            write_one(ready, staged, dests.get(i).copied(), i, input, copied)?;
        }
    }
    Ok(())
}

/// Writes output `i` (or, for a dry run or an input already copied, checks it).
fn write_one(
    ready: &Ready,
    staged: &mut Staged,
    dest: Option<&PathBuf>,
    i: usize,
    input: &[u8],
    copied: bool,
) -> Result<(), Error> {
    // A dry run writes nothing, and checks all the same.
    let Some(dest) = dest else {
        if let Ready::Unchecked(u) = ready {
            u.check(i, input)?;
        }
        return Ok(());
    };
    match ready {
        Ready::Checked(p) if !copied => {
            let len = p.output_len(i, input.len()) as u64;
            staged.add_file(dest, len, |f| p.write_output_at(i, input, f))?;
        }
        Ready::Checked(_) => {}
        Ready::Unchecked(u) => {
            let mut left = Ok(());
            if copied {
                left = u.check(i, input);
            } else {
                let len = u.output_len(i, input.len()) as u64;
                staged.add_file(dest, len, |f| {
                    left = u.write_output_at(i, input, f)?;
                    Ok(())
                })?;
            }
            left?; // `staged` removes what was written
        }
    }
    Ok(())
}

/// The edits of every input, checked for ciphertext left in the outputs, or to be checked as
/// they are written.
enum Ready {
    Checked(Box<Prepared>),
    Unchecked(Box<Unverified>),
}

impl Ready {
    /// Outputs the `check` rules read (up to their limit, [`CHECK_LIMIT_BYTES`] together) are
    /// first checked for ciphertext left in them; larger ones are checked while they are
    /// written, on another core.
    fn of(unverified: Unverified, named: &[(&str, &[u8])]) -> Result<Ready, Error> {
        let total: usize = named
            .iter()
            .enumerate()
            .map(|(i, (_, b))| unverified.output_len(i, b.len()))
            .sum();
        if total > CHECK_LIMIT_BYTES {
            return Ok(Ready::Unchecked(Box::new(unverified)));
        }
        let bytes: Vec<&[u8]> = named.iter().map(|(_, b)| *b).collect();
        Ok(Ready::Checked(Box::new(unverified.verify(&bytes)?)))
    }

    fn report_mut(&mut self) -> &mut ApplyReport {
        match self {
            Ready::Checked(p) => &mut p.report,
            Ready::Unchecked(u) => u.report_mut(),
        }
    }
}

/// `true` for a path that exists and is neither a file nor a folder: `/dev/stdout`,
/// `/dev/null`, a named pipe. Such a report is written as it is (nothing to stage or replace).
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Writes the report to `path` when it is a special file ([`is_special`]).
fn write_special(path: Option<&Path>, json: &[u8]) -> Result<(), Error> {
    let Some(path) = path.filter(|p| is_special(p)) else {
        return Ok(());
    };
    let io = |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io)?;
    f.write_all(json)
        .and_then(|()| f.write_all(b"\n"))
        .map_err(io)?;
    Ok(())
}

/// A plan that changes nothing, on one input file larger than the output check takes: the file
/// is checked while it is copied, a piece at a time (constant memory; nothing is read whole).
/// `None` when this does not apply, or when the file must be read whole to say what is wrong
/// with it (the caller does, and reports it).
fn copy_streamed(
    job: &Apply,
    inputs: &[PathBuf],
    out: &Path,
    force: bool,
) -> Result<Option<Written>, Error> {
    let [path] = inputs else {
        return Ok(None);
    };
    let large =
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > CHECK_LIMIT_BYTES as u64);
    let zip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if !large || zip || job.dry_run {
        return Ok(None);
    }
    let relative = path.file_name().map_or_else(|| path.clone(), PathBuf::from);
    let dests = destinations(
        job,
        out,
        force,
        std::iter::once((relative.as_path(), path.as_path())),
    )?;
    let [dest] = dests.as_slice() else {
        return Ok(None);
    };
    let mut staged = Staged::new(force);
    let Ok(input) = std::fs::File::open(path) else {
        return Ok(None);
    };
    let mut passed = false;
    let len = input.metadata().map_or(0, |m| m.len());
    let copied = staged.add_file(dest, len, |out| {
        passed = check_while_writing(&input, out)?;
        Ok(())
    });
    // Any trouble: the whole read says what it is (nothing staged is left behind).
    if copied.is_err() || !passed {
        return Ok(None);
    }
    let report = ApplyReport::unchanged(
        &job.plan,
        &path.display().to_string(),
        &dest.display().to_string(),
    )?;
    let json = serde_json::to_vec_pretty(&report).map_err(|source| ErrorKind::Serialize {
        what: "the report",
        source,
    })?;
    if let Some(path) = job.report_to.as_deref().filter(|p| !is_special(p)) {
        staged.add_with(path, |w| w.write_all(&json))?;
    }
    staged.commit()?;
    write_special(job.report_to.as_deref(), &json)?;
    Ok(Some(Written {
        report,
        outputs: vec![Some(dest.clone())],
        checked: false,
    }))
}

/// [`check_outer_streamed`] on `input`, each piece written to `out` (past the page cache,
/// several chunks at once: [`write_direct`]) while the next ones are read and checked.
fn check_while_writing(input: &std::fs::File, out: &std::fs::File) -> std::io::Result<bool> {
    write_direct(out, |d| {
        let mut w = d.at(0);
        check_outer_streamed(input, |piece| w.write_all(piece))
    })
}

/// Where each output goes (for the inputs given as `(relative name, path)`), with every
/// problem found before anything is written: two inputs to one output, an output that is an
/// input, outputs or a report that exist (without `force`).
fn destinations<'p>(
    job: &Apply,
    out: &Path,
    force: bool,
    files: impl ExactSizeIterator<Item = (&'p Path, &'p Path)> + Clone,
) -> Result<Vec<PathBuf>, Error> {
    let file = !out.is_dir()
        && out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xml"));
    if file && files.len() > 1 {
        return Err(DestinationError::OneFileForMany {
            out: out.to_path_buf(),
            inputs: files.len(),
        }
        .into());
    }
    let dests: Vec<PathBuf> = match file && files.len() == 1 {
        true => vec![out.to_path_buf()],
        false => files
            .clone()
            .map(|(relative, _)| out.join(relative))
            .collect(),
    };
    // Inputs by canonical path, resolved once (folders of thousands of files).
    let input_paths: BTreeSet<PathBuf> = files
        .filter_map(|(_, path)| std::fs::canonicalize(path).ok())
        .collect();
    let is_input = |p: &Path| std::fs::canonicalize(p).is_ok_and(|c| input_paths.contains(&c));
    let mut seen = BTreeSet::new();
    for d in &dests {
        if !seen.insert(d.clone()) {
            return Err(DestinationError::SameOutput(d.clone()).into());
        }
        if is_input(d) && !job.dry_run {
            return Err(OutputError::IsInput(d.clone()).into());
        }
        if !force && !job.dry_run && d.exists() {
            return Err(OutputError::Exists(d.clone()).into());
        }
    }
    if let Some(report) = job.report_to.as_deref().filter(|r| !is_special(r)) {
        if dests.iter().any(|d| d == report) || is_input(report) {
            return Err(DestinationError::ReportClash(report.to_path_buf()).into());
        }
        if !force && report.exists() {
            return Err(OutputError::Exists(report.to_path_buf()).into());
        }
    }
    Ok(dests)
}
