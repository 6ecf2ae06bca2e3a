//! `review.html`: one self-contained page (no script, no request for anything) that shows,
//! in import order, each file, each record and each changed field old -> new (secrets only as
//! replaced), the findings with their hints, and the checklist with its links. Every value
//! from an input is HTML-escaped.

use std::collections::HashMap;
use std::fmt::Write;

use super::situation::Situation;
use super::steps::{Per, STEPS};
use super::walk::{Checklist, Part};
use crate::apply::{ApplyReport, FileEdits};
use crate::plan::tokens::ChangeKind;
use crate::plan::{EditEntry, RecordNote};
use crate::untrusted::html;

/// Values longer than this are cut on the page (the report has them whole).
const VALUE_CHARS: usize = 2_000;
/// Findings listed on the page (the rest are counted; all are in the report or manifest).
const FINDINGS_LISTED: usize = 500;
/// Records listed on the page, all files together (the rest are counted).
const RECORDS_LISTED: usize = 2_000;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;line-height:1.4}\
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #bbb;padding:.2em .5em;text-align:left;vertical-align:top}\
th{background:#eee}code{white-space:pre-wrap;word-break:break-all}details{margin:.3em 0}summary{cursor:pointer}\
.secret{font-style:italic}.error{color:#a00}.warning{color:#a60}ol.checklist li{margin:.3em 0}";

/// What the page is made of.
#[derive(Debug, Clone, Copy)]
pub struct Review<'a> {
    /// Who made it (`sn-retarget 0.1.0`).
    pub tool: &'a str,
    /// The run's report: its per-record edits when details were kept, its findings.
    pub report: &'a ApplyReport,
    /// The files in import order and the records.
    pub situation: &'a Situation,
    /// The checklist.
    pub checklist: &'a Checklist,
}

impl Review<'_> {
    /// The page.
    ///
    /// ```
    /// use sn_retarget::bundle::build;
    /// use sn_retarget::io::{load_inputs, Limits};
    /// use sn_retarget::plan::Plan;
    /// let sources = load_inputs(&["fixtures/seed000_dev".into()], &Limits::default()).unwrap();
    /// let plan = Plan { target: Some("prod1".into()), ..Plan::default() };
    /// let bundle = build(&plan, &sources).unwrap();
    /// let (_, page) = bundle.files.iter().find(|(n, _)| n == "review.html").unwrap();
    /// assert!(String::from_utf8_lossy(page).contains("<h2 id=\"checklist\">"));
    /// ```
    pub fn html(&self) -> String {
        let host = self
            .situation
            .target
            .as_deref()
            .unwrap_or("the target instance");
        let mut t = String::with_capacity(16_384);
        t.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        t.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
        let _ = writeln!(t, "<title>Review: import into {}</title>", html(host));
        let _ = writeln!(t, "<style>{STYLE}</style>\n</head>\n<body>");
        let _ = writeln!(t, "<h1>Review: import into {}</h1>", html(host));
        self.summary(&mut t);
        let per_file = self.per_file();
        self.files(&mut t, &per_file);
        let listed = self.listed(&per_file);
        self.changes(&mut t, &per_file, &listed);
        self.findings(&mut t);
        let anchors = self.anchors(&per_file, &listed);
        checklist(&mut t, self.checklist, self.situation, &anchors);
        t.push_str("</body>\n</html>\n");
        t
    }

    /// How many records of each report entry of each file the page lists: the first
    /// [`RECORDS_LISTED`] of the bundle, in import order.
    fn listed(&self, per_file: &[Vec<&FileEdits>]) -> Vec<Vec<usize>> {
        let mut budget = RECORDS_LISTED;
        (0..self.situation.files.len())
            .map(|k| {
                per_file[k]
                    .iter()
                    .map(|e| {
                        let n = e.records.iter().filter(|r| !r.left_out).count().min(budget);
                        budget -= n;
                        n
                    })
                    .collect()
            })
            .collect()
    }

    /// The id of each record's details on the page, by (file, table, sys_id in the output).
    fn anchors<'p>(
        &self,
        per_file: &[Vec<&'p FileEdits>],
        listed: &[Vec<usize>],
    ) -> HashMap<(usize, &'p str, &'p str), String> {
        let mut out = HashMap::new();
        for k in 0..self.situation.files.len() {
            for (j, e) in per_file[k].iter().enumerate() {
                let shown = e.records.iter().filter(|r| !r.left_out);
                for (n, r) in shown.take(listed[k][j]).enumerate() {
                    let id = r.sys_id.as_deref().unwrap_or("");
                    let anchor = format!("f{}-{}-r{}", k + 1, j + 1, n + 1);
                    out.entry((k, r.table.as_str(), id)).or_insert(anchor);
                }
            }
        }
        out
    }

    fn summary(&self, t: &mut String) {
        let r = self.report;
        let edits: usize = r.files.iter().map(|f| f.edits).sum();
        let _ = writeln!(
            t,
            "<p>Made by {}. Intent: <strong>{}</strong>. {} file(s), {edits} edit(s), {} secret(s) replaced (values never shown), {} finding(s).</p>",
            html(self.tool),
            r.intent,
            self.situation.files.len(),
            r.secrets.len(),
            r.findings.len()
        );
        if !r.hosts.is_empty() {
            t.push_str("<p>Hosts: ");
            for (k, h) in r.hosts.iter().enumerate() {
                let sep = if k > 0 { ", " } else { "" };
                let _ = write!(
                    t,
                    "{sep}<code>{}</code> -&gt; <code>{}</code>",
                    html(&h.from),
                    html(&h.to)
                );
            }
            t.push_str("</p>\n");
        }
        t.push_str("<nav><ul><li><a href=\"#files\">Files in import order</a></li><li><a href=\"#changes\">Changes</a></li><li><a href=\"#findings\">Findings</a></li><li><a href=\"#checklist\">Checklist</a></li></ul></nav>\n");
    }

    /// The report's entries of each file, in import order (several for a combined file).
    fn per_file(&self) -> Vec<Vec<&FileEdits>> {
        let mut by_input: HashMap<&str, Vec<&FileEdits>> = HashMap::new();
        for f in &self.report.files {
            by_input.entry(f.input.as_str()).or_default().push(f);
        }
        self.situation
            .files
            .iter()
            .map(|f| {
                f.inputs
                    .iter()
                    .flat_map(|i| by_input.get(i.as_str()).into_iter().flatten().copied())
                    .collect()
            })
            .collect()
    }

    fn files(&self, t: &mut String, per_file: &[Vec<&FileEdits>]) {
        t.push_str("<h2 id=\"files\">Files in import order</h2>\n<table>\n<thead><tr><th>#</th><th>file</th><th>from</th><th>edits</th></tr></thead>\n<tbody>\n");
        for (k, f) in self.situation.files.iter().enumerate() {
            let edits: usize = per_file[k].iter().map(|e| e.edits).sum();
            let _ = writeln!(
                t,
                "<tr><td>{}</td><td><a href=\"#file-{}\"><code>{}</code></a></td><td><code>{}</code></td><td>{edits}</td></tr>",
                k + 1,
                k + 1,
                html(&f.name),
                html(&f.input)
            );
        }
        t.push_str("</tbody>\n</table>\n");
    }

    fn changes(&self, t: &mut String, per_file: &[Vec<&FileEdits>], listed: &[Vec<usize>]) {
        t.push_str("<h2 id=\"changes\">Changes</h2>\n");
        for (k, f) in self.situation.files.iter().enumerate() {
            let _ = writeln!(
                t,
                "<section>\n<h3 id=\"file-{}\">{}. <code>{}</code></h3>",
                k + 1,
                k + 1,
                html(&f.name)
            );
            let all = &per_file[k];
            if all.is_empty() {
                t.push_str("<p>No report for this file.</p>\n");
            }
            for (j, e) in all.iter().enumerate() {
                if e.records.is_empty() && e.edits > 0 {
                    counts(t, e, "the inputs are too large to review edit by edit");
                } else if listed[k][j] == 0 && e.edits > 0 {
                    counts(t, e, "the page lists the first records of the bundle only");
                } else {
                    let id = format!("f{}-{}", k + 1, j + 1);
                    file_changes(t, &id, e, listed[k][j]);
                }
            }
            t.push_str("</section>\n");
        }
    }

    fn findings(&self, t: &mut String) {
        let f = &self.report.findings;
        t.push_str("<h2 id=\"findings\">Findings</h2>\n");
        if f.is_empty() {
            t.push_str("<p>None: <code>check</code> finds nothing in the outputs.</p>\n");
            return;
        }
        t.push_str("<table>\n<thead><tr><th>severity</th><th>rule</th><th>where</th><th>what</th><th>hint</th></tr></thead>\n<tbody>\n");
        for x in f.iter().take(FINDINGS_LISTED) {
            let l = &x.location;
            let mut at = format!("{}:{}:{}", l.file, l.line, l.column);
            if let Some(table) = &l.table {
                let _ = write!(at, " {table}");
            }
            if let Some(field) = &l.field {
                let _ = write!(at, ".{field}");
            }
            let sev = x.severity.to_string();
            let _ = writeln!(
                t,
                "<tr><td class=\"{}\">{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                html(&sev),
                html(&sev),
                html(x.rule),
                html(&at),
                html(&x.message),
                html(&x.hint)
            );
        }
        t.push_str("</tbody>\n</table>\n");
        if f.len() > FINDINGS_LISTED {
            let _ = writeln!(
                t,
                "<p>And {} more finding(s), not listed (all are in <code>manifest.json</code> or the report).</p>",
                f.len() - FINDINGS_LISTED
            );
        }
    }
}

