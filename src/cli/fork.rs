//! `sn-retarget fork`: flags to [`ForkOptions`], the application to its fork, written safely.

use std::process::ExitCode;

use anyhow::Context;
use sn_retarget::Severity;
use sn_retarget::fork::{App, ForkOptions, check_destination, fork};
use sn_retarget::io::{Limits, Staged};
use sn_retarget::plan::parse_id_map;

use super::ForkArgs;

pub fn run(a: ForkArgs) -> anyhow::Result<ExitCode> {
    let refused = super::refused;
    let mut options = ForkOptions::new(&a.scope);
    options.name.clone_from(&a.name);
    options.details = a.report.is_some();
    options.keep.clone_from(&a.keep_scopes);
    options.secret_fields.clone_from(&a.secret_fields);
    for n in &a.not_secret {
        let (field, reason) = super::apply::split_outside_brackets(n, '=')
            .with_context(|| format!("--not-secret {n:?}: expected SELECTOR=REASON"))?;
        options.not_secret.push(sn_retarget::plan::NotSecretEntry {
            field: field.trim().to_string(),
            reason: reason.trim().to_string(),
        });
    }
    if let Some(s) = &a.seed {
        options.seed.clone_from(s);
    }
    if let Some(path) = &a.map {
        let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
        options.map =
            parse_id_map(&text, a.map_reverse).with_context(|| path.display().to_string())?;
    }
    if let Err(e) = check_destination(&a.app, &a.out, a.report.as_deref(), a.force, &a.scope) {
        return refused(&e);
    }
    let forked = match App::load(&a.app, &Limits::default()).and_then(|app| fork(&app, &options)) {
        Ok(f) => f,
        Err(e) => return super::stopped(&e, false),
    };
    let r = &forked.report;
    for w in r
        .warnings
        .iter()
        .chain(r.apply.files.iter().flat_map(|f| &f.warnings))
    {
        say!("sn-retarget: warning: {w}");
    }
    // The check's errors are printed (what the fork was meant to remove, the old namespace, an
    // old sys_id or a secret, left in it has stopped the run before anything was written).
    for f in r
        .apply
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
    {
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
    // The report is staged first and moved into place once the folder is.
    let mut staged = Staged::new(a.force);
    if let Some(path) = &a.report {
        let json = serde_json::to_vec_pretty(r)?;
        staged.add_with(path, |w| w.write_all(&json))?;
    }
    if let Err(e) = forked.write(&a.out, a.force) {
        return refused(&e);
    }
    staged.commit()?;
    say!("sn-retarget fork: {r}; written to {}", a.out.display());
    if !r.apply.secrets.is_empty() {
        say!(
            "sn-retarget fork: {} secret(s) to re-enter (the new scope has its own key); see the report",
            r.apply.secrets.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
