//! Import order: a stable topological sort of units by the references between them.
//!
//! In: units (files, or top-level records for `--combine`), each with the sys_ids it defines,
//! the sys_ids it references and the tables it holds. Out: the order to import them in, with
//! the reason for each place. A unit comes after every unit that defines a record it references;
//! ties are broken by the known priorities (scope/app records, `oauth_entity`,
//! `oauth_entity_scope`, `oauth_entity_profile`, `oauth_entity_profile_scope`,
//! `sys_auth_profile_oauth2`, then the rest), then by original position. A cycle is reported
//! with its members and broken by the same priorities, never silently.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// Import priority of a table: lower goes first when references do not decide.
pub fn priority(table: &str) -> u8 {
    match table {
        "sys_scope" | "sys_app" | "sys_store_app" | "sys_package" => 0,
        "oauth_entity" => 1,
        "oauth_entity_scope" => 2,
        "oauth_entity_profile" => 3,
        "oauth_entity_profile_scope" => 4,
        "sys_auth_profile_oauth2" => 5,
        _ => 6,
    }
}

/// A reference from a unit, kept to explain the order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnitRef {
    /// Referring table and field, e.g. `oauth_entity_profile.oauth_entity`.
    pub from: String,
    /// The sys_id referred to.
    pub target: String,
    /// The display value beside it.
    pub display: Option<String>,
}

/// Something to place: a file, or a top-level record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unit {
    /// For messages.
    pub name: String,
    /// sys_ids of every record it holds (payloads included).
    pub defines: BTreeSet<String>,
    /// Its references.
    pub references: Vec<UnitRef>,
    /// Tables of its records.
    pub tables: BTreeSet<String>,
}

/// Why a unit is where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Reason {
    /// It references records of these earlier units.
    After {
        /// `(unit index, "table.field -> sys_id (display)")`, one per unit depended on.
        depends_on: Vec<(usize, String)>,
    },
    /// Nothing in the bundle it references; placed by the priority of its table.
    Priority {
        /// The table that set its priority.
        table: String,
        /// The priority (0 first).
        rank: u8,
    },
    /// All units combined into one document (`--combine`), records in import order.
    Combined {
        /// How many units (top-level records, or whole update sets) it holds.
        units: usize,
    },
    /// Placed first among the members of a reference cycle.
    CycleBroken {
        /// Unit indexes of the cycle's members.
        members: Vec<usize>,
    },
}

impl Reason {
    /// The same reason, its unit indexes passed through `f` (e.g. from a subset's indexes to
    /// the whole list's).
    pub fn map_units(&self, f: impl Fn(usize) -> usize) -> Reason {
        match self {
            Reason::After { depends_on } => Reason::After {
                depends_on: depends_on.iter().map(|(u, w)| (f(*u), w.clone())).collect(),
            },
            Reason::CycleBroken { members } => Reason::CycleBroken {
                members: members.iter().map(|u| f(*u)).collect(),
            },
            other => other.clone(),
        }
    }
}

/// One place in the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placed {
    /// Index of the unit in the input.
    pub unit: usize,
    /// Why here.
    pub reason: Reason,
}

/// The import order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    /// Units in import order.
    pub sequence: Vec<Placed>,
    /// Reference cycles found (unit indexes), each broken by priority.
    pub cycles: Vec<Vec<usize>>,
}

fn rank(u: &Unit) -> (u8, String) {
    u.tables
        .iter()
        .map(|t| (priority(t), t.clone()))
        .min()
        .unwrap_or((6, String::new()))
}

/// Orders `units` for import.
///
/// ```
/// use sn_retarget::bundle::order::{order, Unit, UnitRef};
/// let profile = Unit {
///     name: "profile.xml".into(),
///     defines: ["p".repeat(32)].into(),
///     references: vec![UnitRef { from: "oauth_entity_profile.oauth_entity".into(), target: "e".repeat(32), display: None }],
///     tables: ["oauth_entity_profile".to_string()].into(),
/// };
/// let entity = Unit { name: "entity.xml".into(), defines: ["e".repeat(32)].into(), tables: ["oauth_entity".to_string()].into(), ..Unit::default() };
/// let o = order(&[profile, entity]);
/// assert_eq!(o.sequence.iter().map(|p| p.unit).collect::<Vec<_>>(), [1, 0]);
/// ```
pub fn order(units: &[Unit]) -> Order {
    let n = units.len();
    // preds[u] = (v, why) for each unit v that u depends on.
    let preds = dependencies(units);
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indegree = vec![0usize; n];
    for (u, p) in preds.iter().enumerate() {
        for &v in p.keys() {
            succs[v].push(u);
            indegree[u] += 1;
        }
    }
    let ranks: Vec<(u8, String)> = units.par_iter().map(rank).collect();
    let key = |u: usize| Reverse((ranks[u].0, u));
    let mut ready: BinaryHeap<Reverse<(u8, usize)>> =
        (0..n).filter(|&u| indegree[u] == 0).map(key).collect();
    let mut placed = vec![false; n];
    let mut sequence = Vec::with_capacity(n);
    let mut cycles = Vec::new();
    let mut forced: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    while sequence.len() < n {
        let u = match ready.pop() {
            Some(Reverse((_, u))) => u,
            None => {
                // A cycle: break it at the best-ranked unit that is on one (a unit merely
                // waiting behind a cycle is not a member).
                let mut remaining: Vec<usize> = (0..n).filter(|&u| !placed[u]).collect();
                remaining.sort_by_key(|&u| (ranks[u].0, u));
                let (start, members) = remaining
                    .iter()
                    .map(|&u| (u, cycle_members(u, &preds, &succs, &placed)))
                    .find(|(_, m)| m.len() > 1)
                    .unwrap_or_else(|| (remaining[0], vec![remaining[0]]));
                cycles.push(members.clone());
                forced.insert(start, members);
                start
            }
        };
        if placed[u] {
            continue;
        }
        placed[u] = true;
        let reason = if let Some(members) = forced.remove(&u) {
            Reason::CycleBroken { members }
        } else if preds[u].is_empty() {
            Reason::Priority {
                table: ranks[u].1.clone(),
                rank: ranks[u].0,
            }
        } else {
            Reason::After {
                depends_on: preds[u].iter().map(|(v, why)| (*v, why.clone())).collect(),
            }
        };
        sequence.push(Placed { unit: u, reason });
        for &s in &succs[u] {
            if !placed[s] {
                indegree[s] -= 1;
                if indegree[s] == 0 {
                    ready.push(key(s));
                }
            }
        }
    }
    Order { sequence, cycles }
}