/// Each record of the file, its changes in a table.
fn file_changes(t: &mut String, file: &str, e: &FileEdits, listed: usize) {
    let mut by_record: HashMap<(&str, &str), Vec<&EditEntry>> = HashMap::new();
    for x in &e.entries {
        by_record
            .entry((x.table.as_str(), x.sys_id.as_deref().unwrap_or("")))
            .or_default()
            .push(x);
    }
    let shown = e.records.iter().filter(|r| !r.left_out).take(listed);
    for (n, r) in shown.enumerate() {
        let input_id = r
            .input_sys_id
            .as_deref()
            .or(r.sys_id.as_deref())
            .unwrap_or("");
        let edits = by_record
            .remove(&(r.table.as_str(), input_id))
            .unwrap_or_default();
        record(t, &format!("{file}-r{}", n + 1), r, &edits);
    }
    let all = e.records.iter().filter(|r| !r.left_out).count();
    if all > listed {
        let _ = writeln!(
            t,
            "<p>And {} more record(s), not listed (the page lists the first {RECORDS_LISTED} records of the bundle).</p>",
            all - listed
        );
    }
    for r in e.records.iter().filter(|r| r.left_out) {
        let _ = writeln!(t, "<p>Left out: {}</p>", record_title(r));
    }
    // Edits of what is no record of its own (the root element's attributes...).
    let mut rest: Vec<&EditEntry> = by_record.into_values().flatten().collect();
    rest.sort_by_key(|x| x.at.start);
    if !rest.is_empty() {
        let _ = writeln!(
            t,
            "<details id=\"{file}-other\"><summary>Other edits ({})</summary>",
            rest.len()
        );
        edit_table(t, &rest);
        t.push_str("</details>\n");
    }
}

