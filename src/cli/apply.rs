//! `sn-retarget apply`: flags and plan file to a [`Plan`], inputs to outputs, written safely.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use sn_retarget::apply::{ApplyError, ApplyReport, Prepared, Unverified, prepare_unverified};
use sn_retarget::io::{Staged, write_direct};
use sn_retarget::model::check_outer_streamed;

use sn_retarget::plan::{IdMode, Intent, Plan, Rewriter, SecretMode, parse_id_map};

use super::{ApplyArgs, EXIT_BAD_INPUT, IdModeArg, IntentArg, PlanArgs, SecretArg};

/// `OLD=NEW` pairs of a repeatable flag.
fn pairs(
    flag: &str,
    values: &[String],
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    for v in values {
        let Some((old, new)) = v.split_once('=') else {
            bail!("{flag} {v:?}: expected OLD=NEW");
        };
        if old.trim().is_empty() {
            bail!("{flag} {v:?}: OLD is empty");
        }
        if let Some(first) = out.insert(old.trim().to_string(), new.trim().to_string()) {
            if first != new.trim() {
                bail!(
                    "{flag} {}: given twice, as {first:?} and {:?}",
                    old.trim(),
                    new.trim()
                );
            }
        }
    }
    Ok(out)
}

/// The plan file, with the flags laid over it.
pub(super) fn plan_from(a: &PlanArgs) -> anyhow::Result<Plan> {
    let mut plan = match &a.plan {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| p.display().to_string())?;
            toml::from_str(&text).with_context(|| format!("{}: not a valid plan", p.display()))?
        }
        None => Plan::default(),
    };
    if let Some(i) = a.intent {
        plan.intent = Some(match i {
            IntentArg::Copy => Intent::Copy,
            IntentArg::Move => Intent::Move,
            IntentArg::Derive => Intent::Derive,
        });
    }
    if let Some(t) = &a.target {
        plan.target = Some(t.clone());
    }
    if !a.sources.is_empty() {
        plan.sources.clone_from(&a.sources);
    }
    if !a.hosts.is_empty() {
        plan.hosts = pairs("--host", &a.hosts)?;
    }
    if !a.labels.is_empty() {
        plan.labels = pairs("--label", &a.labels)?;
    }
    if let Some(m) = a.sys_ids {
        if plan.intent == Some(Intent::Derive) && matches!(m, IdModeArg::Keep) {
            bail!(
                "--intent derive makes new records: every record the input defines gets a new id; --sys-ids keep contradicts it (use --intent copy or move to keep ids)"
            );
        }
        plan.sys_ids = match m {
            IdModeArg::Keep => IdMode::Keep,
            IdModeArg::Regenerate => IdMode::Regenerate,
        };
    }
    if let Some(s) = &a.seed {
        plan.seed.clone_from(s);
    }
    if let Some(path) = &a.map {
        let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
        let map = parse_id_map(&text, a.map_reverse).with_context(|| path.display().to_string())?;
        plan.map.extend(map);
    }
    plan.force_natural_keys |= a.force_natural_keys;
    if !a.regenerate_fields.is_empty() {
        plan.regenerate_fields.clone_from(&a.regenerate_fields);
    }
    if !a.scopes.is_empty() {
        plan.scopes.clone_from(&a.scopes);
    }
    plan.scope_prefix |= a.scope_prefix;
    if let Some(s) = a.secrets {
        plan.secrets = match s {
            SecretArg::Placeholder => SecretMode::Placeholder,
            SecretArg::Blank => SecretMode::Blank,
            SecretArg::Keep => SecretMode::Keep,
        };
    }
    if !a.secret_fields.is_empty() {
        plan.secret_fields.clone_from(&a.secret_fields);
    }
    for n in &a.not_secret {
        let (field, reason) = split_outside_brackets(n, '=')
            .with_context(|| format!("--not-secret {n:?}: expected SELECTOR=REASON"))?;
        plan.not_secret.push(sn_retarget::plan::NotSecretEntry {
            field: field.trim().to_string(),
            reason: reason.trim().to_string(),
        });
    }
    if let Some(p) = &a.placeholder {
        plan.placeholder.clone_from(p);
    }
    if !a.set.is_empty() {
        plan.set.clone_from(&a.set);
    }
    if !a.replace.is_empty() {
        plan.replace.clone_from(&a.replace);
    }
    for (flag, list) in [
        (&a.replace_substring, &mut plan.replace_substring),
        (&a.only, &mut plan.only),
        (&a.exclude, &mut plan.exclude),
        (&a.existing, &mut plan.existing),
        (&a.reset_fields, &mut plan.reset_fields),
    ] {
        if !flag.is_empty() {
            list.clone_from(flag);
        }
    }
    Ok(plan)
}

