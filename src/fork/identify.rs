//! Which application the files hold: one read of every export.

use super::error::refuse;
use crate::error::Error;
use std::collections::BTreeSet;

use rayon::prelude::*;

use super::ForkError;
use crate::analyze::apps::{AppEntry, AppFacts, AppFinder, merge};
use crate::analyze::refs::for_each_scope;
use crate::model::{Record, Visitor, read};

/// What the exports say: their applications, every namespace they name, their records.
#[derive(Debug, Clone, Default)]
pub struct Survey {
    /// The applications.
    pub apps: Vec<AppEntry>,
    /// Every scope namespace named (`source=`, `application_scope`, `sys_app.scope`).
    pub namespaces: BTreeSet<String>,
    /// Records read, payloads included.
    pub records: usize,
}

#[derive(Default)]
struct Reader {
    apps: AppFinder,
    namespaces: Vec<(usize, String)>,
    records: Vec<usize>,
}

impl Visitor for Reader {
    fn record(&mut self, r: &Record<'_>) {
        self.apps.record(r);
        self.records.push(r.index);
        let namespaces = &mut self.namespaces;
        for_each_scope(r, |s| {
            if let Some(ns) = s.namespace {
                namespaces.push((r.index, ns.into_owned()));
            }
        });
    }

    fn discard_from(&mut self, first_index: usize) {
        self.apps.discard_from(first_index);
        self.namespaces.retain(|(i, _)| *i < first_index);
        self.records.retain(|&i| i < first_index);
    }
}

impl Survey {
    /// Reads every export (`(name, bytes)`), in parallel.
    pub fn of(inputs: &[(&str, &[u8])]) -> Result<Survey, Error> {
        // Per file: its application facts, the namespaces it names, its record count.
        type FileSurvey = (AppFacts, Vec<String>, usize);
        let read: Vec<Result<FileSurvey, Error>> = inputs
            .par_iter()
            .map(|(name, bytes)| {
                let mut v = Reader::default();
                read(bytes, &mut v).map_err(|e| e.with_path(name))?;
                let names = v.namespaces.into_iter().map(|(_, n)| n).collect();
                Ok((v.apps.finish(), names, v.records.len()))
            })
            .collect();
        let mut facts = Vec::with_capacity(read.len());
        let mut survey = Survey::default();
        for r in read {
            let (f, names, records) = r?;
            facts.push(f);
            survey.namespaces.extend(names);
            survey.records += records;
        }
        survey.apps = merge(&facts);
        survey
            .namespaces
            .extend(survey.apps.iter().filter_map(|a| a.namespace.clone()));
        Ok(survey)
    }

    /// The one application of the exports, with its namespace and sys_id; none or several is
    /// an error.
    pub fn the_app(&self) -> Result<(&AppEntry, &str, &str), Error> {
        match self.apps.as_slice() {
            [] => refuse(ForkError::NoApp),
            [app] => {
                let (Some(ns), Some(id)) = (app.namespace.as_deref(), app.sys_id.as_deref()) else {
                    return refuse(ForkError::NoNamespace(
                        app.sys_id.clone().unwrap_or_default(),
                    ));
                };
                Ok((app, ns, id))
            }
            several => refuse(ForkError::SeveralApps(
                several
                    .iter()
                    .map(|a| {
                        format!(
                            "{} {:?}",
                            a.namespace
                                .as_deref()
                                .or(a.sys_id.as_deref())
                                .unwrap_or("?"),
                            a.name.as_deref().unwrap_or("")
                        )
                    })
                    .collect(),
            )),
        }
    }
}
