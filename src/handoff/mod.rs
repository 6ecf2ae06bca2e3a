//! The hand-off: what the admin does around the import, and a page to review the changes.
//!
//! In: an apply report and its outputs in import order. Out: the [`Situation`] (the records
//! that call for a step, with their scope, secrets replaced, URLs), the [`Checklist`] made by
//! walking the table of steps, [`STEPS`] (one row per step of the seed procedures, with its
//! conditions: tables, scope, intent, fields replaced), written as `CHECKLIST.md`
//! ([`Checklist::markdown`]), and `review.html` ([`Review`]): each file, record and changed
//! field, the findings and the checklist, on one self-contained page.
//!
//! ```
//! use sn_retarget::apply::Apply;
//! use sn_retarget::handoff::Handoff;
//! use sn_retarget::plan::Plan;
//! let xml = br#"<unload><oauth_entity action="INSERT_OR_UPDATE"><name>P</name><client_secret>)pR#c2VjcmV0c2VjcmV0</client_secret><sys_id>0123456789abcdef0123456789abcdef</sys_id></oauth_entity></unload>"#;
//! let plan = Plan { target: Some("prod1".into()), ..Plan::default() };
//! let applied = Apply::new(plan).details(true).run(&[("a.xml", &xml[..])]).unwrap();
//! let outputs = [("out/a.xml".to_string(), "a.xml".to_string(), &applied.outputs[0].bytes[..])];
//! let h = Handoff::ordered(&applied.report, &outputs).unwrap();
//! assert!(h.checklist.steps().contains(&"unlock-client-secret"));
//! assert!(h.review_html("me", &applied.report).contains("secret replaced"));
//! ```

mod fill;
mod markdown;
mod review;
mod situation;
mod steps;
mod walk;

pub use review::Review;
pub use situation::{HandoffFile, RecordFacts, Retype, Scope, Situation, worth_reading};
pub use steps::{Kind, Per, Phase, Replaced, STEPS, ScopeIs, Step, When, steps_table};
pub use walk::{Checklist, Item, Part, Section};

use crate::analyze::inspect::Inspector;

/// Inputs up to this many bytes (all together) are reviewed edit by edit in a bundle's
/// `review.html`; beyond it the page gives each file's edit counts per rule (the page stays a
/// page, and the bundle does not hold every edit in memory).
pub const REVIEW_EDITS_LIMIT_BYTES: usize = 8_000_000;
use crate::apply::ApplyReport;
use crate::error::Error;
use crate::plan::SecretMode;

/// A situation and its checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    /// What the bundle holds.
    pub situation: Situation,
    /// What the admin does.
    pub checklist: Checklist,
}

impl Handoff {
    /// The hand-off of `report`'s outputs, `(file, bytes)` in import order.
    pub fn new(
        report: &ApplyReport,
        outputs: &[(HandoffFile, &[u8])],
        kept_secrets: usize,
    ) -> Result<Handoff, Error> {
        let situation = Situation::read(report, outputs, kept_secrets)?;
        let checklist = Checklist::of(&situation);
        Ok(Handoff {
            situation,
            checklist,
        })
    }

    /// The hand-off of outputs in any order, `(name shown, input name, bytes)`: put in import
    /// order first (as `bundle` would), for `apply --review`.
    pub fn ordered(
        report: &ApplyReport,
        outputs: &[(String, String, &[u8])],
    ) -> Result<Handoff, Error> {
        let mut inspector = Inspector::new();
        for (name, _, bytes) in outputs {
            inspector.add(name, bytes)?;
        }
        let inventory = inspector.finish();
        let order = crate::bundle::order::order(&crate::bundle::file_units(&inventory));
        let kept = match report.plan.secrets {
            SecretMode::Keep => inventory.files.iter().map(|f| f.secrets.len()).sum(),
            _ => 0,
        };
        let files: Vec<(HandoffFile, &[u8])> = order
            .sequence
            .iter()
            .map(|p| {
                let (name, input, bytes) = &outputs[p.unit];
                (HandoffFile::of(name, input), *bytes)
            })
            .collect();
        Handoff::new(report, &files, kept)
    }

    /// `CHECKLIST.md`.
    pub fn checklist_md(&self, tool: &str) -> String {
        self.checklist.markdown(tool)
    }

    /// `review.html`.
    pub fn review_html(&self, tool: &str, report: &ApplyReport) -> String {
        Review {
            tool,
            report,
            situation: &self.situation,
            checklist: &self.checklist,
        }
        .html()
    }
}
