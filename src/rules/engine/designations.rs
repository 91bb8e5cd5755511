//! Solutions Partner designations (SPEC §9): the rulebook types of `[designations.ID]` and
//! the pure scorer: the tracks, the one that counts, and the qualification window (what one
//! item earns is `designations_items`).
//!
//! A designation has two tracks (or one); a track has metric items and skilling items, each
//! worth points up to its `max_points`. Which track counts is the designation's
//! `track_choice`: `best`, the higher total; `classified`, the track Partner Center
//! classified the partner into at T (the snapshot's classifications), and with none recorded
//! every track must qualify. A track qualifies at T when it reaches the program's
//! `designation_threshold` with every required item above 0 (`required_item_points`). A
//! metric item reads one input, the best of several options or a capped sum, on its track
//! when the designation records figures per track. Every number explains itself: each item
//! carries its value, its points, its maximum, the people who count and who fills each gate.
//!
//! Invariants the scorer keeps: points are exact ([`super::points`]): every comparison (the
//! threshold, "above 0", a cap) is on rationals, and only the displayed `points`/`total` are
//! rounded (half up, two decimals), so six deployments at 20 from 6 are 20 and three people at
//! 20/3 are 20; points never go below 0 nor above `max_points`; a person counts once per item
//! however many of its certifications they hold, and only through certifications eligible
//! for the designation at T; a skilling item's people score nothing until each gate has its
//! `count` distinct individuals (one person may count in several gates and items), while a
//! met gate earns its own `points`. More people or codes never lower an item; classifications
//! and eligibility dates may, which is why [`qualified_in_window`] evaluates at every instant
//! where an input changes, not only where something starts counting.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::Serialize;

use super::points::{Exact, display, exact, sum};
use super::snapshot::Snapshot;
use super::{Holdings, start_of};
pub use crate::rules::parse::designations::{
    Association, Designation, MetricItem, SkillingItem, TrackChoice, TrackRef,
};
use crate::rules::parse::{Metric, Rulebook};

pub use super::designations_items::{eligible_codes, enough, item_values, titles_text};
use super::designations_items::{metric_item, skilling};

// ---------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------

/// One designation scored at one instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesignationScore {
    /// The designation id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its solution area.
    pub area: String,
    /// The points needed.
    pub threshold: f64,
    /// How its track is chosen.
    pub choice: TrackChoice,
    /// The track it is classified into at the instant (`classified` designations only).
    pub classified: Option<String>,
    /// The index of the track that counts: the classified one; for `best`, the higher
    /// total; with no classification, the lower (every track must qualify).
    pub best: usize,
    /// Every track, in rulebook order.
    pub tracks: Vec<TrackScore>,
}

impl DesignationScore {
    /// The track that counts.
    pub fn best_track(&self) -> Option<&TrackScore> {
        self.tracks.get(self.best)
    }

    /// The score: the counting track's total (0 without tracks).
    pub fn score(&self) -> f64 {
        self.best_track().map_or(0.0, |t| t.total)
    }

    /// Whether the track is known: a `best` designation, or a classified one with its
    /// classification recorded (or a single track).
    pub fn track_set(&self) -> bool {
        self.choice == TrackChoice::Best || self.classified.is_some() || self.tracks.len() <= 1
    }

    /// Whether the designation qualifies at the instant: its track does; with a classified
    /// designation's track not set, every track must.
    pub fn qualified(&self) -> bool {
        if self.track_set() {
            self.best_track().is_some_and(|t| t.qualified)
        } else {
            !self.tracks.is_empty() && self.tracks.iter().all(|t| t.qualified)
        }
    }
}

/// One track's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackScore {
    /// The track's name.
    pub track: String,
    /// The sum of its items' points, rounded for display.
    pub total: f64,
    /// The exact sum.
    #[serde(skip)]
    pub exact_total: Exact,
    /// Total ≥ threshold and every required item has points (compared exactly).
    pub qualified: bool,
    /// Metric items then skilling items, in rulebook order.
    pub items: Vec<ItemScore>,
}

/// The kind of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum ItemKind {
    /// A metric item.
    Metric,
    /// A skilling item.
    Skilling,
}

