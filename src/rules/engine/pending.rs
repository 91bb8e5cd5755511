//! Pending achievements: those waiting out the progress delay (SPEC §5: an achievement
//! counts `progress_delay_hours` after the later of its day and its MSA's association).
//! They do not count yet but will, at a known instant, without anyone doing anything — so
//! `progress`, `gaps`, `achievements list` and the report show them as pending from that
//! instant instead of asking for more people.
//!
//! Invariants:
//! - An achievement is pending at `at` exactly when its association is active at `at`, it
//!   does not count at `at`, and it counts at its first counting instant, which is after
//!   `at` (and so within the delay: its day and its association are not after `at`).
//! - A requirement's pending people are those the evaluation at the last pending instant
//!   counts beyond the evaluation at `at` (at most its shortfall). The instant given for
//!   them is the first pending instant at which the requirement has them all, found by
//!   bisection: across the delay `have` only grows unless something also expires within it,
//!   and even then the instant given is one at which the requirement has them.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

use super::counting::{achievement_counts, association_active, start_of};
use super::evaluate::evaluate;
use super::results::{Evaluation, RequirementDetail};
use super::snapshot::{Achievement, Person, Snapshot};
use crate::rules::parse::{Level, Rulebook};

/// The instant an achievement of `person` starts counting, whatever else stops it:
/// `max(earned at 00:00 UTC, associated) + progress_delay_hours`.
pub fn counts_from(rb: &Rulebook, person: &Person, ach: &Achievement) -> Option<DateTime<Utc>> {
    let delay = TimeDelta::hours(i64::from(rb.program.progress_delay_hours));
    start_of(ach.earned)
        .max(person.associated)
        .checked_add_signed(delay)
}

/// When the achievement does not count at `at` only because its delay has not run out: the
/// instant it starts counting. `None` when it counts, or never will on this association.
pub fn pending_until(
    rb: &Rulebook,
    person: &Person,
    ach: &Achievement,
    at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if !association_active(person, at) {
        return None;
    }
    // Before its first counting instant nothing else decides: it does not count at `at`.
    // Checked first, without the catalogue, since nearly every achievement is past it.
    let from = counts_from(rb, person, ach)?;
    (from > at && achievement_counts(rb, person, ach, from)).then_some(from)
}

/// The instant as the outputs print it: RFC 3339 UTC, seconds, `Z`.
pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// People a requirement not met now will count once their pending achievements count.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingPeople {
    /// The competency id.
    pub competency: String,
    /// The level not met now.
    pub level: Level,
    /// The index of the requirement in the level's reported option (`LevelEval::best`).
    pub requirement: usize,
    /// How many more people it counts then (at most its shortfall now).
    pub people: u64,
    /// The first instant it counts them all.
    pub from: DateTime<Utc>,
}

/// What the pending achievements of an evaluation will change within the delay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pending {
    /// Per people requirement not met now that pending achievements fill (in part).
    pub people: Vec<PendingPeople>,
    /// Levels not met now that pending achievements alone will meet, with the first
    /// instant they are met.
    pub met_from: Vec<(String, Level, DateTime<Utc>)>,
}

impl Pending {
    /// The pending people of one requirement of a level's reported option.
    pub fn requirement(
        &self,
        id: &str,
        level: Level,
        requirement: usize,
    ) -> Option<&PendingPeople> {
        self.people
            .iter()
            .find(|p| p.competency == id && p.level == level && p.requirement == requirement)
    }

    /// The first instant a level not met now is met once pending achievements count.
    pub fn met_from(&self, id: &str, level: Level) -> Option<DateTime<Utc>> {
        self.met_from
            .iter()
            .find(|(c, l, _)| c == id && *l == level)
            .map(|(_, _, t)| *t)
    }
}

