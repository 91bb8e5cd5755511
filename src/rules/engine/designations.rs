//! Solutions Partner designations (SPEC §9): the rulebook types of `[designations.ID]` and
//! the pure scorer.
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

use super::counting::day_before_window;
use super::points::{Exact, display, exact, int, linear, per_unit, sum, zero};
use super::snapshot::{PerformanceRecord, Snapshot};
use super::{Holdings, start_of};
pub use crate::rules::parse::designations::{
    Association, Designation, MetricInput, MetricItem, SkillingItem, TrackChoice, TrackRef,
};
use crate::rules::parse::{Metric, RequiredPoints, Rulebook};

impl MetricItem {
    /// The list of `best_of`/`sum_of` inputs (empty for a plain item).
    fn input_list(&self) -> &[MetricInput] {
        if self.best_of.is_empty() {
            &self.sum_of
        } else {
            &self.best_of
        }
    }

    /// The points input `k` earns with `value`, capped at the item's maximum.
    fn input_points(&self, k: usize, value: f64) -> Exact {
        let max = exact(self.max_points);
        if let Some(input) = self.input_list().get(k) {
            return linear(max, exact(input.full_at), exact(value));
        }
        match (self.full_at, self.points_per_unit) {
            (Some(full), _) => linear(max, exact(full), exact(value)),
            (None, Some(per)) => per_unit(max, exact(per), exact(value)),
            _ => zero(),
        }
    }

    /// The exact points of the item's input values (in the order of [`MetricItem::inputs`]):
    /// the best option, or the capped sum, or the one input; never below 0.
    pub fn points_exact(&self, values: &[f64]) -> Exact {
        let each = values
            .iter()
            .enumerate()
            .map(|(k, &v)| self.input_points(k, v));
        if !self.sum_of.is_empty() {
            sum(each).min(exact(self.max_points).max(zero()))
        } else {
            each.max().unwrap_or_else(zero)
        }
    }

    /// The points of a single-input item's value, rounded for display.
    pub fn points(&self, value: f64) -> f64 {
        display(self.points_exact(&[value]))
    }

    /// The most this item can give.
    pub fn reachable(&self) -> f64 {
        display(self.reachable_exact())
    }

    /// The most this item can give, exactly.
    pub fn reachable_exact(&self) -> Exact {
        let scores = !self.input_list().is_empty()
            || self.full_at.is_some()
            || self.points_per_unit.is_some_and(|p| p > 0.0);
        if scores {
            exact(self.max_points).max(zero())
        } else {
            zero()
        }
    }
}

impl SkillingItem {
    /// The points `persons` counted people earn once every gate is met, capped; without the
    /// gates' own points.
    fn people_points(&self, persons: usize) -> Exact {
        let max = exact(self.max_points);
        let n = int(persons as i64);
        match (self.full_at, self.points_per_person) {
            (Some(full), _) => linear(max, exact(full), n),
            (None, Some(per)) => per_unit(max, exact(per), n),
            _ => zero(),
        }
    }

    /// The item's exact points: each met gate's own points, plus the persons' points once
    /// every gate is met, capped at `max_points`. `gate_have(j)` is how many people fill
    /// gate `j`.
    pub fn points_exact(&self, gate_have: impl Fn(usize) -> usize, persons: usize) -> Exact {
        let mut total = zero();
        let mut open = true;
        for (j, g) in self.prerequisites.iter().enumerate() {
            if gate_have(j) >= g.count as usize {
                total += exact(g.points.unwrap_or(0.0)).max(zero());
            } else {
                open = false;
            }
        }
        if open {
            total += self.people_points(persons);
        }
        total.min(exact(self.max_points).max(zero()))
    }

    /// The points `persons` counted people earn with every gate met, rounded for display.
    pub fn points(&self, persons: usize) -> f64 {
        display(self.points_exact(|_| usize::MAX, persons))
    }

