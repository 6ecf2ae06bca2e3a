//! `sn-retarget apply`: flags and plan file to a [`Plan`]; the library writes; this prints.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use sn_retarget::apply::{Apply, ApplyReport, Written};
use sn_retarget::check::CHECK_LIMIT_BYTES;
use sn_retarget::handoff::Handoff;
use sn_retarget::io::{same_file, write_atomic};
use sn_retarget::plan::{Intent, Plan, parse_id_map};

use super::{ApplyArgs, IdModeArg, PlanArgs};

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
        plan.intent = Some(i.into());
    }
    if let Some(t) = &a.target {
        plan.target = Some(t.clone());
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
        plan.sys_ids = m.into();
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
    plan.scope_prefix |= a.scope_prefix;
    if let Some(s) = a.secrets {
        plan.secrets = s.into();
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
    // A list on the command line replaces the plan file's.
    for (flag, list) in [
        (&a.sources, &mut plan.sources),
        (&a.regenerate_fields, &mut plan.regenerate_fields),
        (&a.scopes, &mut plan.scopes),
        (&a.secret_fields, &mut plan.secret_fields),
        (&a.set, &mut plan.set),
        (&a.replace, &mut plan.replace),
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
    let mut job = Apply::new(plan);
    job.dry_run(a.dry_run);
    if let Some(r) = &a.report {
        job.report_to(r);
    }
    // The page shows every edit.
    job.details(a.dry_run || a.review.is_some());
    let out = match (&a.out, a.dry_run) {
        (Some(o), _) => o.clone(),
        // A dry run writes nothing: its outputs would go beside the inputs.
        (None, _) => PathBuf::from("."),
    };
    if let Some(page) = &a.review {
        // Never over an input, the outputs or the report, even with --force.
        let taken = a.inputs.iter().chain([&out]).chain(a.report.as_ref());
        for p in taken {
            if p == page || same_file(page, p) {
                bail!(
                    "--review {}: that is {}; write the page elsewhere",
                    page.display(),
                    p.display()
                );
            }
        }
    }
    let all_in = all_findings_in(&a);
    let written = match job.write_to(&a.inputs, &out, a.force) {
        Ok(w) => w,
        Err(e) => return super::stopped(&e, a.quiet),
    };
    super::print_findings(&written.report.findings, a.quiet, Some(&all_in));
    if let Some(page) = &a.review {
        write_review(page, &written, a.force)?;
    }
    if !written.checked && !a.quiet {
        // `check` knows the sources only when told (an apply output has no manifest).
        let sources: String = written
            .report
            .hosts
            .iter()
            .map(|h| format!(" --source {}", h.from))
            .collect();
        say!(
            "sn-retarget: note: outputs over {} MB together are not checked here; check them with `sn-retarget check {}{sources}`",
            CHECK_LIMIT_BYTES / 1_000_000,
            super::shell_word(&out.display().to_string())
        );
    }
    if a.report.is_none() && a.dry_run {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &written.report)?;
        writeln!(out)?;
    }
    if !a.quiet {
        print_summary(&a, &written.report);
    }
    super::forget_before_exit((written, job));
    Ok(ExitCode::SUCCESS)
}

/// `--review FILE.html`: the library's page of the outputs as written.
fn write_review(page: &Path, written: &Written, force: bool) -> anyhow::Result<()> {
    let mut outputs = Vec::new();
    for (file, out) in written.report.files.iter().zip(&written.outputs) {
        if let Some(path) = out {
            let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
            outputs.push((path.display().to_string(), file.input.clone(), bytes));
        }
    }
    let named: Vec<(String, String, &[u8])> = outputs
        .iter()
        .map(|(n, i, b)| (n.clone(), i.clone(), b.as_slice()))
        .collect();
    let handoff = Handoff::ordered(&written.report, &named)?;
    let tool = format!("sn-retarget {}", env!("CARGO_PKG_VERSION"));
    let html = handoff.review_html(&tool, &written.report);
    write_atomic(page, html.as_bytes(), force)
        .with_context(|| format!("{}: review not written", page.display()))?;
    Ok(())
}

/// Where every finding can be read: the report, or a `check` of the outputs.
fn all_findings_in(a: &ApplyArgs) -> String {
    match (&a.report, &a.out) {
        (Some(r), _) => r.display().to_string(),
        (None, Some(o)) => format!("`sn-retarget check {}`", o.display()),
        (None, None) => "the report".to_string(),
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
