//! Who and what a qualifying designation relies on, in one pass (SPEC §9b, §11): the
//! people whose departure alone would stop it qualifying (its bus factor, gate holders
//! included), and the certifications whose lapse alone would.
//!
//! One scoring of every designation, then per person only arithmetic: a skilling item's
//! points depend on how many people count in it and how many fill each of its gates, so
//! taking one person (or one of their certifications) away lowers those counts by at most
//! one each and the item's exact points are recomputed from them; metric items do not
//! change. The cost is people × items, never one re-scoring per person or certification.
//!
//! Invariants: the answer equals the brute force (re-score without that person, or with
//! that person's records of that code gone) — tested against it; only designations that
//! qualify now are examined, and scoring is monotone, so a person whose departure breaks
//! nothing has no certification that does.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::Holdings;
use super::designations::{
    Designation, DesignationScore, SkillingItem, counting_track, eligible_codes, enough, score_with,
};
use super::points::{Exact, display, exact};
use super::snapshot::Snapshot;
use crate::rules::parse::Rulebook;

/// What losing a person or a certification does to one designation.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignationLoss {
    /// The designation id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The counting track's total now, rounded for display.
    pub before: f64,
    /// The counting track's total after the loss, rounded for display.
    pub after: f64,
    /// Gates that would no longer be met: "gate of intermediate: 1 of 2 Azure
    /// Administrator Associate".
    pub gates: Vec<String>,
}

/// The one-pass answer for an organization at an instant.
#[derive(Debug, Clone, Default)]
pub struct Reliance {
    /// Per qualifying designation (rulebook order): (id, name, account ids of the people
    /// whose departure alone stops it qualifying, ascending).
    pub critical: Vec<(String, String, Vec<i64>)>,
    /// (account id, code) → each designation its lapse alone stops qualifying.
    pub relied_on: BTreeMap<(i64, String), Vec<DesignationLoss>>,
}

/// One skilling item as counts: who counts, who fills each gate (individual indices,
/// ascending), and the codes that can make someone count.
struct Counts<'a> {
    item: &'a SkillingItem,
    /// The index of the item in its track's items (metrics first).
    at: usize,
    people: Vec<u32>,
    gates: Vec<Vec<u32>>,
    /// Per gate then the item: the eligible (all_of, any_of).
    reqs: Vec<(Vec<String>, Vec<Vec<String>>)>,
}

/// Computes [`Reliance`] for `rb`'s designations at `at`.
pub fn reliance(rb: &Rulebook, snap: &Snapshot, at: DateTime<Utc>) -> Reliance {
    let holdings = Holdings::new(rb, snap, at);
    let scores = score_with(rb, snap, at, false);
    let day = at.date_naive();
    let mut out = Reliance::default();
    for ((id, d), s) in rb.designations.iter().zip(&scores) {
        if !s.qualified() {
            continue;
        }
        let tracks: Vec<Vec<Counts>> = d
            .all_tracks()
            .iter()
            .map(|t| {
                t.skilling
                    .iter()
                    .enumerate()
                    .map(|(k, item)| counts(&holdings, d, item, t.metrics.len() + k, day))
                    .collect()
            })
            .collect();
        let mut candidates: BTreeSet<u32> = BTreeSet::new();
        for c in tracks.iter().flatten() {
            candidates.extend(c.people.iter().chain(c.gates.iter().flatten()));
        }
        let mut critical = Vec::new();
        for &i in &candidates {
            if !breaks(rb, d, s, &tracks, |_| false, i).0 {
                continue;
            }
            critical.push(holdings.user_id(i));
            // Every code the items name that this person holds: does its lapse alone break?
            let mut codes: BTreeSet<&str> = BTreeSet::new();
            for c in tracks.iter().flatten() {
                for (all, any) in &c.reqs {
                    codes.extend(all.iter().chain(any.iter().flatten()).map(String::as_str));
                }
            }
            for code in codes.into_iter().filter(|c| holdings.holds(i, c)) {
                let still = |(all, any): &(Vec<String>, Vec<Vec<String>>)| {
                    holdings.qualifies_without(i, all, any, code)
                };
                let (broken, loss) = breaks(rb, d, s, &tracks, still, i);
                if broken {
                    out.relied_on
                        .entry((holdings.user_id(i), code.to_owned()))
                        .or_default()
                        .push(DesignationLoss {
                            id: id.clone(),
                            name: d.name.clone(),
                            ..loss
                        });
                }
            }
        }
        critical.sort_unstable();
        out.critical.push((id.clone(), d.name.clone(), critical));
    }
    out
}