impl ItemKind {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One input of a metric item with several (`best_of`, `sum_of`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputScore {
    /// The metric read.
    pub metric: Metric,
    /// The association read, if any.
    pub association: Option<Association>,
    /// Its value.
    pub value: f64,
    /// The points it earns alone, rounded for display.
    pub points: f64,
}

/// One gating step of a skilling item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateScore {
    /// What it needs, e.g. "2 people with AZ-104".
    pub need: u32,
    /// The codes, as written.
    pub codes: String,
    /// How many people fill it.
    pub have: usize,
    /// Its own points when met.
    pub points: f64,
    /// Who fills it, by user name (only when names are asked for).
    pub people: Vec<String>,
}

/// One item's score, with what stands behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemScore {
    /// The item's name.
    pub name: String,
    /// Metric or skilling.
    pub kind: ItemKind,
    /// The metric's value (the best option's, the first input's), or the number of people
    /// who count.
    pub value: f64,
    /// The points earned, rounded for display.
    pub points: f64,
    /// The exact points.
    #[serde(skip)]
    pub exact: Exact,
    /// The cap.
    pub max_points: f64,
    /// Whether 0 points blocks qualification.
    pub required: bool,
    /// Skilling: the people who count, by user name (empty for metrics).
    pub people: Vec<String>,
    /// Skilling: the account ids of those people, in the same order.
    #[serde(skip)]
    pub user_ids: Vec<i64>,
    /// Skilling: each prerequisite that is not met, e.g. "2 people with AZ-104: have 1".
    pub unmet_prerequisites: Vec<String>,
    /// Skilling: every gate, met or not.
    pub gates: Vec<GateScore>,
    /// Metric: the metric and scope (empty for skilling).
    pub metric: Option<(Metric, Option<String>)>,
    /// Metric: each input of a `best_of`/`sum_of` item.
    pub inputs: Vec<InputScore>,
}

// ---------------------------------------------------------------------------------------
// Scoring
// ---------------------------------------------------------------------------------------

/// Scores every designation of the rulebook at `at`, naming the people who count.
pub fn score(rb: &Rulebook, snap: &Snapshot, at: DateTime<Utc>) -> Vec<DesignationScore> {
    score_with(rb, snap, at, true)
}

/// [`score`], naming the people who count (`people` and `user_ids` of skilling items) only
/// when `names`: without, those lists stay empty and `value` alone counts them, which spares
/// sorting and copying up to every user name per item.
pub fn score_with(
    rb: &Rulebook,
    snap: &Snapshot,
    at: DateTime<Utc>,
    names: bool,
) -> Vec<DesignationScore> {
    let holdings = Holdings::new(rb, snap, at);
    rb.designations
        .iter()
        .map(|(id, d)| score_one(rb, snap, &holdings, id, d, at, names))
        .collect()
}

/// Scores one designation at `at`; `None` when the rulebook has no such designation.
pub fn score_designation(
    rb: &Rulebook,
    snap: &Snapshot,
    id: &str,
    at: DateTime<Utc>,
) -> Option<DesignationScore> {
    let d = rb.designations.get(id)?;
    let holdings = Holdings::new(rb, snap, at);
    Some(score_one(rb, snap, &holdings, id, d, at, true))
}

/// The track whose total counts, given each track's (exact total, qualified) and the
/// classified track's index: the classified one; for `best` the higher total (of equal
/// totals a qualifying one, then the first); with no classification, the lower total (of
/// equal ones a failing one, then the first), since every track must qualify.
pub fn counting_track(
    choice: TrackChoice,
    classified: Option<usize>,
    tracks: &[(Exact, bool)],
) -> usize {
    if let Some(i) = classified {
        return i;
    }
    let mut best = 0;
    for (i, t) in tracks.iter().enumerate().skip(1) {
        let b = &tracks[best];
        let better = match choice {
            TrackChoice::Best => (t.0, t.1) > (b.0, b.1),
            TrackChoice::Classified => (t.0, t.1) < (b.0, b.1),
        };
        if better {
            best = i;
        }
    }
    best
}

/// The classified track of `d` at `at`, as (name, index), when it names one of its tracks.
pub fn classified_track<'a>(
    snap: &'a Snapshot,
    id: &str,
    d: &Designation,
    at: DateTime<Utc>,
) -> Option<(&'a str, usize)> {
    if d.track_choice != TrackChoice::Classified {
        return None;
    }
    let name = snap.classification(id, at)?;
    d.track_index(name).map(|i| (name, i))
}

