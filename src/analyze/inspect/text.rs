//! The inventory as text for people.

use std::collections::BTreeMap;
use std::fmt;

use super::{FileReport, Inventory};
use crate::analyze::apps::AppEntry;
use crate::analyze::secrets::SecretReason;

fn short(id: &Option<String>) -> &str {
    id.as_deref().unwrap_or("-")
}

impl fmt::Display for Inventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, file) in self.files.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{file}")?;
        }
        write_apps(f, &self.apps)
    }
}

/// The applications, for people: one line each.
pub fn write_apps(f: &mut impl fmt::Write, apps: &[AppEntry]) -> fmt::Result {
    if apps.is_empty() {
        return Ok(());
    }
    writeln!(f, "applications:")?;
    for a in apps {
        write!(
            f,
            "  {} {} {:?}: {} record(s)",
            a.namespace.as_deref().unwrap_or("-"),
            short(&a.sys_id),
            a.name.as_deref().unwrap_or(""),
            a.records
        )?;
        if !a.defined {
            write!(f, " (its sys_app record is not in the input)")?;
        }
        match a.tables.is_empty() {
            true => writeln!(f, ", no table defined")?,
            false => writeln!(f, ", tables: {}", a.tables.join(", "))?,
        }
    }
    Ok(())
}

impl fmt::Display for FileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.error {
            writeln!(f, "{}: error: {}", self.path, e.message)?;
            if let Some(s) = &e.location.snippet {
                writeln!(f, "{s}")?;
            }
            return Ok(());
        }
        let shape = self
            .shape
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let nested = self.records.iter().filter(|r| r.depth > 0).count();
        writeln!(
            f,
            "{}: {shape}, {} bytes, {} records ({} inside payloads)",
            self.path,
            self.bytes,
            self.records.len(),
            nested
        )?;
        if !self.records.is_empty() {
            writeln!(f, "  records:")?;
        }
        for r in &self.records {
            let indent = "  ".repeat(r.depth);
            write!(
                f,
                "    {indent}#{} {} {} {}",
                r.index,
                r.table,
                short(&r.sys_id),
                r.action.as_deref().unwrap_or("-")
            )?;
            if let Some(n) = &r.name {
                write!(f, " {n:?}")?;
            }
            match r.payload_of {
                Some(p) => writeln!(f, " (payload of #{p}, depth {})", r.depth)?,
                None => writeln!(f)?,
            }
        }
        self.fmt_references(f)?;
        self.fmt_hosts_and_scopes(f)?;
        self.fmt_secrets(f)?;
        for d in &self.diagnostics {
            writeln!(f, "  {}:{d}", self.path)?;
        }
        Ok(())
    }
}

impl FileReport {
    /// The references, one line per record referred to, with the fields pointing at it.
    fn fmt_references(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outside = self.references.iter().filter(|r| !r.resolved).count();
        if !self.references.is_empty() {
            writeln!(
                f,
                "  references: {} ({} resolved in the input, {} outside it)",
                self.references.len(),
                self.references.len() - outside,
                outside
            )?;
        }
        // Grouped by target: one line per referenced record, with the fields pointing at it.
        type Sources = BTreeMap<String, usize>;
        let mut by_target: BTreeMap<(&str, &str), (bool, Sources)> = BTreeMap::new();
        for r in &self.references {
            let key = (r.target.as_str(), r.display_value.as_deref().unwrap_or(""));
            let e = by_target
                .entry(key)
                .or_insert((r.resolved, BTreeMap::new()));
            *e.1.entry(format!("{}.{}", r.table, r.field)).or_default() += 1;
        }
        for ((target, display), (resolved, fields)) in by_target {
            let from: Vec<String> = fields
                .into_iter()
                .map(|(k, n)| if n > 1 { format!("{k} x{n}") } else { k })
                .collect();
            writeln!(
                f,
                "    -> {target} {display:?} [{}] from {}",
                if resolved {
                    "in input"
                } else {
                    "outside input"
                },
                from.join(", ")
            )?;
        }
        Ok(())
    }

    /// The instance hosts and the scopes seen.
    fn fmt_hosts_and_scopes(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.hosts.is_empty() {
            writeln!(f, "  instance hosts:")?;
        }
        for h in &self.hosts {
            writeln!(f, "    {} x{} in {}", h.host, h.count, h.fields.join(", "))?;
        }
        if !self.scopes.is_empty() {
            writeln!(f, "  scopes:")?;
        }
        for s in &self.scopes {
            writeln!(
                f,
                "    {} {:?} {} x{}",
                short(&s.sys_id),
                s.name.as_deref().unwrap_or(""),
                s.namespace.as_deref().unwrap_or("-"),
                s.count
            )?;
        }
        Ok(())
    }

    /// The secrets found (values not shown) and why each is one.
    fn fmt_secrets(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.secrets.is_empty() {
            writeln!(f, "  secrets (values not shown):")?;
        }
        for s in &self.secrets {
            let why = match (s.why, s.shape) {
                (SecretReason::KnownColumn, Some(_)) => "known secret column, ciphertext",
                (SecretReason::Ciphertext, _) => "ciphertext shape, no rule",
                (why, _) => why.describe(),
            };
            writeln!(
                f,
                "    #{} {}.{} {} depth {}: {why}",
                s.record,
                s.table,
                s.field,
                short(&s.sys_id),
                s.depth
            )?;
        }
        Ok(())
    }
}
