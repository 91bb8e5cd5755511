//! Windows of time, answered exactly: "met at any instant of [from, to]".
//!
//! An evaluation at `at` depends on `at` only through a few comparisons with instants the
//! snapshot carries (SPEC §5): an association's start and end, an achievement's first
//! counting instant (`max(earned at 00:00 UTC, associated) + progress_delay_hours`), its
//! removal, the first day it stops counting (expiry or the end of its exam's retirement
//! grace), and a performance record entering (its day) and leaving (its day + the window)
//! the trailing metric window. Between two consecutive such instants every input — and so
//! every answer of the engine — is constant. [`change_points`] lists them; evaluating at
//! the window's start and at each of them answers any "at some instant" question exactly,
//! never by sampling days.
//!
//! [`gain_points`] is the subset where something can *start* counting (an achievement's
//! first counting instant, a record entering or leaving the window): the rules are
//! monotone — one more person holding a code never unmeets a requirement, a designation
//! item never scores less — so an answer can only become true at one of those instants, and
//! "met at some instant" needs evaluations there only. A record leaving stays in that
//! subset because a latest-value metric can move when its latest record leaves.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, TimeDelta, Utc};

use super::snapshot::Snapshot;
use super::{counts_until, evaluate, start_of};
use crate::rules::parse::{Level, Rulebook};

/// Every window length (days) a metric of the rulebook is judged over.
fn window_lengths(rb: &Rulebook) -> Vec<u32> {
    let mut lengths = vec![rb.program.metric_window_days];
    for comp in rb.competencies.values() {
        for option in comp.silver.iter().chain(&comp.gold) {
            lengths.extend(option.metrics.iter().filter_map(|m| m.window_days));
        }
    }
    lengths.sort_unstable();
    lengths.dedup();
    lengths
}

/// The instants of `(from, to]` at which an input of the evaluation changes, sorted and
/// distinct, preceded by `from` itself (the state in force when the window opens).
pub fn change_points(
    rb: &Rulebook,
    snap: &Snapshot,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    points(rb, snap, from, to, false)
}

/// The instants of `(from, to]` at which something can start counting, preceded by `from`:
/// enough to decide whether a monotone condition holds at some instant of `[from, to]`
/// (see the module documentation).
pub fn gain_points(
    rb: &Rulebook,
    snap: &Snapshot,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    points(rb, snap, from, to, true)
}

fn points(
    rb: &Rulebook,
    snap: &Snapshot,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    gains_only: bool,
) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut push = |t: Option<DateTime<Utc>>| {
        if let Some(t) = t.filter(|t| *t > from && *t <= to) {
            out.push(t);
        }
    };
    let delay = TimeDelta::hours(i64::from(rb.program.progress_delay_hours));
    for person in &snap.people {
        if !gains_only {
            push(Some(person.associated));
            push(person.ended);
        }
        if person.ended.is_some_and(|e| e <= from) {
            continue;
        }
        for ach in &person.achievements {
            if rb.catalog_entry(&ach.code).is_none() {
                continue;
            }
            push(
                start_of(ach.earned)
                    .max(person.associated)
                    .checked_add_signed(delay),
            );
            if !gains_only {
                push(ach.removed);
                push(counts_until(rb, ach).map(start_of));
            }
        }
    }
    for w in window_lengths(rb) {
        for r in &snap.performance {
            push(Some(start_of(r.date)));
            push(
                r.date
                    .checked_add_days(Days::new(u64::from(w)))
                    .map(start_of),
            );
        }
    }
    out.sort_unstable();
    out.dedup();
    out.insert(0, from);
    out
}