fn score_one(
    rb: &Rulebook,
    snap: &Snapshot,
    holdings: &Holdings<'_>,
    id: &str,
    d: &Designation,
    at: DateTime<Utc>,
    names: bool,
) -> DesignationScore {
    let threshold = exact(rb.program.designation_threshold);
    let rule = rb.program.required_item_points;
    let today = at.date_naive();
    let tracks: Vec<TrackScore> = d
        .all_tracks()
        .into_iter()
        .map(|t| {
            let mut items = Vec::new();
            let by_track = d.inputs_by_track.then_some(t.name);
            for m in t.metrics {
                items.push(metric_item(rb, snap, m, by_track, at));
            }
            for s in t.skilling {
                items.push(skilling(holdings, d, s, today, names));
            }
            let exact_total = sum(items.iter().map(|i| i.exact));
            let qualified = exact_total >= threshold
                && items.iter().all(|i| !i.required || enough(rule, i.exact));
            TrackScore {
                track: t.name.to_owned(),
                total: display(exact_total),
                exact_total,
                qualified,
                items,
            }
        })
        .collect();
    let classified = classified_track(snap, id, d, at);
    let keys: Vec<(Exact, bool)> = tracks
        .iter()
        .map(|t| (t.exact_total, t.qualified))
        .collect();
    let best = counting_track(d.track_choice, classified.map(|c| c.1), &keys);
    DesignationScore {
        id: id.to_owned(),
        name: d.name.clone(),
        area: d.area.clone(),
        threshold: rb.program.designation_threshold,
        choice: d.track_choice,
        classified: classified.map(|c| c.0.to_owned()),
        best,
        tracks,
    }
}

// ---------------------------------------------------------------------------------------
// The qualification window
// ---------------------------------------------------------------------------------------

/// The first instant of the qualification window of `at`: midnight UTC of the first day of
/// the month `qualification_window_months − 1` months before `at`'s month.
pub fn window_start(rb: &Rulebook, at: DateTime<Utc>) -> DateTime<Utc> {
    let first = at.date_naive().with_day(1).unwrap_or(at.date_naive());
    let back = Months::new(rb.program.qualification_window_months.saturating_sub(1));
    start_of(first.checked_sub_months(back).unwrap_or(NaiveDate::MIN))
}

/// The first instant of `[from, to]` at which designation `id` qualifies, exactly: the
/// counts of people filling each requirement are swept over time from every individual's
/// change points (see `designations_window`), never sampled. `None` if it never does.
pub fn qualified_in_window(
    rb: &Rulebook,
    snap: &Snapshot,
    id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let d = rb.designations.get(id)?;
    if to < from {
        return None;
    }
    super::designations_window::first_qualified(rb, snap, id, d, from, to)
}

/// Fixes the classified track of designation `id` for a term from `start` (the enrolment)
/// to `end` (the anniversary), as the Azure program does: `smb` if the partner was classified
/// `smb` at any instant of the qualification window of `start`, else the track in force at
/// `start`. The snapshot's classifications of the designation inside the term are replaced
/// by that one; the one in force at `end` takes over again then. Nothing changes without a
/// classification in the window.
pub fn fix_term_track(
    rb: &Rulebook,
    snap: &mut Snapshot,
    id: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) {
    let from = window_start(rb, start);
    let mut seen: Vec<&str> = snap.classification(id, from).into_iter().collect();
    seen.extend(
        snap.classifications
            .iter()
            .filter(|c| c.designation == id && c.since > from && c.since <= start)
            .map(|c| c.track.as_str()),
    );
    let fixed = if seen.contains(&"smb") {
        Some("smb".to_owned())
    } else {
        snap.classification(id, start).map(str::to_owned)
    };
    let Some(fixed) = fixed else {
        return;
    };
    let after = snap.classification(id, end).map(str::to_owned);
    snap.classifications
        .retain(|c| !(c.designation == id && c.since >= start && c.since < end));
    snap.classifications.push(super::snapshot::Classification {
        designation: id.to_owned(),
        track: fixed,
        since: start,
    });
    if let Some(after) = after
        && !snap
            .classifications
            .iter()
            .any(|c| c.designation == id && c.since == end)
    {
        snap.classifications.push(super::snapshot::Classification {
            designation: id.to_owned(),
            track: after,
            since: end,
        });
    }
}

/// [`qualified_in_window`] for several designations in one sweep over everyone's change
/// points, in the order of `ids` (`None` for an id the rulebook does not have).
pub fn qualified_in_window_many(
    rb: &Rulebook,
    snap: &Snapshot,
    ids: &[&str],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Option<DateTime<Utc>>> {
    let (known_ids, known): (Vec<&str>, Vec<&Designation>) = ids
        .iter()
        .filter_map(|id| rb.designations.get(*id).map(|d| (*id, d)))
        .unzip();
    let mut found =
        super::designations_window::first_qualified_many(rb, snap, &known_ids, &known, from, to)
            .into_iter();
    ids.iter()
        .map(|id| {
            if rb.designations.contains_key(*id) {
                found.next().flatten()
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "designations_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "designations_2026_tests.rs"]
mod tests_2026;