/// `s` split at the first `sep` outside `[...]`.
pub(super) fn split_outside_brackets(s: &str, sep: char) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            c if c == sep && depth == 0 => return Some((&s[..i], &s[i + c.len_utf8()..])),
            _ => {}
        }
    }
    None
}

pub fn run(a: ApplyArgs) -> anyhow::Result<ExitCode> {
    let plan = plan_from(&a.plan)?;
    let unchanged = Rewriter::new(plan.compile()?).is_identity();
    if unchanged {
        if let Some(done) = copy_streamed(&a, &plan)? {
            return Ok(done);
        }
    }
    // Never its own outputs, should they be inside an input folder.
    let outputs: Vec<&Path> = a
        .out
        .iter()
        .chain(&a.report)
        .map(PathBuf::as_path)
        .collect();
    let files = super::load(&a.inputs, &outputs)?;
    let inputs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|f| (f.name.as_str(), f.bytes.as_slice()))
        .collect();
    let dests = destinations(
        &a,
        files
            .iter()
            .map(|f| (f.relative.as_path(), f.path.as_path())),
    )?;
    let details = a.report.is_some() || a.dry_run;
    // Every output and the report are written beside their places and moved in together once
    // all are written: a failure (a full disk, a refused folder) leaves nothing behind.
    let mut staged = Staged::new(a.force);
    let written: Vec<&PathBuf> = if a.dry_run {
        Vec::new()
    } else {
        dests.iter().collect()
    };
    // A plan that changes nothing writes each input as it is while the inputs are checked
    // (what it wrote is dropped if they are not well-formed).
    let (prepared, copied) = rayon::join(
        || prepare_unverified(&plan, &inputs, details, &|| {}),
        || -> anyhow::Result<bool> {
            if !unchanged {
                return Ok(false);
            }
            for ((_, input), dest) in inputs.iter().zip(&written) {
                staged.add_with(dest, |w| w.write_all(input))?;
            }
            Ok(true)
        },
    );
    let refused = |e: &ApplyError| {
        say!("sn-retarget: error: {e}");
        if let ApplyError::Read(e) = e {
            if let Some(s) = &e.location().snippet {
                say!("{s}");
            }
        }
        Ok(ExitCode::from(EXIT_BAD_INPUT))
    };
    let unverified = match prepared {
        Ok(x) => x,
        Err(e) => return refused(&e),
    };
    let total: usize = inputs
        .iter()
        .enumerate()
        .map(|(i, (_, b))| unverified.output_len(i, b.len()))
        .sum();
    // Outputs the `check` rules read (up to their limit) are first checked for ciphertext left
    // in them; larger ones are checked while they are written, on another core.
    let mut ready = match total <= super::CHECK_LIMIT_BYTES {
        true => {
            let bytes: Vec<&[u8]> = inputs.iter().map(|(_, b)| *b).collect();
            match unverified.verify(&bytes) {
                Ok(p) => Ready::Checked(Box::new(p)),
                Err(e) => return refused(&e),
            }
        }
        false => Ready::Unchecked(Box::new(unverified)),
    };

    // The same checks as `check`, on the outputs (over the limit: a note only).
    let all_in = all_findings_in(&a);
    // Findings name the outputs (their lines and columns are the outputs').
    let shown: Vec<String> = inputs
        .iter()
        .enumerate()
        .map(|(i, (n, _))| {
            dests
                .get(i)
                .map_or_else(|| n.to_string(), |d| d.display().to_string())
        })
        .collect();
    let findings = match &ready {
        Ready::Checked(p) => super::check_printed(
            &plan,
            &p.report,
            total,
            || {
                inputs
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !p.report.files[*i].dropped)
                    .map(|(i, (_, bytes))| (shown[i].as_str(), p.output(i, bytes).into()))
                    .collect()
            },
            a.quiet,
            &all_in,
        )?,
        Ready::Unchecked(u) => {
            super::check_printed(&plan, u.report(), total, Vec::new, a.quiet, &all_in)?
        }
    };
    if super::left_behind(&plan, &findings) {
        return Ok(ExitCode::from(EXIT_BAD_INPUT)); // `staged` removes what was written
    }
    let report = ready.report_mut();
    report.findings = findings;
    for (file, dest) in report.files.iter_mut().zip(&dests) {
        if !file.dropped {
            file.output = Some(dest.display().to_string());
        }
    }
    let dropped: Vec<bool> = report.files.iter().map(|f| f.dropped).collect();
    let report_json = match a.report.is_some() || a.dry_run {
        true => serde_json::to_vec_pretty(&*report)?,
        false => Vec::new(),
    };

    let copied = copied?;
    for (i, (_, input)) in inputs.iter().enumerate() {
        // A file whose every record was left out has no output.
        if dropped[i] {
            continue;
        }
        // A dry run writes nothing, and checks all the same.
        let Some(dest) = written.get(i) else {
            if let Ready::Unchecked(u) = &ready {
                if let Err(e) = u.check(i, input) {
                    return refused(&e);
                }
            }
            continue;
        };
        match &ready {
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
                if let Err(e) = left {
                    return refused(&e); // `staged` removes what was written
                }
            }
        }
    }
    let report_to = a.report.as_deref().filter(|p| !is_special(p));
    if let Some(path) = report_to {
        staged.add_with(path, |w| w.write_all(&report_json))?;
    }
    staged.commit()?;
    write_special(a.report.as_deref(), &report_json)?;
    if a.report.is_none() && a.dry_run {
        let mut out = std::io::stdout().lock();
        out.write_all(&report_json)?;
        writeln!(out)?;
    }

    if !a.quiet {
        print_summary(&a, ready.report_mut());
    }
    super::exit_soon((ready, files));
    Ok(ExitCode::SUCCESS)
}