/// Per unit, the units it depends on (it references a record they define), each with why: the
/// first such reference.
fn dependencies(units: &[Unit]) -> Vec<BTreeMap<usize, String>> {
    let mut definer: FxHashMap<&str, usize> = FxHashMap::default();
    for (i, u) in units.iter().enumerate() {
        for id in &u.defines {
            definer.entry(id.as_str()).or_insert(i);
        }
    }
    // Each unit's on its own, in parallel: the map of definers is only read.
    units
        .par_iter()
        .enumerate()
        .map(|(u, unit)| {
            let mut preds = BTreeMap::new();
            for r in &unit.references {
                let Some(&v) = definer.get(r.target.as_str()) else {
                    continue;
                };
                if v != u && !unit.defines.contains(&r.target) {
                    preds.entry(v).or_insert_with(|| match &r.display {
                        Some(d) if !d.is_empty() => format!("{} -> {} ({d})", r.from, r.target),
                        _ => format!("{} -> {}", r.from, r.target),
                    });
                }
            }
            preds
        })
        .collect()
}

/// The unplaced units on a cycle through `start`: reachable from it and reaching it.
fn cycle_members(
    start: usize,
    preds: &[BTreeMap<usize, String>],
    succs: &[Vec<usize>],
    placed: &[bool],
) -> Vec<usize> {
    let reach = |next: &dyn Fn(usize) -> Vec<usize>| {
        let mut seen = BTreeSet::from([start]);
        let mut todo = vec![start];
        while let Some(u) = todo.pop() {
            for v in next(u) {
                if !placed[v] && seen.insert(v) {
                    todo.push(v);
                }
            }
        }
        seen
    };
    let forward = reach(&|u| succs[u].clone());
    let backward = reach(&|u| preds[u].keys().copied().collect());
    forward.intersection(&backward).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str, table: &str, defines: &str, refs: &[&str]) -> Unit {
        Unit {
            name: name.into(),
            defines: [defines.to_string()].into(),
            references: refs
                .iter()
                .map(|t| UnitRef {
                    from: format!("{table}.ref"),
                    target: t.to_string(),
                    display: None,
                })
                .collect(),
            tables: [table.to_string()].into(),
        }
    }

    #[test]
    fn priorities_break_ties_and_positions_keep_order() {
        let units = [
            unit("a", "sys_script", "1", &[]),
            unit("b", "oauth_entity", "2", &[]),
            unit("c", "sys_script", "3", &[]),
            unit("d", "sys_app", "4", &[]),
        ];
        let o = order(&units);
        let seq: Vec<usize> = o.sequence.iter().map(|p| p.unit).collect();
        assert_eq!(seq, [3, 1, 0, 2]);
    }

    #[test]
    fn a_unit_waiting_behind_a_cycle_is_not_its_member() {
        // 0 needs 1; 1 and 2 need each other: the cycle is {1, 2}, broken at 1; then 0 (an app
        // record, ranked first) may go, since all it needs is placed.
        let units = [
            unit("a", "sys_app", "0", &["1"]),
            unit("b", "sys_script", "1", &["2"]),
            unit("c", "sys_script", "2", &["1"]),
        ];
        let o = order(&units);
        assert_eq!(o.cycles, [vec![1, 2]]);
        let seq: Vec<usize> = o.sequence.iter().map(|p| p.unit).collect();
        assert_eq!(seq, [1, 0, 2]);
    }

    #[test]
    fn cycles_are_reported_and_broken_by_priority() {
        let units = [
            unit("x", "sys_script", "1", &["2"]),
            unit("y", "oauth_entity", "2", &["1"]),
            unit("z", "sys_script", "3", &["1"]),
        ];
        let o = order(&units);
        assert_eq!(o.cycles, [vec![0, 1]]);
        let seq: Vec<usize> = o.sequence.iter().map(|p| p.unit).collect();
        assert_eq!(seq, [1, 0, 2]);
        assert!(matches!(o.sequence[0].reason, Reason::CycleBroken { .. }));
    }
}