fn counts<'a>(
    holdings: &Holdings<'_>,
    d: &Designation,
    item: &'a SkillingItem,
    at: usize,
    day: chrono::NaiveDate,
) -> Counts<'a> {
    let mut reqs = Vec::new();
    let mut members = |all: &[String], any: &[Vec<String>]| match eligible_codes(d, day, all, any) {
        None => {
            reqs.push((Vec::new(), Vec::new()));
            Vec::new()
        }
        Some((all, any)) => {
            let m = holdings.members(&all, &any);
            reqs.push((all, any));
            m
        }
    };
    let gates: Vec<Vec<u32>> = item
        .prerequisites
        .iter()
        .map(|p| members(&p.all_of, &p.any_of))
        .collect();
    let people = members(&item.people.all_of, &item.people.any_of);
    Counts {
        item,
        at,
        people,
        gates,
        reqs,
    }
}

/// Whether taking person `i` away — entirely, or only what `still` says they keep
/// qualifying for (per gate, then the item) — stops the designation qualifying; with the
/// loss on its counting track.
fn breaks(
    rb: &Rulebook,
    d: &Designation,
    s: &DesignationScore,
    tracks: &[Vec<Counts>],
    still: impl Fn(&(Vec<String>, Vec<Vec<String>>)) -> bool,
    i: u32,
) -> (bool, DesignationLoss) {
    let threshold = exact(rb.program.designation_threshold);
    let rule = rb.program.required_item_points;
    let mut gates_lost = Vec::new();
    let mut keys: Vec<(Exact, bool)> = Vec::with_capacity(tracks.len());
    for (t, (counts, score)) in tracks.iter().zip(&s.tracks).enumerate() {
        let mut total = score.exact_total;
        let mut points: Vec<Exact> = score.items.iter().map(|x| x.exact).collect();
        for c in counts {
            let loses = |set: &[u32], req: &(Vec<String>, Vec<Vec<String>>)| {
                usize::from(set.binary_search(&i).is_ok() && !still(req))
            };
            let n = c.gates.len();
            let have: Vec<usize> = c
                .gates
                .iter()
                .zip(&c.reqs)
                .map(|(g, r)| g.len() - loses(g, r))
                .collect();
            let persons = c.people.len() - loses(&c.people, &c.reqs[n]);
            let p = c.item.points_exact(|j| have[j], persons);
            total = total - points[c.at] + p;
            points[c.at] = p;
            if t == s.best {
                for (j, g) in c.item.prerequisites.iter().enumerate() {
                    let need = g.count as usize;
                    if have[j] < need && c.gates[j].len() >= need {
                        gates_lost.push(format!(
                            "gate of {}: {} of {need} {}",
                            c.item.name,
                            have[j],
                            super::designations::titles_text(rb, &g.all_of, &g.any_of)
                        ));
                    }
                }
            }
        }
        let qualified = total >= threshold
            && score
                .items
                .iter()
                .zip(&points)
                .all(|(x, p)| !x.required || enough(rule, *p));
        keys.push((total, qualified));
    }
    let classified = s.classified.as_deref().and_then(|c| d.track_index(c));
    let best = counting_track(d.track_choice, classified, &keys);
    let qualified = if s.track_set() {
        keys.get(best).is_some_and(|k| k.1)
    } else {
        !keys.is_empty() && keys.iter().all(|k| k.1)
    };
    let loss = DesignationLoss {
        id: String::new(),
        name: String::new(),
        before: s.score(),
        after: keys.get(best).map_or(0.0, |k| display(k.0)),
        gates: gates_lost,
    };
    (!qualified, loss)
}
