//! The edits of every input and the report, before any output is built: each file read
//! once (large files in parts), ids resolved across files, each file finished; then written
//! straight from its input, checked for ciphertext first or while written.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::report::{
    Applied, ApplyReport, FileEdits, FileSecret, HostPair, IdPair, KeptId, Output,
};
use crate::error::{Error, ErrorKind};
#[cfg(feature = "io")]
use crate::io::WriteAt;
use crate::plan::{Hits, Pass, Plan, RewriteError, Rewriter, Rewritten, Rules};
use crate::splice::{Edits, SpliceError};

/// The edits of every input and the report, before any output is built: write each output
/// straight from its input with [`Prepared::write_output`], or build it with
/// [`Prepared::output`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Per input, in input order: its name and its edits (sorted and checked).
    pub edits: Vec<(String, Edits)>,
    /// What was done.
    pub report: ApplyReport,
}

impl Prepared {
    /// Output `i`, from its input `input` (the bytes given to [`prepare`]); an error when the
    /// edits do not fit `input` (another input than the one prepared).
    pub fn output(&self, i: usize, input: &[u8]) -> Result<Vec<u8>, SpliceError> {
        self.edits[i].1.to_vec(input)
    }

    /// Size of output `i`, whose input is `len` bytes long.
    pub fn output_len(&self, i: usize, len: usize) -> usize {
        self.edits[i].1.output_len(len)
    }

    /// Writes output `i`, from its input `input`, into `file`, in pieces of about 16 MB (at
    /// least two) written in parallel (positioned writes), starting the writeback of every
    /// 8 MB written.
    #[cfg(feature = "io")]
    pub fn write_output_at(
        &self,
        i: usize,
        input: &[u8],
        file: &std::fs::File,
    ) -> std::io::Result<()> {
        const PIECE: usize = 16 << 20;
        let edits = &self.edits[i].1;
        let pieces = (input.len() / PIECE).clamp(2, 64);
        let nears: Vec<usize> = (1..pieces).map(|k| input.len() / pieces * k).collect();
        let mut cuts = vec![(0, 0, 0)];
        cuts.extend(edits.cuts_near(input.len(), &nears));
        cuts.push((edits.len(), input.len(), edits.output_len(input.len())));
        cuts.par_windows(2).try_for_each(|w| {
            let ((k0, in0, out0), (k1, in1, _)) = (w[0], w[1]);
            let mut w = std::io::BufWriter::with_capacity(1 << 20, WriteAt::new(file, out0 as u64));
            edits.write_part(input, k0..k1, in0..in1, &mut w)?;
            std::io::Write::flush(&mut w)
        })
    }

    /// Writes output `i`, from its input `input`, to `out` (no copy of the whole output is
    /// made).
    pub fn write_output<W: std::io::Write + ?Sized>(
        &self,
        i: usize,
        input: &[u8],
        out: &mut W,
    ) -> std::io::Result<()> {
        self.edits[i].1.write(input, out)
    }
}

/// Applies `plan` to `inputs` (name, bytes). `details` keeps every edit in the report.
pub fn apply(plan: &Plan, inputs: &[(&str, &[u8])], details: bool) -> Result<Applied, Error> {
    apply_with(plan, inputs, details, &|| {})
}

/// [`apply`], calling `progress` once per file rewritten. The outputs are built in memory; see
/// [`prepare`] to write them straight from the inputs.
pub fn apply_with(
    plan: &Plan,
    inputs: &[(&str, &[u8])],
    details: bool,
    progress: &(dyn Fn() + Sync),
) -> Result<Applied, Error> {
    let prepared = prepare(plan, inputs, details, progress)?;
    let outputs = inputs
        .par_iter()
        .enumerate()
        .map(|(i, (name, bytes))| {
            Ok(Output {
                name: name.to_string(),
                bytes: prepared.output(i, bytes)?,
                edits: prepared.edits[i].1.len(),
            })
        })
        .collect::<Result<_, SpliceError>>()?;
    Ok(Applied {
        outputs,
        report: prepared.report,
    })
}

/// The edits `plan` makes to `inputs` (name, bytes) and the report, calling `progress` once
/// per file. Every file is read once (large files in parts), in parallel (rayon); the ids are
/// resolved once all are read; results are merged in input order, so nothing depends on the
/// number of threads.
///
/// ```
/// use sn_retarget::apply::prepare;
/// use sn_retarget::plan::Plan;
/// let input = &b"<unload><sys_script action='INSERT_OR_UPDATE'><url>https://dev1.service-now.com/</url></sys_script></unload>"[..];
/// let plan = Plan { target: Some("prod1".into()), sources: vec!["dev1".into()], ..Plan::default() };
/// let prepared = prepare(&plan, &[("dev.xml", input)], false, &|| {}).unwrap();
/// let mut out = Vec::new();
/// prepared.write_output(0, input, &mut out).unwrap();
/// assert!(String::from_utf8(out).unwrap().contains("https://prod1.service-now.com/"));
/// ```
pub fn prepare(
    plan: &Plan,
    inputs: &[(&str, &[u8])],
    details: bool,
    progress: &(dyn Fn() + Sync),
) -> Result<Prepared, Error> {
    prepare_checking(plan, plan.compile()?, inputs, details, progress, true).map(|(p, _)| p)
}

