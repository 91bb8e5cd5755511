//! The designations' item scoring (SPEC §9): what one metric item or one skilling item of a
//! track earns at an instant, and the inputs behind it: a metric item's values (the best of
//! several options or a capped sum, on its track when the designation records figures per
//! track), a skilling item's gates and the people who count through certifications eligible
//! for the designation. [`super::designations`] assembles these items into tracks and picks
//! the track that counts.
//!
//! Invariants: points are exact ([`super::points`]), never below 0 nor above the item's
//! `max_points`, and rounded only for display; a person counts once per item however many of
//! its certifications they hold; a skilling item's people score nothing until each gate has
//! its `count` distinct individuals, while a met gate earns its own `points`.

use chrono::{DateTime, NaiveDate, Utc};

use super::Holdings;
use super::counting::day_before_window;
use super::designations::{GateScore, InputScore, ItemKind, ItemScore};
use super::points::{Exact, display, exact, int, linear, per_unit, sum, zero};
use super::snapshot::{PerformanceRecord, Snapshot};
use crate::rules::parse::designations::{
    Association, Designation, MetricInput, MetricItem, SkillingItem,
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

pub(super) fn metric_item(
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

pub(super) fn skilling(
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