/// For each competency, the highest level met at some instant of `[from, to]` by an
/// optimistic copy of the snapshot: every association and achievement that counts at some
/// instant of the window counts throughout it (no delay, expiry, removal or retirement in
/// between). Met is monotone in what counts and the metrics only change where a record
/// enters or leaves its window, so evaluating the copy there bounds every instant.
fn upper_bound(
    rb: &Rulebook,
    snap: &Snapshot,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> BTreeMap<String, Level> {
    let delay = TimeDelta::hours(i64::from(rb.program.progress_delay_hours));
    let Some(early) = from
        .checked_sub_signed(delay)
        .and_then(|t| t.checked_sub_signed(TimeDelta::days(1)))
    else {
        return rb
            .competencies
            .keys()
            .map(|id| (id.clone(), Level::Gold))
            .collect();
    };
    let mut optimistic = rb.clone();
    for entry in &mut optimistic.catalog {
        entry.retired = None;
        entry.valid_days = None;
    }
    let mut copy = snap.clone();
    copy.people
        .retain(|p| p.associated <= to && p.ended.is_none_or(|e| e > from));
    for p in &mut copy.people {
        let associated = p.associated;
        p.achievements.retain(|a| {
            let starts = start_of(a.earned).max(associated).checked_add_signed(delay);
            starts.is_some_and(|s| s <= to)
                && a.removed.is_none_or(|r| r > from)
                && counts_until(rb, a).is_none_or(|u| start_of(u) > from)
                && rb
                    .catalog_entry(&a.code)
                    .is_some_and(|e| e.retired.is_none_or(|r| a.earned < r))
        });
        for a in &mut p.achievements {
            a.earned = early.date_naive();
            a.expires = None;
            a.removed = None;
        }
        p.associated = early;
        p.ended = None;
    }
    let mut instants = vec![from];
    for w in window_lengths(rb) {
        for r in &snap.performance {
            for t in [
                Some(start_of(r.date)),
                r.date
                    .checked_add_days(Days::new(u64::from(w)))
                    .map(start_of),
            ]
            .into_iter()
            .flatten()
            {
                if t > from && t <= to {
                    instants.push(t);
                }
            }
        }
    }
    instants.sort_unstable();
    instants.dedup();
    let mut out: BTreeMap<String, Level> = BTreeMap::new();
    for at in instants {
        for ce in evaluate(&optimistic, &copy, at).competencies {
            if let Some(level) = ce.achieved
                && out.get(&ce.id).is_none_or(|l| *l < level)
            {
                out.insert(ce.id, level);
            }
        }
    }
    out
}

/// When a competency was first attained in a window, and at which level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attained {
    /// The highest level met at some instant of the window (at most the level asked for).
    pub level: Level,
    /// The first instant it was met at that level.
    pub at: DateTime<Utc>,
}

/// For every competency met at some instant of `[from, to]` at a level up to `up_to`, the
/// highest such level and the first instant it was met at it (Gold counting as Silver).
///
/// Exact: evaluated at `from` and at each [`gain_points`] instant. Competencies already
/// attained at the highest level they can reach are left out of later evaluations, so a
/// long window costs what the undecided competencies cost.
pub fn attained(
    rb: &Rulebook,
    snap: &Snapshot,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    up_to: Level,
) -> BTreeMap<String, Attained> {
    let mut found: BTreeMap<String, Attained> = BTreeMap::new();
    if to < from {
        return found;
    }
    let top = |id: &str| {
        let c = &rb.competencies[id];
        if up_to == Level::Gold && c.has_level(Level::Gold) {
            Level::Gold
        } else {
            Level::Silver
        }
    };
    let mut pending = rb.clone();
    // A bound first: what could be met at all in the window, were everyone who counts at
    // some instant of it counting throughout. Levels not met under the bound are never met;
    // competencies whose bound is reached are dropped as soon as they reach it.
    // Worth it only when there are more instants to scan than the bound costs.
    let points = gain_points(rb, snap, from, to);
    let bound = (points.len() > 2).then(|| upper_bound(rb, snap, from, to));
    if let Some(bound) = &bound {
        pending.competencies.retain(|id, _| bound.contains_key(id));
    }
    let top = |id: &str| {
        let t = top(id);
        bound.as_ref().map_or(t, |b| {
            b.get(id).copied().map_or(Level::Silver, |l| l.min(t))
        })
    };
    for at in points {
        if pending.competencies.is_empty() {
            break;
        }
        let eval = evaluate(&pending, snap, at);
        let mut done = Vec::new();
        for ce in &eval.competencies {
            let Some(level) = Level::ALL
                .into_iter()
                .rev()
                .find(|l| *l <= up_to && ce.level(*l).met)
            else {
                continue;
            };
            if found.get(&ce.id).is_none_or(|a| a.level < level) {
                found.insert(ce.id.clone(), Attained { level, at });
            }
            if level == top(&ce.id) {
                done.push(ce.id.clone());
            }
        }
        for id in done {
            pending.competencies.remove(&id);
        }
    }
    found
}

#[cfg(test)]
#[path = "window_tests.rs"]
mod tests;