/// Where every finding can be read: the report, or a `check` of the outputs.
fn all_findings_in(a: &ApplyArgs) -> String {
    match (&a.report, &a.out) {
        (Some(r), _) => r.display().to_string(),
        (None, Some(o)) => format!("`sn-retarget check {}`", o.display()),
        (None, None) => "the report".to_string(),
    }
}

/// `true` for a path that exists and is neither a file nor a folder: `/dev/stdout`,
/// `/dev/null`, a named pipe. Such a report is written as it is (nothing to stage or replace).
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Writes the report to `path` when it is a special file ([`is_special`]).
fn write_special(path: Option<&Path>, json: &[u8]) -> anyhow::Result<()> {
    let Some(path) = path.filter(|p| is_special(p)) else {
        return Ok(());
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| path.display().to_string())?;
    f.write_all(json)
        .and_then(|()| f.write_all(b"\n"))
        .with_context(|| path.display().to_string())?;
    Ok(())
}

/// The edits of every input, checked for ciphertext left in the outputs, or to be checked as
/// they are written.
enum Ready {
    Checked(Box<Prepared>),
    Unchecked(Box<Unverified>),
}

impl Ready {
    fn report_mut(&mut self) -> &mut ApplyReport {
        match self {
            Ready::Checked(p) => &mut p.report,
            Ready::Unchecked(u) => u.report_mut(),
        }
    }
}

/// The warnings and the one-line summary, on standard error.
fn print_summary(a: &ApplyArgs, r: &ApplyReport) {
    let edits: usize = r.files.iter().map(|f| f.edits).sum();
    let by_rule: Vec<String> = r.totals.iter().map(|(k, n)| format!("{k} {n}")).collect();
    for w in &r.warnings {
        say!("sn-retarget: warning: {w}");
    }
    for f in &r.files {
        for w in &f.warnings {
            say!("sn-retarget: warning: {}: {w}", f.input);
        }
        if f.dropped {
            say!(
                "sn-retarget: note: {}: every record left out (--only/--exclude); no output",
                f.input
            );
        }
    }
    let left: usize = r.files.iter().map(|f| f.left_out.len()).sum();
    if left > 0 {
        say!("sn-retarget: note: {left} record(s) left out (listed in the report)");
    }
    let whereto = match (&a.out, a.dry_run) {
        (_, true) => "dry run, nothing written".to_string(),
        (Some(o), false) => format!("written to {}", o.display()),
        (None, false) => String::new(),
    };
    say!(
        "sn-retarget apply: {} file(s), {edits} edit(s){}{}, {} secret(s) to re-enter; {whereto}",
        r.files.len(),
        if by_rule.is_empty() { "" } else { ": " },
        by_rule.join(", "),
        r.secrets.len(),
    );
}