/// What pending achievements will change for the levels `eval` (of `snap` at `eval.at`)
/// finds not met. Evaluates only when some achievement is pending and some level is not met,
/// and then only the competencies concerned, at a few of the pending instants.
pub fn pending(rb: &Rulebook, snap: &Snapshot, eval: &Evaluation) -> Pending {
    let instants = instants(rb, snap, eval.at);
    let mut out = Pending::default();
    if instants.is_empty() {
        return out;
    }
    // (competency, level, option, requirement, have, need) of each unmet people requirement
    // of a level not met, in its reported option.
    let mut wanted: Vec<(&str, Level, usize, usize, f64, f64)> = Vec::new();
    for ce in &eval.competencies {
        for le in ce.levels.iter().filter(|l| !l.met) {
            let Some(oe) = le.options.get(le.best) else {
                continue;
            };
            for (j, r) in oe.requirements.iter().enumerate() {
                if !r.met && matches!(r.detail, RequirementDetail::People { .. }) {
                    wanted.push((&ce.id, le.level, le.best, j, r.have, r.need));
                }
            }
        }
    }
    if wanted.is_empty() {
        return out;
    }
    let mut sub = rb.clone();
    sub.competencies
        .retain(|id, _| wanted.iter().any(|w| w.0 == id));
    let mut at_instant = Evaluations {
        rb: &sub,
        snap,
        memo: BTreeMap::new(),
    };
    let last = instants.len() - 1;
    for &(id, level, option, req, have, need) in &wanted {
        let have_at = |e: &Evaluation| {
            e.competency(id)
                .and_then(|c| c.level(level).options.get(option))
                .and_then(|o| o.requirements.get(req))
                .map_or(0.0, |r| r.have)
        };
        let target = have_at(at_instant.get(instants[last])).min(need);
        if target <= have {
            continue;
        }
        let i = first(last, |i| have_at(at_instant.get(instants[i])) >= target);
        out.people.push(PendingPeople {
            competency: id.to_owned(),
            level,
            requirement: req,
            people: (target - have) as u64,
            from: instants[i],
        });
    }
    let mut levels: Vec<(&str, Level)> = wanted.iter().map(|w| (w.0, w.1)).collect();
    levels.dedup();
    for (id, level) in levels {
        let met = |e: &Evaluation| e.competency(id).is_some_and(|c| c.level(level).met);
        if met(at_instant.get(instants[last])) {
            let i = first(last, |i| met(at_instant.get(instants[i])));
            out.met_from.push((id.to_owned(), level, instants[i]));
        }
    }
    out
}

/// The instants at which the achievements pending at `at` start counting, ascending and
/// distinct; at the last of them every one counts.
pub fn instants(rb: &Rulebook, snap: &Snapshot, at: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut out: Vec<DateTime<Utc>> = snap
        .people
        .iter()
        .flat_map(|p| {
            p.achievements
                .iter()
                .filter_map(move |a| pending_until(rb, p, a, at))
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The first of `instants` (see [`instants`]) at which `holds`, when it holds at the last
/// of them (by bisection, as for a requirement's pending people).
pub fn first_instant(
    instants: &[DateTime<Utc>],
    mut holds: impl FnMut(DateTime<Utc>) -> bool,
) -> Option<DateTime<Utc>> {
    let last = instants.len().checked_sub(1)?;
    holds(instants[last]).then(|| instants[first(last, |i| holds(instants[i]))])
}

/// The smallest index in `0..=last` for which `holds` is true, given that it holds at
/// `last` (bisection: exact when `holds` is monotone).
fn first(last: usize, mut holds: impl FnMut(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, last);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if holds(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    hi
}

/// Evaluations of a few competencies at pending instants, each made once.
struct Evaluations<'a> {
    rb: &'a Rulebook,
    snap: &'a Snapshot,
    memo: BTreeMap<DateTime<Utc>, Evaluation>,
}

impl Evaluations<'_> {
    fn get(&mut self, t: DateTime<Utc>) -> &Evaluation {
        self.memo
            .entry(t)
            .or_insert_with(|| evaluate(self.rb, self.snap, t))
    }
}
