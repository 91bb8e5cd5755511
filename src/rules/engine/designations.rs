//! Solutions Partner designations (SPEC §9): the rulebook types of `[designations.ID]` and
//! the pure scorer.
//!
//! A designation has one or more tracks; a track has metric items and skilling items, each
//! worth points up to its `max_points`. The score at T is the best track's total; the
//! designation qualifies at T when that track reaches the program's
//! `designation_threshold` with no required item at 0 points. Every number explains itself:
//! each item carries its value, its points, its maximum and the people who count.
//!
//! Invariants the scorer keeps: points never go below 0 nor above `max_points`, and keep two
//! decimals (items and totals are rounded to the cent of a point, so 3 × 2.14 is 6.42, not
//! 6.420000000000001); a person counts once per item however many of its certifications they
//! hold; a skilling item scores 0 until each of its prerequisites has its `count` distinct
//! individuals (one person may count in several prerequisites and items). Scoring is
//! monotone — one more person, or one more code held, never lowers an item — which is what
//! lets [`qualified_in_window`] look only at the instants where something starts counting
//! (see [`super::window`]).

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::Serialize;

use super::counting::{day_before_window, latest_value, records_in_window};
use super::snapshot::Snapshot;
use super::{Holdings, start_of};
pub use crate::rules::parse::designations::{Designation, MetricItem, SkillingItem, TrackRef};
use crate::rules::parse::{Metric, Rulebook};

impl MetricItem {
    /// The points a value earns: proportional, capped at `max_points`, never below 0.
    pub fn points(&self, value: f64) -> f64 {
        let raw = match (self.full_at, self.points_per_unit) {
            (Some(full), _) if full > 0.0 => value / full * self.max_points,
            (_, Some(per)) => value * per,
            _ => 0.0,
        };
        round2(raw.clamp(0.0, self.max_points.max(0.0)))
    }

    /// The most this item can give.
    pub fn reachable(&self) -> f64 {
        if self.full_at.is_some() || self.points_per_unit.is_some_and(|p| p > 0.0) {
            self.max_points.max(0.0)
        } else {
            0.0
        }
    }
}

impl SkillingItem {
    /// The points `persons` counted people earn (prerequisites met), capped.
    pub fn points(&self, persons: usize) -> f64 {
        round2((persons as f64 * self.points_per_person).clamp(0.0, self.max_points.max(0.0)))
    }

    /// The people needed for the maximum, when points per person are positive.
    pub fn people_for_max(&self) -> Option<usize> {
        (self.points_per_person > 0.0).then(|| {
            (self.max_points / self.points_per_person - 1e-9)
                .ceil()
                .max(0.0) as usize
        })
    }
}

/// Two decimals, as the program shows scores.
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

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
    /// The index of the track that counts: the best qualifying one, else the highest total.
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

    /// Whether the designation qualifies at the instant.
    pub fn qualified(&self) -> bool {
        self.best_track().is_some_and(|t| t.qualified)
    }
}

/// One track's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackScore {
    /// The track's name.
    pub track: String,
    /// The sum of its items' points.
    pub total: f64,
    /// Total ≥ threshold and no required item at 0.
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

/// One item's score, with what stands behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemScore {
    /// The item's name.
    pub name: String,
    /// Metric or skilling.
    pub kind: ItemKind,
    /// The metric's value, or the number of people who count.
    pub value: f64,
    /// The points earned.
    pub points: f64,
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
    /// Metric: the metric and scope (empty for skilling).
    pub metric: Option<(Metric, Option<String>)>,
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