/// [`prepare`] with rules compiled from `plan` and then adjusted (what `fork` does: protected
/// namespaces, the application's name); `plan` is what the report shows.
pub fn prepare_with_rules(
    plan: &Plan,
    rules: Rules,
    inputs: &[(&str, &[u8])],
    details: bool,
    progress: &(dyn Fn() + Sync),
) -> Result<Prepared, Error> {
    prepare_checking(plan, rules, inputs, details, progress, true).map(|(p, _)| p)
}

/// [`prepare`], without the last step: the check that no ciphertext is left in the outputs.
/// Each output is checked while it is written ([`Unverified::write_output_at`]), or all at
/// once ([`Unverified::verify`]); nothing else reads the edits.
///
/// ```
/// use sn_retarget::apply::prepare_unverified;
/// use sn_retarget::plan::Plan;
/// let input = &b"<unload><sys_script action='INSERT_OR_UPDATE'><url>https://dev1.service-now.com/</url></sys_script></unload>"[..];
/// let plan = Plan { target: Some("prod1".into()), sources: vec!["dev1".into()], ..Plan::default() };
/// let unverified = prepare_unverified(&plan, &[("dev.xml", input)], false, &|| {}).unwrap();
/// assert_eq!(unverified.report().totals.values().sum::<usize>(), 1);
/// let prepared = unverified.verify(&[input]).unwrap();
/// assert!(String::from_utf8(prepared.output(0, input).unwrap()).unwrap().contains("prod1.service-now.com"));
/// ```
pub fn prepare_unverified(
    plan: &Plan,
    inputs: &[(&str, &[u8])],
    details: bool,
    progress: &(dyn Fn() + Sync),
) -> Result<Unverified, Error> {
    let (prepared, rewriter) =
        prepare_checking(plan, plan.compile()?, inputs, details, progress, false)?;
    Ok(Unverified { prepared, rewriter })
}

/// Edits that may still leave ciphertext in an output (see [`prepare_unverified`]): they are
/// only written to a temporary file while checked, or checked first.
#[derive(Debug)]
pub struct Unverified {
    prepared: Prepared,
    rewriter: Rewriter,
}

impl Unverified {
    /// What was done (the secrets to re-enter, the id map, ...).
    pub fn report(&self) -> &ApplyReport {
        &self.prepared.report
    }

    /// What was done, to add to (e.g. where each output went).
    pub fn report_mut(&mut self) -> &mut ApplyReport {
        &mut self.prepared.report
    }

    /// What was done, owned (the edits are dropped).
    pub fn into_report(self) -> ApplyReport {
        self.prepared.report
    }

    /// What was done and the edits, apart.
    #[cfg(feature = "io")]
    pub(crate) fn into_parts(self) -> (ApplyReport, Vec<(String, Edits)>) {
        (self.prepared.report, self.prepared.edits)
    }

    /// Size of output `i`, whose input is `len` bytes long.
    pub fn output_len(&self, i: usize, len: usize) -> usize {
        self.prepared.output_len(i, len)
    }

    /// Fails when output `i` (of input `input`) would still hold ciphertext.
    pub fn check(&self, i: usize, input: &[u8]) -> Result<(), Error> {
        let (name, edits) = &self.prepared.edits[i];
        self.rewriter.check_left(input, 0, edits).map_err(|source| {
            ErrorKind::Rewrite {
                name: name.clone(),
                source,
            }
            .into()
        })
    }

    /// Checks every output (`inputs`: the bytes given to [`prepare_unverified`], in order), in
    /// parallel: what [`prepare`] would have returned.
    pub fn verify(self, inputs: &[&[u8]]) -> Result<Prepared, Error> {
        let checked: Result<Vec<()>, Error> = inputs
            .par_iter()
            .enumerate()
            .map(|(i, input)| self.check(i, input))
            .collect();
        checked.map(|_| self.prepared)
    }

    /// Writes output `i` into `file` as [`Prepared::write_output_at`] does while checking it
    /// (on another core). The outer error is the file's; the inner one says the output would
    /// hold ciphertext: `file` then holds it too, so write only to a temporary file, and
    /// remove it unless both are `Ok`.
    #[cfg(feature = "io")]
    pub fn write_output_at(
        &self,
        i: usize,
        input: &[u8],
        file: &std::fs::File,
    ) -> std::io::Result<Result<(), Error>> {
        let (written, checked) = rayon::join(
            || self.prepared.write_output_at(i, input, file),
            || self.check(i, input),
        );
        written.map(|()| checked)
    }
}