    /// Whether counted persons earn points (a positive rate).
    pub fn scores_people(&self) -> bool {
        self.full_at.is_some_and(|f| f > 0.0) || self.points_per_person.is_some_and(|p| p > 0.0)
    }

    /// The people needed for the maximum (gates met), when persons earn points.
    pub fn people_for_max(&self) -> Option<usize> {
        if !self.scores_people() {
            return None;
        }
        let max = self.points_exact(|_| usize::MAX, usize::MAX >> 8);
        // Points grow with people until the cap: a binary search for the first count at max.
        let (mut lo, mut hi) = (0usize, 1usize);
        while self.points_exact(|_| usize::MAX, hi) < max {
            hi *= 2;
            if hi > crate::rules::parse::MAX_COUNT as usize * 4 {
                return Some(hi);
            }
        }
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.points_exact(|_| usize::MAX, mid) < max {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Some(lo)
    }
}

/// Whether a required item's points are enough for its track to qualify.
pub fn enough(rule: RequiredPoints, p: Exact) -> bool {
    match rule {
        RequiredPoints::AboveZero => p > zero(),
        RequiredPoints::AtLeastOne => p >= int(1),
    }
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

fn metric_item(
    rb: &Rulebook,
    snap: &Snapshot,
    m: &MetricItem,
    track: Option<&str>,
    at: DateTime<Utc>,
) -> ItemScore {
    let inputs = m.inputs();
    let values: Vec<f64> = inputs
        .iter()
        .map(|&(metric, assoc)| input_value(rb, snap, m, metric, assoc, track, at))
        .collect();
    let points = m.points_exact(&values);
    let scored: Vec<InputScore> = if inputs.len() > 1 || !m.best_of.is_empty() {
        inputs
            .iter()
            .zip(&values)
            .enumerate()
            .map(|(k, (&(metric, association), &value))| InputScore {
                metric,
                association,
                value,
                points: display(m.input_points(k, value)),
            })
            .collect()
    } else {
        Vec::new()
    };
    // The value shown: the best option's (the first of equals), else the first input's.
    let shown = if m.best_of.is_empty() {
        values.first().copied().unwrap_or(0.0)
    } else {
        (0..values.len())
            .max_by(|&a, &b| {
                m.input_points(a, values[a])
                    .cmp(&m.input_points(b, values[b]))
                    .then(b.cmp(&a))
            })
            .map_or(0.0, |k| values[k])
    };
    ItemScore {
        name: m.label().to_owned(),
        kind: ItemKind::Metric,
        value: shown,
        points: display(points),
        exact: points,
        max_points: m.max_points,
        required: m.required,
        people: Vec::new(),
        user_ids: Vec::new(),
        unmet_prerequisites: Vec::new(),
        gates: Vec::new(),
        metric: Some((m.metric, m.scope.clone())),
        inputs: scored,
    }
}

/// `all_of`/`any_of` without the codes not eligible for the designation on `day`: an
/// alternative naming one is dropped; `None` when `all_of` names one (nobody qualifies).
pub fn eligible_codes(
    d: &Designation,
    day: NaiveDate,
    all_of: &[String],
    any_of: &[Vec<String>],
) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    if d.eligibility.is_empty() {
        return Some((all_of.to_vec(), any_of.to_vec()));
    }
    let ok = |c: &String| d.eligible_on(c, day);
    if !all_of.iter().all(ok) {
        return None;
    }
    let any: Vec<Vec<String>> = any_of
        .iter()
        .filter(|l| l.iter().all(ok))
        .cloned()
        .collect();
    if !any_of.is_empty() && any.is_empty() {
        return None;
    }
    Some((all_of.to_vec(), any))
}

fn members(
    holdings: &Holdings<'_>,
    d: &Designation,
    day: NaiveDate,
    all_of: &[String],
    any_of: &[Vec<String>],
    names: bool,
) -> Vec<u32> {
    match eligible_codes(d, day, all_of, any_of) {
        None => Vec::new(),
        Some((all, any)) if names => holdings.qualifying(&all, &any),
        Some((all, any)) => holdings.members(&all, &any),
    }
}

fn skilling(
    holdings: &Holdings<'_>,
    d: &Designation,
    s: &SkillingItem,
    day: NaiveDate,
    names: bool,
) -> ItemScore {
    let mut unmet = Vec::new();
    let mut gates = Vec::with_capacity(s.prerequisites.len());
    for p in &s.prerequisites {
        let who = members(holdings, d, day, &p.all_of, &p.any_of, names);
        let have = who.len();
        let codes = codes_text(&p.all_of, &p.any_of);
        let titles = titles_text(holdings.rulebook(), &p.all_of, &p.any_of);
        if have < p.count as usize {
            unmet.push(format!(
                "{} {} with {titles}: have {have}",
                p.count,
                if p.count == 1 { "person" } else { "people" },
            ));
        }
        gates.push(GateScore {
            need: p.count,
            codes,
            have,
            points: display(exact(p.points.unwrap_or(0.0)).max(zero())),
            people: if names {
                who.iter()
                    .map(|&i| holdings.username(i).to_owned())
                    .collect()
            } else {
                Vec::new()
            },
        });
    }
    let who = members(holdings, d, day, &s.people.all_of, &s.people.any_of, names);
    let points = s.points_exact(|j| gates[j].have, who.len());
    ItemScore {
        name: s.name.clone(),
        kind: ItemKind::Skilling,
        value: who.len() as f64,
        points: display(points),
        exact: points,
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
        gates,
        metric: None,
        inputs: Vec::new(),
    }
}

/// [`codes_text`] with each code's catalogue title: "Azure Administrator Associate",
/// "Azure Network Engineer Associate or Windows Server Hybrid Administrator Associate".
pub fn titles_text(rb: &Rulebook, all_of: &[String], any_of: &[Vec<String>]) -> String {
    let title = |c: &String| {
        rb.catalog_entry(c)
            .map_or_else(|| c.clone(), |e| e.title.clone())
    };
    let all: Vec<String> = all_of.iter().map(title).collect();
    let any: Vec<Vec<String>> = any_of
        .iter()
        .map(|l| l.iter().map(title).collect())
        .collect();
    codes_text(&all, &any)
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

/// The value of one input of a metric item at `at`: the latest record of the metric (and
/// scope, ignoring ASCII case; and track and association, exactly as given: `None` reads
/// the records without one) dated on or before T's day within `metric_window_days`; no
/// record = 0. Two records of one day: the larger.
pub fn input_value(
    rb: &Rulebook,
    snap: &Snapshot,
    item: &MetricItem,
    metric: Metric,
    association: Option<Association>,
    track: Option<&str>,
    at: DateTime<Utc>,
) -> f64 {
    let today = at.date_naive();
    let before = day_before_window(today, rb.program.metric_window_days);
    let scope = item.scope.as_deref();
    snap.performance
        .iter()
        .filter(|r| {
            r.metric == metric
                && r.date > before
                && r.date <= today
                && scope.is_none_or(|s| r.scope.eq_ignore_ascii_case(s))
                && r.association == association
                && track_matches(r, track)
        })
        .max_by(|a, b| a.date.cmp(&b.date).then(a.value.total_cmp(&b.value)))
        .map_or(0.0, |r| r.value)
}

fn track_matches(r: &PerformanceRecord, track: Option<&str>) -> bool {
    match (r.track.as_deref(), track) {
        (None, None) => true,
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// The values of every input of a metric item at `at` (see [`input_value`]), on `track`
/// when the designation records figures per track.
pub fn item_values(
    rb: &Rulebook,
    snap: &Snapshot,
    item: &MetricItem,
    track: Option<&str>,
    at: DateTime<Utc>,
) -> Vec<f64> {
    item.inputs()
        .into_iter()
        .map(|(metric, assoc)| input_value(rb, snap, item, metric, assoc, track, at))
        .collect()
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