/// A file whose edits are not listed one by one: their counts per rule, and why.
fn counts(t: &mut String, e: &FileEdits, why: &str) {
    let rules: Vec<String> = e.counts.iter().map(|(r, n)| format!("{r} {n}")).collect();
    let _ = writeln!(
        t,
        "<p>{} edit(s): {} (not listed one by one: {why}; <code>sn-retarget apply --report</code> lists every edit).</p>",
        e.edits,
        html(&rules.join(", "))
    );
}

fn record_title(r: &RecordNote) -> String {
    let mut s = format!("<code>{}</code>", html(&r.table));
    if let Some(n) = &r.name {
        let _ = write!(s, " &quot;{}&quot;", html(n));
    }
    if let Some(old) = &r.input_name {
        let _ = write!(s, " (was &quot;{}&quot;)", html(old));
    }
    if let Some(id) = &r.sys_id {
        let _ = write!(s, " <code>{}</code>", html(id));
    }
    if r.depth > 0 {
        s.push_str(" (inside an update-set payload)");
    }
    s
}

fn record(t: &mut String, id: &str, r: &RecordNote, edits: &[&EditEntry]) {
    let _ = writeln!(
        t,
        "<details id=\"{id}\"><summary>{}: {} change(s)</summary>",
        record_title(r),
        edits.len()
    );
    if edits.is_empty() {
        t.push_str("<p>Unchanged.</p>\n");
    } else {
        edit_table(t, edits);
    }
    t.push_str("</details>\n");
}

