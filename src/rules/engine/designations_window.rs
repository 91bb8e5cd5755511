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
//! window's length — and one pass serves every designation asked about at once (`list`
//! sweeps all six together, not six times over everyone).
//!
//! A code a designation lists with eligibility dates (`eligibility`) is a code of its own
//! here (the code with its dates): held only while both the catalogue's rules and the dates
//! let it count, with the dates among the holder's change points. A classified designation
//! is judged at each instant on the track in force then; classifications are instants too.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};

use super::designations::{
    Designation, TrackRef, classified_track, counting_track, enough, item_values,
};
use super::points::{Exact, exact, sum};
use super::snapshot::{Person, Snapshot};
use super::{achievement_counts_in, counts_until_in, start_of};
use crate::rules::parse::{CatalogEntry, Rulebook};

/// A code as one designation reads it: the code, and the days it is eligible between.
type CodeKey<'a> = (&'a str, Option<NaiveDate>, Option<NaiveDate>);

fn eligible(key: &CodeKey<'_>, day: NaiveDate) -> bool {
    key.1.is_none_or(|f| day >= f) && key.2.is_none_or(|u| day <= u)
}

/// One people requirement, as (all_of, any_of) code indices into the relevant codes.
type Spec = (Vec<u32>, Vec<Vec<u32>>);

/// A skilling item compiled to spec indices: its prerequisites as (spec, count), its spec.
type ItemLayout = (Vec<(usize, usize)>, usize);

/// The first instant of `[from, to]` at which the designation qualifies; see the module
/// documentation.
pub(super) fn first_qualified(
    rb: &Rulebook,
    snap: &Snapshot,
    id: &str,
    d: &Designation,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    first_qualified_many(rb, snap, &[id], &[d], from, to)[0]
}