fn score_one(
    rb: &Rulebook,
    snap: &Snapshot,
    holdings: &Holdings<'_>,
    id: &str,
    d: &Designation,
    at: DateTime<Utc>,
    names: bool,
) -> DesignationScore {
    let threshold = rb.program.designation_threshold;
    let tracks: Vec<TrackScore> = d
        .all_tracks()
        .into_iter()
        .map(|t| {
            let mut items = Vec::new();
            for m in t.metrics {
                let value = metric_value(rb, snap, m, at);
                items.push(ItemScore {
                    name: m.label().to_owned(),
                    kind: ItemKind::Metric,
                    value,
                    points: m.points(value),
                    max_points: m.max_points,
                    required: m.required,
                    people: Vec::new(),
                    user_ids: Vec::new(),
                    unmet_prerequisites: Vec::new(),
                    metric: Some((m.metric, m.scope.clone())),
                });
            }
            for s in t.skilling {
                items.push(skilling(holdings, s, names));
            }
            let total = round2(items.iter().map(|i| i.points).sum());
            let qualified =
                total >= threshold && items.iter().all(|i| !i.required || i.points > 0.0);
            TrackScore {
                track: t.name.to_owned(),
                total,
                qualified,
                items,
            }
        })
        .collect();
    let best = tracks
        .iter()
        .enumerate()
        .max_by(|(ia, a), (ib, b)| {
            (a.qualified, a.total)
                .partial_cmp(&(b.qualified, b.total))
                .unwrap_or(std::cmp::Ordering::Equal)
                // The first of equal tracks wins.
                .then(ib.cmp(ia))
        })
        .map_or(0, |(i, _)| i);
    DesignationScore {
        id: id.to_owned(),
        name: d.name.clone(),
        area: d.area.clone(),
        threshold,
        best,
        tracks,
    }
}

fn skilling(holdings: &Holdings<'_>, s: &SkillingItem, names: bool) -> ItemScore {
    let mut unmet = Vec::new();
    for p in &s.prerequisites {
        let have = holdings.members(&p.all_of, &p.any_of).len();
        if have < p.count as usize {
            unmet.push(format!(
                "{} {} with {}: have {have}",
                p.count,
                if p.count == 1 { "person" } else { "people" },
                codes_text(&p.all_of, &p.any_of)
            ));
        }
    }
    let who = if names {
        holdings.qualifying(&s.people.all_of, &s.people.any_of)
    } else {
        holdings.members(&s.people.all_of, &s.people.any_of)
    };
    let points = if unmet.is_empty() {
        s.points(who.len())
    } else {
        0.0
    };
    ItemScore {
        name: s.name.clone(),
        kind: ItemKind::Skilling,
        value: who.len() as f64,
        points,
        max_points: s.max_points,
        required: s.required,
        people: if names {
            who.iter()
                .map(|&i| holdings.username(i).to_owned())
                .collect()
        } else {
            Vec::new()
        },
        user_ids: if names {
            who.iter().map(|&i| holdings.user_id(i)).collect()
        } else {
            Vec::new()
        },
        unmet_prerequisites: unmet,
        metric: None,
    }
}

/// "AZ-104", "AZ-700 or AZ-800 + AZ-801", "X + (A or B)".
pub fn codes_text(all_of: &[String], any_of: &[Vec<String>]) -> String {
    let alts: Vec<String> = any_of.iter().map(|l| l.join(" + ")).collect();
    match (all_of.is_empty(), alts.len()) {
        (true, _) => alts.join(" or "),
        (false, 0) => all_of.join(" + "),
        (false, 1) => format!("{} + {}", all_of.join(" + "), alts[0]),
        (false, _) => format!("{} + ({})", all_of.join(" + "), alts.join(" or ")),
    }
}

/// The value of a metric item at `at`: the latest record of the metric (and scope, ignoring
/// ASCII case) dated on or before T's day within `metric_window_days`; no record = 0. Two
/// records of one day: the larger.
pub fn metric_value(rb: &Rulebook, snap: &Snapshot, item: &MetricItem, at: DateTime<Utc>) -> f64 {
    let today = at.date_naive();
    let before = day_before_window(today, rb.program.metric_window_days);
    latest_value(records_in_window(
        snap,
        item.metric,
        item.scope.as_deref(),
        before,
        today,
    ))
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
    super::designations_window::first_qualified(rb, snap, d, from, to)
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
    let known: Vec<&Designation> = ids
        .iter()
        .filter_map(|id| rb.designations.get(*id))
        .collect();
    let mut found =
        super::designations_window::first_qualified_many(rb, snap, &known, from, to).into_iter();
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