fn edit_table(t: &mut String, edits: &[&EditEntry]) {
    t.push_str("<table>\n<thead><tr><th>field</th><th>before</th><th>after</th><th>why</th></tr></thead>\n<tbody>\n");
    for x in edits {
        let field = html(&x.field);
        if matches!(x.rule, ChangeKind::Secret | ChangeKind::StateReset)
            || x.old.starts_with("(secret")
        {
            let what = match x.rule {
                ChangeKind::StateReset => "the original&#39;s token, emptied (value not shown)",
                _ => "secret replaced: re-enter it after import (value not shown)",
            };
            let _ = writeln!(
                t,
                "<tr><td><code>{field}</code></td><td colspan=\"2\" class=\"secret\">{what}</td><td>{}</td></tr>",
                x.rule
            );
            continue;
        }
        let _ = writeln!(
            t,
            "<tr><td><code>{field}</code></td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
            cut(&x.old),
            cut(&x.new),
            x.rule
        );
    }
    t.push_str("</tbody>\n</table>\n");
}

/// A value as it reads (XML references decoded, CDATA sections as written), HTML-escaped and
/// cut to [`VALUE_CHARS`].
fn cut(raw: &str) -> String {
    let v: &str = &match raw.contains("<![CDATA[") {
        true => std::borrow::Cow::Borrowed(raw),
        false => crate::scan::unescape(raw),
    };
    match v.char_indices().nth(VALUE_CHARS) {
        None => html(v).into_owned(),
        Some((at, _)) => format!(
            "{}… ({} more characters)",
            html(&v[..at]),
            v[at..].chars().count()
        ),
    }
}

/// The checklist, its links live: each step with the seed procedure it comes from and, for a
/// record, a link to its changes above.
fn checklist(
    t: &mut String,
    c: &Checklist,
    situation: &Situation,
    anchors: &HashMap<(usize, &str, &str), String>,
) {
    t.push_str("<h2 id=\"checklist\">Checklist</h2>\n");
    for s in &c.sections {
        let _ = writeln!(
            t,
            "<h3>{}</h3>\n<ol class=\"checklist\">",
            s.phase.heading()
        );
        for item in &s.items {
            let _ = write!(t, "<li>{}", parts(&item.parts));
            let step = STEPS.iter().find(|s| s.id == item.step);
            if let Some(step) = step {
                let _ = write!(t, " <small>(seed {})</small>", html(step.seed));
            }
            // A step about one record links to its changes.
            let own = step.is_some_and(|s| matches!(s.per, Per::Record | Per::Secret));
            let anchor = item
                .record
                .filter(|_| own)
                .map(|k| &situation.records[k])
                .and_then(|r| {
                    let id = r.sys_id.as_deref().unwrap_or("");
                    anchors.get(&(r.file, r.table.as_str(), id))
                });
            if let Some(a) = anchor {
                let _ = write!(t, " <a href=\"#{a}\">changes</a>");
            }
            if !item.list.is_empty() {
                t.push_str("\n<ol>\n");
                for sub in &item.list {
                    let _ = writeln!(t, "<li>{}</li>", parts(sub));
                }
                t.push_str("</ol>\n");
            }
            t.push_str("</li>\n");
        }
        t.push_str("</ol>\n");
    }
}

fn parts(ps: &[Part]) -> String {
    let mut out = String::new();
    let mut bold = false;
    for p in ps {
        match p {
            Part::Text(s) => out.push_str(&html(s)),
            Part::Bold => {
                out.push_str(if bold { "</strong>" } else { "<strong>" });
                bold = !bold;
            }
            Part::Value(v) => out.push_str(&html(v)),
            Part::Code(v) => {
                let _ = write!(out, "<code>{}</code>", html(v));
            }
            Part::Record { table, name } => {
                let _ = write!(out, "<code>{}</code>", html(table));
                if let Some(n) = name {
                    let _ = write!(out, " &quot;{}&quot;", html(n));
                }
            }
            Part::Link(url) => {
                let u = html(url);
                let _ = write!(out, "<a href=\"{u}\">{u}</a>");
            }
        }
    }
    if bold {
        out.push_str("</strong>");
    }
    out
}