/// [`prepare_with_rules`], leaving the check for ciphertext left in the outputs to the caller
/// unless `check`; the rewriter comes back with the plan (the caller's check uses its rules).
fn prepare_checking(
    plan: &Plan,
    rules: Rules,
    inputs: &[(&str, &[u8])],
    details: bool,
    progress: &(dyn Fn() + Sync),
    check: bool,
) -> Result<(Prepared, Rewriter), Error> {
    let mut rewriter = Rewriter::new(rules);
    let passes = read_passes(&mut rewriter, inputs, details)?;
    let warnings = fit(plan, rewriter.rules(), &passes, inputs)?;
    let ids = rewriter.resolve(&passes);
    // The report's id map is made while the files are finished.
    let (rewritten, id_map): (Vec<Result<Rewritten, Error>>, Vec<IdPair>) = rayon::join(
        || {
            passes
                .into_par_iter()
                .zip(inputs.par_iter())
                .map(|(pass, (name, bytes))| {
                    let r = rewriter
                        .finish_checking(pass, &ids, bytes, details, check)
                        .map_err(|e| read_error(name, e));
                    progress();
                    r
                })
                .collect()
        },
        || {
            ids.map
                .pairs()
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(|(o, n)| IdPair {
                    old: o.to_string(),
                    new: n.to_string(),
                })
                .collect()
        },
    );
    refuse_looks_secret(&rewritten, inputs)?;
    let collected = Collected::of(inputs, rewritten)?;
    let rules = rewriter.rules();
    let report = ApplyReport {
        plan: plan.clone(),
        intent: rules.intent,
        target: rules.target.as_ref().map(|t| t.host().to_string()),
        hosts: rules
            .host_map
            .iter()
            .map(|(f, t)| HostPair {
                from: f.host().to_string(),
                to: t.host().to_string(),
            })
            .collect(),
        existing: rules.existing.iter().map(ToString::to_string).collect(),
        client_ids: collected.client_ids,
        warnings,
        files: collected.files,
        totals: collected.totals,
        id_map,
        natural_keys_kept: ids
            .kept_natural
            .iter()
            .map(|(t, id)| KeptId {
                table: t.clone(),
                sys_id: id.clone(),
            })
            .collect(),
        secrets: collected.secrets,
        findings: Vec::new(),
    };
    let edits = collected.edits;
    Ok((Prepared { edits, report }, rewriter))
}

/// A rewrite error of input `name`: a read error located in the file, else the rewrite's.
fn read_error(name: &str, source: RewriteError) -> Error {
    match source {
        RewriteError::Read(e) => Error::from(e.with_path(name)),
        source => ErrorKind::Rewrite {
            name: name.to_string(),
            source,
        }
        .into(),
    }
}

/// Refuses a plan that does not fit the inputs (a source host missing from them, several merged
/// into one); the warnings about its rules that changed nothing.
fn fit(
    plan: &Plan,
    rules: &Rules,
    passes: &[Pass],
    inputs: &[(&str, &[u8])],
) -> Result<Vec<String>, Error> {
    let seen: std::collections::BTreeSet<&str> =
        passes.iter().flat_map(|p| p.hosts_seen()).collect();
    crate::plan::fit::check_hosts(rules, &seen, inputs)?;
    let mut hits = Hits::default();
    for p in passes {
        hits.add(&p.hits());
    }
    Ok(crate::plan::fit::unused_rules(plan, rules, &hits))
}

/// Every input read once, in parallel; again, with all of them, when a dictionary in any file
/// declares a secret column the plan did not know (such a column holds secrets in every file).
fn read_passes(
    rewriter: &mut Rewriter,
    inputs: &[(&str, &[u8])],
    details: bool,
) -> Result<Vec<Pass>, Error> {
    let read_all = |rewriter: &Rewriter| {
        inputs
            .par_iter()
            .map(|(name, bytes)| {
                rewriter
                    .read(bytes, details)
                    .map_err(|e| read_error(name, e))
            })
            .collect::<Vec<Result<Pass, Error>>>()
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
    };
    let passes = read_all(rewriter)?;
    let learned: Vec<(String, String)> = passes
        .iter()
        .flat_map(|p| p.secret_columns().iter().cloned())
        .collect();
    if learned.is_empty() {
        return Ok(passes);
    }
    rewriter.add_secret_columns(learned);
    read_all(rewriter)
}