/// [`first_qualified`] for several designations in one sweep, in the order given.
pub(super) fn first_qualified_many<'a>(
    rb: &Rulebook,
    snap: &Snapshot,
    ids: &[&str],
    ds: &[&'a Designation],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Option<DateTime<Utc>>> {
    let mut out: Vec<Option<DateTime<Utc>>> = vec![None; ds.len()];
    if ds.is_empty() || to < from {
        return out;
    }
    let tracks: Vec<Vec<TrackRef<'a>>> = ds.iter().map(|d| d.all_tracks()).collect();
    // Every code (with its eligibility dates) a requirement names, by index; every distinct
    // requirement (spec).
    let mut codes: Vec<CodeKey<'a>> = Vec::new();
    let mut code_ix: HashMap<CodeKey<'a>, u32> = HashMap::new();
    let mut specs: Vec<Spec> = Vec::new();
    let mut index =
        |d: &'a Designation, all_of: &'a [String], any_of: &'a [Vec<String>]| -> usize {
            let mut ix = |c: &'a String| -> u32 {
                let key: CodeKey<'a> = match d.eligibility_of(c) {
                    Some(e) => (c.as_str(), e.from, e.until),
                    None => (c.as_str(), None, None),
                };
                *code_ix.entry(key).or_insert_with(|| {
                    codes.push(key);
                    (codes.len() - 1) as u32
                })
            };
            let key: Spec = (
                all_of.iter().map(&mut ix).collect(),
                any_of
                    .iter()
                    .map(|l| l.iter().map(&mut ix).collect())
                    .collect(),
            );
            match specs.iter().position(|s| *s == key) {
                Some(i) => i,
                None => {
                    specs.push(key);
                    specs.len() - 1
                }
            }
        };
    // Per designation, per track, per skilling item: (prerequisites as (spec, count), spec).
    let layout: Vec<Vec<Vec<ItemLayout>>> = tracks
        .iter()
        .zip(ds)
        .map(|(ts, d)| {
            ts.iter()
                .map(|t| {
                    t.skilling
                        .iter()
                        .map(|s| {
                            let pre = s
                                .prerequisites
                                .iter()
                                .map(|p| (index(d, &p.all_of, &p.any_of), p.count as usize))
                                .collect();
                            (pre, index(d, &s.people.all_of, &s.people.any_of))
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let entries: Vec<Option<&CatalogEntry>> = codes.iter().map(|c| rb.catalog_entry(c.0)).collect();
    // Each code's variants (one per distinct set of eligibility dates).
    let mut variants: HashMap<&'a str, Vec<u32>> = HashMap::new();
    for (i, c) in codes.iter().enumerate() {
        variants.entry(c.0).or_default().push(i as u32);
    }
    let words = specs.len().div_ceil(64).max(1);

    // Individuals (accounts) with a relevant achievement, and their intervals of filling each
    // spec, as events.
    let mut by_user: HashMap<i64, Vec<&Person>> = HashMap::new();
    for p in &snap.people {
        if p.ended.is_none_or(|e| e > from)
            && p.associated <= to
            && p.achievements
                .iter()
                .any(|a| variants.contains_key(&*a.code))
        {
            by_user.entry(p.user_id).or_default().push(p);
        }
    }
    let delay = TimeDelta::hours(i64::from(rb.program.progress_delay_hours));
    let mut events: Vec<(DateTime<Utc>, usize, i32)> = Vec::new();
    let mut instants: BTreeSet<DateTime<Utc>> = BTreeSet::new();
    instants.insert(from);
    // Reused per individual: (person, achievement, code index) of their relevant records.
    let mut relevant: Vec<(&Person, &super::snapshot::Achievement, u32)> = Vec::new();
    let mut points: Vec<DateTime<Utc>> = Vec::new();
    let mut held: Vec<u32> = Vec::new();
    let mut mask = vec![0u64; words];
    let mut now = vec![0u64; words];
    for persons in by_user.values() {
        relevant.clear();
        points.clear();
        points.push(from);
        for p in persons {
            points.push(p.associated);
            points.extend(p.ended);
            for a in &p.achievements {
                let Some(vs) = variants.get(&*a.code) else {
                    continue;
                };
                points.extend(
                    start_of(a.earned)
                        .max(p.associated)
                        .checked_add_signed(delay),
                );
                points.extend(a.removed);
                for &c in vs {
                    relevant.push((p, a, c));
                    let key = &codes[c as usize];
                    points.extend(key.1.map(start_of));
                    points.extend(key.2.and_then(|u| u.succ_opt()).map(start_of));
                }
                if let Some(e) = entries[vs[0] as usize] {
                    points.extend(counts_until_in(rb, e, a).map(start_of));
                }
            }
        }
        points.retain(|t| *t >= from && *t <= to);
        points.sort_unstable();
        points.dedup();
        mask.iter_mut().for_each(|w| *w = 0);
        for &t in &points {
            held.clear();
            held.extend(relevant.iter().filter_map(|&(p, a, c)| {
                (eligible(&codes[c as usize], t.date_naive())
                    && entries[c as usize].is_some_and(|e| achievement_counts_in(rb, e, p, a, t)))
                .then_some(c)
            }));
            now.iter_mut().for_each(|w| *w = 0);
            for (i, (all_of, any_of)) in specs.iter().enumerate() {
                let holds = |c: &u32| held.contains(c);
                if all_of.iter().all(holds)
                    && (any_of.is_empty() || any_of.iter().any(|l| l.iter().all(holds)))
                {
                    now[i / 64] |= 1 << (i % 64);
                }
            }
            if now != mask {
                for (i, _) in specs.iter().enumerate() {
                    let (w, b) = (i / 64, i % 64);
                    let (was, is) = (mask[w] >> b & 1, now[w] >> b & 1);
                    if was != is {
                        events.push((t, i, if is == 1 { 1 } else { -1 }));
                    }
                }
                instants.insert(t);
                mask.copy_from_slice(&now);
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
    for c in &snap.classifications {
        if c.since > from && c.since <= to && ds.iter().any(|d| d.track_index(&c.track).is_some()) {
            instants.insert(c.since);
        }
    }
    events.sort_unstable_by_key(|e| e.0);

    let threshold = exact(rb.program.designation_threshold);
    let rule = rb.program.required_item_points;
    let mut counts = vec![0i64; specs.len()];
    let mut next = 0;
    let mut left = ds.len();
    let mut keys: Vec<(Exact, bool)> = Vec::new();
    for t in instants {
        while next < events.len() && events[next].0 <= t {
            counts[events[next].1] += i64::from(events[next].2);
            next += 1;
        }
        for (k, ((ts, lay), d)) in tracks.iter().zip(&layout).zip(ds).enumerate() {
            if out[k].is_some() {
                continue;
            }
            keys.clear();
            for (track, items) in ts.iter().zip(lay) {
                let by_track = d.inputs_by_track.then_some(track.name);
                let mut ok = true;
                let metric_points = track.metrics.iter().map(|m| {
                    let p = m.points_exact(&item_values(rb, snap, m, by_track, t));
                    ok &= !m.required || enough(rule, p);
                    p
                });
                let mut total = sum(metric_points);
                for (s, (pre, spec)) in track.skilling.iter().zip(items) {
                    let have = |j: usize| counts[pre[j].0].max(0) as usize;
                    let p = s.points_exact(have, counts[*spec].max(0) as usize);
                    ok &= !s.required || enough(rule, p);
                    total += p;
                }
                keys.push((total, ok && total >= threshold));
            }
            let id = ids[k];
            let classified = classified_track(snap, id, d, t).map(|c| c.1);
            let set = d.track_choice == crate::rules::parse::TrackChoice::Best
                || classified.is_some()
                || keys.len() <= 1;
            let qualified = if set {
                keys.get(counting_track(d.track_choice, classified, &keys))
                    .is_some_and(|k| k.1)
            } else {
                !keys.is_empty() && keys.iter().all(|k| k.1)
            };
            if qualified {
                out[k] = Some(t);
                left -= 1;
            }
        }
        if left == 0 {
            break;
        }
    }
    out
}