/// A plan that changes nothing, on one input file larger than the output check takes: the file
/// is checked while it is copied, a piece at a time (constant memory; nothing is read whole).
/// `None` when this does not apply, or when the file must be read whole to say what is wrong
/// with it (the caller does, and reports it).
fn copy_streamed(a: &ApplyArgs, plan: &Plan) -> anyhow::Result<Option<ExitCode>> {
    let [path] = a.inputs.as_slice() else {
        return Ok(None);
    };
    let large = std::fs::metadata(path)
        .is_ok_and(|m| m.is_file() && m.len() > super::CHECK_LIMIT_BYTES as u64);
    let zip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if !large || zip || a.dry_run {
        return Ok(None);
    }
    let relative = path.file_name().map_or_else(|| path.clone(), PathBuf::from);
    let dests = destinations(a, std::iter::once((relative.as_path(), path.as_path())))?;
    // `--out` is required outside dry runs: one input, one destination.
    let [dest] = dests.as_slice() else {
        return Ok(None);
    };
    let mut staged = Staged::new(a.force);
    let Ok(input) = std::fs::File::open(path) else {
        return Ok(None);
    };
    let len = input.metadata().map_or(0, |m| m.len());
    let mut passed = false;
    let copied = staged.add_file(dest, len, |out| {
        passed = check_while_writing(&input, out)?;
        Ok(())
    });
    // Any trouble: the whole read says what it is (nothing staged is left behind).
    if copied.is_err() || !passed {
        return Ok(None);
    }
    let mut report = ApplyReport::unchanged(
        plan,
        &path.display().to_string(),
        &dest.display().to_string(),
    )?;
    report.findings = super::check_printed(
        plan,
        &report,
        len as usize,
        Vec::new,
        a.quiet,
        &all_findings_in(a),
    )?;
    let json = serde_json::to_vec_pretty(&report)?;
    if let Some(path) = a.report.as_deref().filter(|p| !is_special(p)) {
        staged.add_with(path, |w| w.write_all(&json))?;
    }
    staged.commit()?;
    write_special(a.report.as_deref(), &json)?;
    if !a.quiet {
        print_summary(a, &report);
    }
    Ok(Some(ExitCode::SUCCESS))
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
/// input, outputs or a report that exist (without `--force`).
fn destinations<'p>(
    a: &ApplyArgs,
    files: impl ExactSizeIterator<Item = (&'p Path, &'p Path)> + Clone,
) -> anyhow::Result<Vec<PathBuf>> {
    let dests: Vec<PathBuf> = match &a.out {
        None => Vec::new(),
        Some(out) => {
            let file = !out.is_dir()
                && out
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("xml"));
            if file && files.len() > 1 {
                bail!(
                    "--out {}: names one file, but the inputs are {} files; give a folder to write them into",
                    out.display(),
                    files.len()
                );
            }
            let single = file && files.len() == 1;
            if single {
                vec![out.clone()]
            } else {
                files
                    .clone()
                    .map(|(relative, _)| out.join(relative))
                    .collect()
            }
        }
    };
    // Inputs by canonical path, resolved once (folders of thousands of files).
    let input_paths: BTreeSet<PathBuf> = files
        .filter_map(|(_, path)| std::fs::canonicalize(path).ok())
        .collect();
    let is_input = |p: &PathBuf| std::fs::canonicalize(p).is_ok_and(|c| input_paths.contains(&c));
    let mut seen = BTreeSet::new();
    for d in &dests {
        if !seen.insert(d.clone()) {
            bail!(
                "{}: two inputs would be written to the same output",
                d.display()
            );
        }
        if is_input(d) {
            bail!("{}: is an input; inputs are never modified", d.display());
        }
        if !a.force && !a.dry_run && d.exists() {
            bail!(
                "{}: already exists (use --force to replace it)",
                d.display()
            );
        }
    }
    if let Some(report) = a.report.as_ref().filter(|r| !is_special(r)) {
        if dests.contains(report) || is_input(report) {
            bail!(
                "{}: the report would replace an input or an output",
                report.display()
            );
        }
        if !a.force && report.exists() {
            bail!(
                "{}: already exists (use --force to replace it)",
                report.display()
            );
        }
    }
    Ok(dests)
}
