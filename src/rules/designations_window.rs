//! "Qualified at some instant of the window", as one sweep over time.
//!
//! Scoring at an instant from scratch costs a pass over every achievement; a six-month
//! window has thousands of instants where something changes, so evaluating at each would
//! cost thousands of passes. Instead, each individual's own history is replayed once: the
//! instants where their links and certifications start or stop counting (their change
//! points, see [`super::window`]) give the intervals during which they fill each people
//! requirement of the designation (every prerequisite and every skilling item). Merged over
//! everyone, these become +1/−1 events on per-requirement counts; sweeping the events in
//! time order, with the metric records entering and leaving the window, gives the exact
//! counts — and so the exact score — on every interval where nothing changes. The work is
//! one pass over the relevant achievements plus a few operations per event, whatever the
//! window's length.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Days, TimeDelta, Utc};

use super::designations::{Designation, round2};
use super::engine::{achievement_counts, association_active, counts_until, start_of};
use super::rulebook::{PeopleRequirement, Rulebook};
use super::snapshot::{Person, Snapshot};

/// One people requirement of the designation, as (all_of, any_of).
type Spec = (Vec<String>, Vec<Vec<String>>);

/// A skilling item compiled to spec indices: its prerequisites as (spec, count), its spec.
type ItemLayout = (Vec<(usize, usize)>, usize);

/// The first instant of `[from, to]` at which the designation qualifies; see the module
/// documentation.
pub(super) fn first_qualified(
    rb: &Rulebook,
    snap: &Snapshot,
    d: &Designation,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let tracks = d.all_tracks();
    // Every distinct people requirement, and where each prerequisite / item finds its own.
    let mut specs: Vec<Spec> = Vec::new();
    let mut index = |all_of: &[String], any_of: &[Vec<String>]| -> usize {
        let key = (all_of.to_vec(), any_of.to_vec());
        match specs.iter().position(|s| *s == key) {
            Some(i) => i,
            None => {
                specs.push(key);
                specs.len() - 1
            }
        }
    };
    // Per track, per skilling item: (prerequisites as (spec, count), item spec).
    let layout: Vec<Vec<ItemLayout>> = tracks
        .iter()
        .map(|t| {
            t.skilling
                .iter()
                .map(|s| {
                    let pre = s
                        .prerequisites
                        .iter()
                        .map(|p| (index(&p.all_of, &p.any_of), p.count as usize))
                        .collect();
                    (pre, index(&s.people.all_of, &s.people.any_of))
                })
                .collect()
        })
        .collect();
    let relevant: HashSet<&str> = specs
        .iter()
        .flat_map(|(all, any)| all.iter().chain(any.iter().flatten()))
        .map(String::as_str)
        .collect();

    // Individuals (accounts) and their intervals of filling each spec, as events.
    let mut by_user: HashMap<i64, Vec<&Person>> = HashMap::new();
    for p in &snap.people {
        if p.ended.is_none_or(|e| e > from) && p.associated <= to {
            by_user.entry(p.user_id).or_default().push(p);
        }
    }
    let delay = TimeDelta::hours(i64::from(rb.program.progress_delay_hours));
    let mut events: Vec<(DateTime<Utc>, usize, i32)> = Vec::new();
    let mut instants: BTreeSet<DateTime<Utc>> = BTreeSet::new();
    instants.insert(from);
    for persons in by_user.values() {
        let mut points = vec![from];
        let mut any = false;
        for p in persons {
            points.push(p.associated);
            points.extend(p.ended);
            for a in p
                .achievements
                .iter()
                .filter(|a| relevant.contains(&*a.code))
            {
                any = true;
                points.extend(
                    start_of(a.earned)
                        .max(p.associated)
                        .checked_add_signed(delay),
                );
                points.extend(a.removed);
                points.extend(counts_until(rb, a).map(start_of));
            }
        }
        if !any {
            continue;
        }
        points.retain(|t| *t >= from && *t <= to);
        points.sort_unstable();
        points.dedup();
        let mut mask: u64 = 0;
        for t in points {
            let now = mask_at(rb, persons, &specs, &relevant, t);
            let changed = now ^ mask;
            if changed != 0 {
                for (s, _) in specs
                    .iter()
                    .enumerate()
                    .filter(|(s, _)| changed >> s & 1 == 1)
                {
                    events.push((t, s, if now >> s & 1 == 1 { 1 } else { -1 }));
                }
                instants.insert(t);
                mask = now;
            }
        }
    }
    for r in &snap.performance {
        for t in [
            Some(start_of(r.date)),
            r.date
                .checked_add_days(Days::new(u64::from(rb.program.metric_window_days)))
                .map(start_of),
        ]
        .into_iter()
        .flatten()
        {
            if t > from && t <= to {
                instants.insert(t);
            }
        }
    }
    events.sort_unstable_by_key(|e| e.0);

    let threshold = rb.program.designation_threshold;
    let mut counts = vec![0i64; specs.len()];
    let mut next = 0;
    for t in instants {
        while next < events.len() && events[next].0 <= t {
            counts[events[next].1] += i64::from(events[next].2);
            next += 1;
        }
        let qualified = tracks.iter().zip(&layout).any(|(track, items)| {
            let mut total = 0.0;
            for m in track.metrics {
                let p = m.points(super::designations::metric_value(rb, snap, m, t));
                if m.required && p <= 0.0 {
                    return false;
                }
                total += p;
            }
            for (s, (pre, spec)) in track.skilling.iter().zip(items) {
                let unlocked = pre.iter().all(|&(p, n)| counts[p] >= n as i64);
                let p = if unlocked {
                    s.points(counts[*spec].max(0) as usize)
                } else {
                    0.0
                };
                if s.required && p <= 0.0 {
                    return false;
                }
                total += p;
            }
            round2(total) >= threshold
        });
        if qualified {
            return Some(t);
        }
    }
    None
}

/// Which specs (bit per spec) one individual fills at `t`.
fn mask_at(
    rb: &Rulebook,
    persons: &[&Person],
    specs: &[Spec],
    relevant: &HashSet<&str>,
    t: DateTime<Utc>,
) -> u64 {
    let mut held: HashSet<&str> = HashSet::new();
    for p in persons.iter().filter(|p| association_active(p, t)) {
        for a in p
            .achievements
            .iter()
            .filter(|a| relevant.contains(&*a.code))
        {
            if achievement_counts(rb, p, a, t) {
                held.insert(&a.code);
            }
        }
    }
    let mut mask = 0u64;
    for (i, (all_of, any_of)) in specs.iter().enumerate().take(64) {
        let req = PeopleRequirement {
            count: 1,
            all_of: all_of.clone(),
            any_of: any_of.clone(),
        };
        if req.qualifies(|c| held.contains(c)) {
            mask |= 1 << i;
        }
    }
    mask
}
