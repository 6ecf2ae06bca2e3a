//! `sn-retarget bundle` and `sn-retarget order`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use sn_retarget::bundle::{self, Bundler, order::Reason};

use super::apply::plan_from;
use super::{BundleArgs, EXIT_BAD_INPUT};

pub fn run(a: BundleArgs) -> anyhow::Result<ExitCode> {
    let plan = plan_from(&a.plan)?;
    plan.compile()?;
    let bundler = Bundler::new(plan).combine(a.combine);
    let sources = bundler.read(&a.inputs, &a.out, a.force)?;
    let progress = super::progress::bar(sources.len(), a.quiet);
    let tick = || progress.inc(1);
    let built = bundler.progress(&tick).build(&sources);
    progress.finish_and_clear();
    let b = match built {
        Ok(b) => b,
        Err(e) => return super::stopped(&e, a.quiet),
    };
    // What `check` found in the outputs (the library checked them, and stopped on a secret, a
    // source host or an old sys_id left; all of it is in the manifest).
    let findings = &b.manifest.findings;
    if !b.manifest.checked && !a.quiet {
        say!(
            "sn-retarget: note: outputs over {} MB together are not checked here; check them with `sn-retarget check {}` (its manifest.json names the source hosts)",
            super::CHECK_LIMIT_BYTES / 1_000_000,
            super::shell_word(&a.out.display().to_string())
        );
    }
    let all_in = a.out.join("manifest.json").display().to_string();
    super::print_findings(findings, a.quiet, Some(&all_in));
    b.write_to(&a.out, a.force)?;
    if !a.quiet {
        for w in &b.warnings {
            say!("sn-retarget: warning: {w}");
        }
        for n in &b.notes {
            say!("sn-retarget: note: {n}");
        }
        let edits: usize = b.manifest.order.iter().map(|e| e.edits).sum();
        say!(
            "sn-retarget bundle: {} file(s) in import order, {edits} edit(s), {} secret(s) to re-enter (see CHECKLIST.md); written to {}",
            b.manifest.order.len(),
            b.manifest.secrets,
            a.out.display()
        );
    }
    let flagged = findings
        .iter()
        .any(|f| f.severity >= sn_retarget::Severity::Warning);
    let strict_fail = a.strict && (!b.warnings.is_empty() || flagged);
    super::forget_before_exit((b, sources));
    Ok(if strict_fail {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Why a unit is where it is, for people; `name` names a unit.
fn why<'n>(reason: &Reason, name: impl Fn(usize) -> &'n str) -> String {
    match reason {
        Reason::After { depends_on } => {
            let deps: Vec<String> = depends_on
                .iter()
                .map(|(u, why)| format!("{} ({why})", name(*u)))
                .collect();
            format!("after {}", deps.join("; "))
        }
        Reason::Priority { table, rank } => {
            if *rank < 6 {
                format!("nothing it references is in the bundle; {table} records go early")
            } else {
                "nothing it references is in the bundle; kept in input order".to_string()
            }
        }
        Reason::Combined { units } => format!("{units} units combined"),
        Reason::CycleBroken { members } => {
            let m: Vec<&str> = members.iter().map(|u| name(*u)).collect();
            format!("first of a reference cycle ({}), by priority", m.join(", "))
        }
    }
}

pub fn order(inputs: &[PathBuf], json: bool, plan: &super::PlanArgs) -> anyhow::Result<ExitCode> {
    let plan = plan_from(plan)?;
    if plan != sn_retarget::plan::Plan::default() {
        return order_of_outputs(inputs, json, &plan);
    }
    let sources = super::load(inputs, &[])?;
    let (inventory, order) = match bundle::order_sources(&sources) {
        Ok(x) => x,
        Err(e) => {
            say!("sn-retarget: error: {e}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &order)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let name = |u: usize| inventory.files[u].path.as_str();
    for (k, p) in order.sequence.iter().enumerate() {
        writeln!(
            out,
            "{}",
            sn_retarget::untrusted::terminal(&format!(
                "{:>3}. {}  -- {}",
                k + 1,
                name(p.unit),
                why(&p.reason, name)
            ))
        )?;
    }
    for c in &order.cycles {
        let m: Vec<&str> = c.iter().map(|u| name(*u)).collect();
        say!("sn-retarget: warning: reference cycle: {}", m.join(" <-> "));
    }
    Ok(ExitCode::SUCCESS)
}

/// `order` with a plan: the order of the bundle it would make (nothing is written), each file
/// with its output name and its records as the output holds them.
fn order_of_outputs(
    inputs: &[PathBuf],
    json: bool,
    plan: &sn_retarget::plan::Plan,
) -> anyhow::Result<ExitCode> {
    let sources = super::load(inputs, &[])?;
    let b = match bundle::build(plan, &sources) {
        Ok(b) => b,
        Err(e) => {
            say!("sn-retarget: error: {e}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &b.manifest.order)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let name = |u: usize| sources[u].name.as_str();
    for e in &b.manifest.order {
        writeln!(
            out,
            "{}",
            sn_retarget::untrusted::terminal(&format!(
                "{:>3}. {} (from {})  -- {}",
                e.position,
                e.file,
                e.input,
                why(&e.reason, name)
            ))
        )?;
        for r in &e.records {
            writeln!(
                out,
                "{}",
                sn_retarget::untrusted::terminal(&format!(
                    "       {} {:?} {}",
                    r.table,
                    r.name.as_deref().unwrap_or(""),
                    r.sys_id.as_deref().unwrap_or("-")
                ))
            )?;
        }
    }
    for l in &b.manifest.left_out {
        writeln!(
            out,
            "{}",
            sn_retarget::untrusted::terminal(&format!(
                "     left out: {} {:?} {} (from {})",
                l.record.table,
                l.record.name.as_deref().unwrap_or(""),
                l.record.sys_id.as_deref().unwrap_or("-"),
                l.input
            ))
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