/// Every value that looks secret, from every file, in one message: refused when that is all
/// that stopped the files (another error is reported as itself).
fn refuse_looks_secret(
    rewritten: &[Result<Rewritten, Error>],
    inputs: &[(&str, &[u8])],
) -> Result<(), Error> {
    let mut looks: Vec<(String, crate::plan::LooksSecret)> = Vec::new();
    for (r, (name, _)) in rewritten.iter().zip(inputs) {
        match r.as_ref().map_err(Error::kind) {
            Ok(_) => {}
            Err(ErrorKind::Rewrite {
                source: RewriteError::LooksSecret(list),
                ..
            }) => looks.extend(list.iter().map(|l| (name.to_string(), l.clone()))),
            Err(_) => return Ok(()),
        }
    }
    match looks.is_empty() {
        true => Ok(()),
        false => Err(ErrorKind::LooksSecret(looks).into()),
    }
}

/// The finished files gathered for the report, in input order.
struct Collected {
    edits: Vec<(String, Edits)>,
    files: Vec<FileEdits>,
    secrets: Vec<FileSecret>,
    totals: BTreeMap<crate::plan::tokens::ChangeKind, usize>,
    client_ids: Vec<crate::plan::ClientIdChange>,
}

impl Collected {
    /// The first error of a file, or every file's edits, counts and notes; refused when every
    /// record of every file was left out.
    fn of(
        inputs: &[(&str, &[u8])],
        rewritten: Vec<Result<Rewritten, Error>>,
    ) -> Result<Collected, Error> {
        let mut c = Collected {
            edits: Vec::with_capacity(inputs.len()),
            files: Vec::with_capacity(inputs.len()),
            secrets: Vec::new(),
            totals: BTreeMap::new(),
            client_ids: Vec::new(),
        };
        for ((name, _), r) in inputs.iter().zip(rewritten) {
            let r = r?;
            for (rule, n) in &r.counts {
                *c.totals.entry(*rule).or_insert(0) += n;
            }
            // A file with no output has no secret to re-enter.
            if !r.dropped {
                c.secrets
                    .extend(r.secrets.into_iter().map(|note| FileSecret {
                        file: name.to_string(),
                        note,
                    }));
            }
            c.client_ids.extend(r.client_ids);
            c.files.push(FileEdits {
                input: name.to_string(),
                output: None,
                edits: r.edits.len(),
                counts: r.counts,
                entries: r.entries,
                warnings: r.warnings,
                left_out: r.left_out,
                dropped: r.dropped,
                records: r.records,
            });
            c.edits.push((name.to_string(), r.edits));
        }
        if !c.files.is_empty() && c.files.iter().all(|f| f.dropped) {
            let left_out = c.files.iter().map(|f| f.left_out.len()).sum();
            return Err(ErrorKind::NothingLeft(left_out).into());
        }
        c.client_ids.sort();
        c.client_ids.dedup();
        Ok(c)
    }
}

/// Runs `check` on the outputs of `applied`, with what the plan removed (source hosts, old
/// sys_ids), and keeps the findings in the report.
pub fn check_outputs(plan: &Plan, applied: &mut Applied) -> Result<(), Error> {
    let outputs: Vec<(&str, &[u8])> = applied
        .outputs
        .iter()
        .map(|o| (o.name.as_str(), o.bytes.as_slice()))
        .collect();
    let findings = check_named(plan, &applied.report, &outputs)?;
    applied.report.findings = findings;
    Ok(())
}

/// Runs `check` on `outputs` (name, bytes) of a run of `plan` that made `report`: the hosts
/// and sys_ids it removed must not be left, and its placeholders are notes, not secrets.
pub fn check_named(
    plan: &Plan,
    report: &ApplyReport,
    outputs: &[(&str, &[u8])],
) -> Result<Vec<crate::check::Finding>, Error> {
    let rules = plan.compile()?;
    let options = crate::check::CheckOptions {
        target: rules.target.clone(),
        sources: rules.sources.clone(),
        old_ids: report.id_map.iter().map(|p| p.old.clone()).collect(),
        placeholder: Some(rules.placeholder.clone()),
        secret_rules: Some(rules.secret_rules.clone()),
        // Renamed as prefixes, an old namespace is a leftover anywhere; renamed only where
        // whole, names that start with it stay on purpose.
        old_namespaces: match rules.scope_prefix {
            true => rules
                .namespaces
                .iter()
                .map(|(old, _)| old.clone())
                .collect(),
            false => Vec::new(),
        },
        keep_namespaces: rules
            .namespaces
            .iter()
            .map(|(_, new)| new.clone())
            .chain(rules.keep_namespaces.iter().cloned())
            .collect(),
        existing: rules.existing.clone(),
        run: Some(crate::check::RunFacts::of(report)),
    };
    let checked = crate::check::check(outputs, &options)?;
    Ok(checked.findings)
}
