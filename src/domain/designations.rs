//! Solutions Partner designations (SPEC §9): scores, gaps, what-if, enrolment, renewal,
//! alerts and the designations' part of the cron check.
//!
//! Invariants:
//! - **Scores come from the pure scorer** ([`crate::rules::designations`]) over the same
//!   snapshot the competencies use; nothing here computes points.
//! - **One Solutions Partner term.** The first enrolment pays `fees.designation` and sets the
//!   anniversary (term_months later); designations enrolled while that term is active share
//!   its anniversary at no fee. A renewal buys the term from the anniversary on, once, for
//!   every enrolled designation that qualified in the anniversary's window; the others lapse
//!   at the end of grace. Enrolment and renewal need qualification at some instant of the
//!   window, found exactly (change points, never sampled days).
//! - **Alerts.** An evaluation finding an enrolled designation not qualifying records one
//!   open alert (a unique index keeps it to one) naming the items that fell against the
//!   last instant it qualified, and the cause when known; it closes when the designation
//!   qualifies again or is no longer enrolled. Every change that can lose points evaluates
//!   (through [`crate::domain::membership::reevaluate`]), and so does `membership check`.
//!
//! Domain code only: plain data in, plain data out, no printing; time from the [`Actor`].

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use serde::Serialize;

use crate::domain::accounts::{self, Actor};
use crate::domain::membership::{Dates, State, add_term};
use crate::domain::records;
use crate::error::{bad_input, not_found, refused};
use crate::rules::designations::{
    DesignationScore, ItemKind, ItemScore, TrackScore, codes_text, qualified_in_window,
    qualified_in_window_many, round2, score, score_with, window_start,
};
use crate::rules::engine::start_of;
use crate::rules::snapshot::{Achievement, PerformanceRecord, Snapshot};
use crate::rules::window::change_points;
use crate::rules::{Metric, Rulebook};
use crate::store::{Db, DesignationAlertRow, EnrolmentRow, NewEnrolment, Org};

/// The text of every designation renewal alert (SPEC §9).
pub const ALERT_TEXT: &str =
    "A recent change has put your Solutions Partner designation renewal at risk";

/// A designation's state at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DState {
    /// 0 points.
    NotStarted,
    /// Some points, not qualified in the window.
    InProgress,
    /// Qualified in the window, not enrolled.
    Qualified,
    /// Enrolled, before the anniversary.
    Enrolled,
    /// From the anniversary until grace ends.
    RenewalDue,
    /// Enrolled once, not renewed.
    Lapsed,
}

impl DState {
    /// The name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            DState::NotStarted => "not-started",
            DState::InProgress => "in-progress",
            DState::Qualified => "qualified",
            DState::Enrolled => "enrolled",
            DState::RenewalDue => "renewal-due",
            DState::Lapsed => "lapsed",
        }
    }

    /// Enrolled or renewal-due.
    pub fn is_held(self) -> bool {
        matches!(self, DState::Enrolled | DState::RenewalDue)
    }
}

/// One designation as `designations list` shows it.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The score now.
    pub score: DesignationScore,
    /// The state now.
    pub state: DState,
    /// The first instant it qualified in the current window (computed when not held).
    pub qualified_since: Option<DateTime<Utc>>,
    /// The latest enrolment.
    pub enrolment: Option<EnrolmentRow>,
}

struct Loaded {
    rb: Rulebook,
    snap: Snapshot,
}

fn load(db: &Db, org: &Org) -> Result<Loaded> {
    Ok(Loaded {
        rb: records::rulebook(db, org)?,
        snap: db.snapshot(org.id, org.market)?,
    })
}

fn no_designations(org: &Org) -> anyhow::Error {
    refused(format!(
        "the rulebook of {} has no designations: import one that has, e.g. `competency rules \
         import solutions-partner`",
        org.name
    ))
}

/// The latest enrolment row per designation.
fn latest(db: &Db, org: &Org) -> Result<BTreeMap<String, EnrolmentRow>> {
    let mut out = BTreeMap::new();
    for e in db.enrolments(org.id)? {
        out.insert(e.designation.clone(), e);
    }
    Ok(out)
}

fn held_state(rb: &Rulebook, e: &EnrolmentRow, at: DateTime<Utc>) -> DState {
    match Dates::new(e.anniversary, &rb.program).state_at(at) {
        State::Active => DState::Enrolled,
        State::RenewalDue => DState::RenewalDue,
        _ => DState::Lapsed,
    }
}

/// Every designation with its score and state at `at` (who counts is only counted).
pub fn list(db: &Db, org: &Org, at: DateTime<Utc>) -> Result<Vec<Listed>> {
    list_with(db, org, at, false)
}

/// [`list`], naming who counts when `names` (the report needs them for its bus factor).
pub fn list_with(db: &Db, org: &Org, at: DateTime<Utc>, names: bool) -> Result<Vec<Listed>> {
    let l = load(db, org)?;
    if l.rb.designations.is_empty() {
        return Err(no_designations(org));
    }
    let enrolled = latest(db, org)?;
    let from = window_start(&l.rb, at);
    let scores = score_with(&l.rb, &l.snap, at, names);
    let held_now = |id: &str| {
        enrolled
            .get(id)
            .map(|e| held_state(&l.rb, e, at))
            .filter(|st| st.is_held())
    };
    // The window of every designation not held, in one sweep.
    let unheld: Vec<&str> =
        l.rb.designations
            .keys()
            .map(String::as_str)
            .filter(|id| held_now(id).is_none())
            .collect();
    let since: BTreeMap<&str, Option<DateTime<Utc>>> = unheld
        .iter()
        .copied()
        .zip(qualified_in_window_many(&l.rb, &l.snap, &unheld, from, at))
        .collect();
    Ok(scores
        .into_iter()
        .map(|s| {
            let enrolment = enrolled.get(&s.id).cloned();
            let held = held_now(&s.id);
            let qualified_since = since.get(s.id.as_str()).copied().flatten();
            let state = match (held, &enrolment) {
                (Some(st), _) => st,
                _ if qualified_since.is_some() => DState::Qualified,
                (None, Some(_)) => DState::Lapsed,
                _ if s.score() <= 0.0 => DState::NotStarted,
                _ => DState::InProgress,
            };
            Listed {
                score: s,
                state,
                qualified_since,
                enrolment,
            }
        })
        .collect())
}

/// The scores at `at`: every designation, or the one named.
pub fn scores(
    db: &Db,
    org: &Org,
    at: DateTime<Utc>,
    id: Option<&str>,
) -> Result<Vec<DesignationScore>> {
    let l = load(db, org)?;
    if l.rb.designations.is_empty() {
        return Err(no_designations(org));
    }
    if let Some(id) = id {
        known(&l.rb, id)?;
    }
    // People are always named: `score`'s JSON gives `people` one type (SPEC §9). Only the
    // commands that need counts alone (list, gaps, enrol, check) skip the names.
    Ok(score_with(&l.rb, &l.snap, at, true)
        .into_iter()
        .filter(|s| id.is_none_or(|id| s.id == id))
        .collect())
}

fn known(rb: &Rulebook, id: &str) -> Result<()> {
    if rb.designations.contains_key(id) {
        return Ok(());
    }
    Err(not_found(format!(
        "no designation {id:?}; the rulebook has: {}",
        rb.designations
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

// ---------------------------------------------------------------------------------------
// Gaps
// ---------------------------------------------------------------------------------------

/// What a designation not qualifying needs, on its cheapest track.
#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    /// The designation id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The track the additions are for.
    pub track: String,
    /// The score now on that track.
    pub score: f64,
    /// The score after the additions.
    pub after: f64,
    /// The additions, people first, each with its point gain.
    pub missing: Vec<String>,
}

/// For each designation not qualifying at `at`, the cheapest additions that reach the
/// threshold with every required item above 0: people first (prerequisites, then the items
/// that give the most points per person), then metric shortfalls.
pub fn gaps(db: &Db, org: &Org, at: DateTime<Utc>) -> Result<Vec<Gap>> {
    let l = load(db, org)?;
    if l.rb.designations.is_empty() {
        return Err(no_designations(org));
    }
    let threshold = l.rb.program.designation_threshold;
    let mut out = Vec::new();
    for s in score_with(&l.rb, &l.snap, at, false) {
        if s.qualified() {
            continue;
        }
        let d = &l.rb.designations[&s.id];
        let best = d
            .all_tracks()
            .iter()
            .zip(&s.tracks)
            .map(|(t, ts)| track_gap(t, ts, threshold))
            .min_by_key(|g| (g.people, g.metric_steps, g.unreachable));
        if let Some(g) = best {
            out.push(Gap {
                id: s.id.clone(),
                name: s.name.clone(),
                track: g.track,
                score: g.score,
                after: g.after,
                missing: g.missing,
            });
        }
    }
    Ok(out)
}

struct TrackGap {
    track: String,
    score: f64,
    after: f64,
    people: usize,
    metric_steps: usize,
    unreachable: bool,
    missing: Vec<String>,
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "person" } else { "people" }
}

fn track_gap(
    t: &crate::rules::designations::TrackRef<'_>,
    ts: &TrackScore,
    threshold: f64,
) -> TrackGap {
    let mut missing = Vec::new();
    let mut people = 0;
    // Current points per item, in the order of ts.items: metrics then skilling.
    let mut points: Vec<f64> = ts.items.iter().map(|i| i.points).collect();
    let nm = t.metrics.len();
    // Skilling: the fewest people that bring the most points still needed, exactly.
    let opts: Vec<SkillOpt<'_>> = t
        .skilling
        .iter()
        .enumerate()
        .map(|(k, item)| {
            let it = &ts.items[nm + k];
            let have = it.value.max(0.0) as usize;
            let pre_cost = item
                .prerequisites
                .iter()
                .zip(&it.unmet_prerequisites)
                .map(|(p, text)| (p.count as usize).saturating_sub(have_in(text)))
                .sum();
            SkillOpt {
                item,
                have,
                locked: !it.unmet_prerequisites.is_empty(),
                pre_cost,
                max_add: item.people_for_max().map_or(0, |m| m.saturating_sub(have)),
            }
        })
        .collect();
    let metric_points: f64 = points[..nm].iter().sum();
    let plan = plan_people(&opts, metric_points, threshold);
    for (k, choice) in plan.iter().enumerate() {
        let Some(n) = *choice else { continue };
        let item = &t.skilling[k];
        if opts[k].locked {
            for (p, text) in item
                .prerequisites
                .iter()
                .zip(&ts.items[nm + k].unmet_prerequisites)
            {
                let short = (p.count as usize).saturating_sub(have_in(text));
                if short == 0 {
                    continue;
                }
                people += short;
                missing.push(format!(
                    "{short} more {} with {} (prerequisite of {}): unlocks its points",
                    plural(short),
                    codes_text(&p.all_of, &p.any_of),
                    item.name
                ));
            }
        }
        points[nm + k] = item.points(opts[k].have + n);
        if n > 0 {
            people += n;
            let gain = round2(points[nm + k] - ts.items[nm + k].points);
            let p = &item.people;
            missing.push(format!(
                "{n} more {} with {}: +{} points ({})",
                plural(n),
                codes_text(&p.all_of, &p.any_of),
                crate::output::number(gain),
                item.name
            ));
        }
    }
    let total = |points: &[f64]| round2(points.iter().sum());
    // 3. Metrics: required items above 0, then the shortfall, largest headroom first.
    let mut metric_steps = 0;
    let mut target: Vec<Option<f64>> = vec![None; nm];
    for (j, m) in t.metrics.iter().enumerate() {
        if m.required && points[j] <= 0.0 && m.reachable() > 0.0 {
            let v = value_for(m, 0.01);
            target[j] = Some(v);
            points[j] = m.points(v);
        }
    }
    let mut order: Vec<usize> = (0..nm).collect();
    order.sort_by(|&a, &b| {
        (t.metrics[b].reachable() - points[b]).total_cmp(&(t.metrics[a].reachable() - points[a]))
    });
    for j in order {
        let short = threshold - total(&points);
        if short <= 0.0 {
            break;
        }
        let m = &t.metrics[j];
        let room = m.reachable() - points[j];
        if room <= 0.0 {
            continue;
        }
        let want = (points[j] + short.min(room)).min(m.reachable());
        let v = value_for(m, want);
        target[j] = Some(v);
        points[j] = m.points(v);
    }
    for (j, v) in target.iter().enumerate() {
        if let Some(v) = v {
            metric_steps += 1;
            let m = &t.metrics[j];
            let scope = m
                .scope
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            missing.push(format!(
                "{}{scope} from {} to {}: +{} points",
                m.metric.as_str(),
                crate::output::number(ts.items[j].value),
                crate::output::number(*v),
                crate::output::number(round2(points[j] - ts.items[j].points))
            ));
        }
    }
    let after = total(&points);
    TrackGap {
        track: ts.track.clone(),
        score: ts.total,
        after,
        people,
        metric_steps,
        unreachable: after < threshold,
        missing,
    }
}

/// The number after "have " in an unmet prerequisite's text.
fn have_in(text: &str) -> usize {
    text.rsplit("have ")
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// One skilling item as the people planner sees it.
#[derive(Debug, Clone)]
pub(crate) struct SkillOpt<'a> {
    /// The item.
    pub item: &'a crate::rules::designations::SkillingItem,
    /// The people who count now.
    pub have: usize,
    /// Whether a prerequisite is short (the item scores 0 until it is met).
    pub locked: bool,
    /// The people the short prerequisites need.
    pub pre_cost: usize,
    /// The most people worth adding (beyond, the cap gives nothing).
    pub max_add: usize,
}

impl SkillOpt<'_> {
    /// (people, points) of adding `n` people (unlocking first when locked).
    fn option(&self, n: usize) -> (usize, f64) {
        (
            n + if self.locked { self.pre_cost } else { 0 },
            self.item.points(self.have + n),
        )
    }
}

/// The ranking of a people plan: a required item left at 0 last, then the fewest points
/// still missing after it (metrics must bring those), then the fewest people.
fn plan_key(
    opts: &[SkillOpt<'_>],
    plan: &[Option<usize>],
    metric_points: f64,
    threshold: f64,
) -> (bool, i64, usize) {
    let mut people = 0;
    let mut total = metric_points;
    let mut blocked = false;
    for (o, c) in opts.iter().zip(plan) {
        let (n, p) = match c {
            Some(n) => o.option(*n),
            None => (0, if o.locked { 0.0 } else { o.item.points(o.have) }),
        };
        people += n;
        total += p;
        blocked |= o.item.required && o.item.points_per_person > 0.0 && p <= 0.0;
    }
    let short = (threshold - round2(total)).max(0.0);
    (blocked, (short * 100.0).round() as i64, people)
}

/// A partial people plan: (required items at 0, points, choice per item so far).
type Partial = (usize, f64, Vec<Option<usize>>);

/// The people to add per skilling item (`None`: none, and a locked item stays locked;
/// `Some(n)`: its short prerequisites and `n` more people), exactly minimising
/// [`plan_key`]: a knapsack over people, where each item contributes one of its options.
pub(crate) fn plan_people(
    opts: &[SkillOpt<'_>],
    metric_points: f64,
    threshold: f64,
) -> Vec<Option<usize>> {
    // best[p]: for exactly p people, per (blocked count) the most points — kept as the plan
    // with the best key among those of p people.
    let cap: usize = opts.iter().map(|o| o.max_add + o.pre_cost).sum();
    // State: people used -> best partial plan (fewest blocked, then most points).
    let mut best: Vec<Option<Partial>> = vec![None; cap + 1];
    best[0] = Some((0, 0.0, Vec::new()));
    for o in opts {
        let mut next: Vec<Option<Partial>> = vec![None; cap + 1];
        let mut choices: Vec<(Option<usize>, usize, f64)> =
            vec![(None, 0, if o.locked { 0.0 } else { o.item.points(o.have) })];
        for n in 0..=o.max_add {
            let (c, p) = o.option(n);
            choices.push((Some(n), c, p));
        }
        for (used, cell) in best.iter().enumerate() {
            let Some((blocked, pts, plan)) = cell else {
                continue;
            };
            for &(choice, cost, p) in &choices {
                let u = used + cost;
                if u > cap {
                    continue;
                }
                let b = blocked
                    + usize::from(o.item.required && o.item.points_per_person > 0.0 && p <= 0.0);
                let better = next[u]
                    .as_ref()
                    .is_none_or(|(nb, np, _)| (b, -(pts + p)) < (*nb, -*np));
                if better {
                    let mut plan = plan.clone();
                    plan.push(choice);
                    next[u] = Some((b, pts + p, plan));
                }
            }
        }
        best = next;
    }
    best.into_iter()
        .flatten()
        .map(|(_, _, plan)| plan)
        .min_by_key(|plan| plan_key(opts, plan, metric_points, threshold))
        .unwrap_or_else(|| vec![None; opts.len()])
}

/// The smallest whole value (or, with `full_at`, a value to two decimals) earning `points`.
fn value_for(m: &crate::rules::designations::MetricItem, points: f64) -> f64 {
    let raw = match (m.full_at, m.points_per_unit) {
        (Some(full), _) if m.max_points > 0.0 => points / m.max_points * full,
        (_, Some(per)) if per > 0.0 => points / per,
        _ => 0.0,
    };
    let mut v = raw.ceil().max(1.0);
    // Whole units unless a fraction is how the metric is counted (growth in per cent).
    if m.points(v) < points.min(m.reachable()) - 1e-9 {
        v += 1.0;
    }
    v
}

// ---------------------------------------------------------------------------------------
// What-if
// ---------------------------------------------------------------------------------------

/// One designation before and after supposed changes.
#[derive(Debug, Clone)]
pub struct WhatIf {
    /// The score now.
    pub before: DesignationScore,
    /// The score with the changes.
    pub after: DesignationScore,
}

/// Scores every designation as if these users had left now, these achievements (MSA:CODE)
/// had been earned and counted now, and these metrics (METRIC[:SCOPE]=VALUE) had these
/// values now. Reads only.
pub fn what_if(
    db: &Db,
    org: &Org,
    at: DateTime<Utc>,
    remove_users: &[String],
    add_achievements: &[String],
    set: &[String],
) -> Result<Vec<WhatIf>> {
    if remove_users.is_empty() && add_achievements.is_empty() && set.is_empty() {
        return Err(bad_input(
            "say what to suppose: --remove-user USER, --add-achievement MSA:CODE and/or --set \
             METRIC[:SCOPE]=VALUE (each repeatable)",
        ));
    }
    let l = load(db, org)?;
    if l.rb.designations.is_empty() {
        return Err(no_designations(org));
    }
    let mut snap = l.snap.clone();
    let mut ids = Vec::new();
    for key in remove_users {
        ids.push(accounts::find(db, org, key)?.id);
    }
    snap.without_users(&ids, at);
    let delay = TimeDelta::hours(i64::from(l.rb.program.progress_delay_hours));
    for spec in add_achievements {
        let (msa, code) = spec
            .split_once(':')
            .ok_or_else(|| bad_input(format!("--add-achievement {spec:?}: expected MSA:CODE")))?;
        let msa = msa.trim().to_lowercase();
        let code = code.trim();
        if l.rb.catalog_entry(code).is_none() {
            return Err(bad_input(format!(
                "--add-achievement: {code:?} is not in the catalog (nearest: {})",
                l.rb.nearest_codes(code, 3).join(", ")
            )));
        }
        let person = snap
            .people
            .iter_mut()
            .find(|p| p.msa == msa && crate::rules::engine::association_active(p, at))
            .ok_or_else(|| {
                bad_input(format!(
                    "--add-achievement: {msa} is not linked to an active account of {}",
                    org.name
                ))
            })?;
        // Supposed to count now: earned and associated a full delay ago.
        let earned = (at - delay - TimeDelta::days(1)).date_naive();
        person.associated = person.associated.min(at - delay);
        person.achievements.push(Achievement {
            code: code.into(),
            earned,
            expires: None,
            removed: None,
        });
    }
    for spec in set {
        let (key, value) = spec
            .split_once('=')
            .ok_or_else(|| bad_input(format!("--set {spec:?}: expected METRIC[:SCOPE]=VALUE")))?;
        let (metric, scope) = key.split_once(':').unwrap_or((key, ""));
        let metric = Metric::parse(metric)
            .ok_or_else(|| bad_input(format!("--set: {metric:?} is not a metric")))?;
        let value: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| bad_input(format!("--set: {value:?} is not a number")))?;
        let today = at.date_naive();
        snap.performance.retain(|r| {
            !(r.metric == metric && r.scope.eq_ignore_ascii_case(scope.trim()) && r.date >= today)
        });
        snap.performance.push(PerformanceRecord {
            metric,
            scope: scope.trim().to_lowercase(),
            value,
            date: today,
        });
    }
    let after = score(&l.rb, &snap, at);
    Ok(score(&l.rb, &l.snap, at)
        .into_iter()
        .zip(after)
        .map(|(before, after)| WhatIf { before, after })
        .collect())
}

/// The items of the counting track that changed, e.g.
/// "intermediate: 3 people, 12 of 20 points, was 16".
pub fn fell(before: &DesignationScore, after: &DesignationScore) -> Vec<String> {
    let (Some(b), Some(a)) = (before.best_track(), after.tracks.get(before.best)) else {
        return Vec::new();
    };
    b.items
        .iter()
        .zip(&a.items)
        .filter(|(x, y)| x.points != y.points)
        .map(|(x, y)| format!("{}, was {}", item_text(y), crate::output::number(x.points)))
        .collect()
}

/// "intermediate: 3 people, 12 of 20 points" or "net-customer-adds (azure): 2, 20 of 30 points".
pub fn item_text(i: &ItemScore) -> String {
    let value = match i.kind {
        ItemKind::Skilling => {
            let n = i.value as usize;
            format!("{n} {}", plural(n))
        }
        ItemKind::Metric => crate::output::number(i.value),
    };
    format!(
        "{}: {value}, {} of {} points",
        i.name,
        crate::output::number(i.points),
        crate::output::number(i.max_points)
    )
}

// ---------------------------------------------------------------------------------------
// Enrolment and renewal
// ---------------------------------------------------------------------------------------

/// What an enrolment or renewal did.
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// The rows written.
    pub rows: Vec<EnrolmentRow>,
    /// Designations not renewed (renewal only), with why.
    pub not_renewed: Vec<String>,
}

/// Enrols the designations: each must have qualified in the window. The first enrolment of a
/// term pays the fee and sets the anniversary; later ones share it at no fee.
pub fn enrol(db: &Db, org: &Org, actor: &Actor, ids: &[String]) -> Result<Enrolled> {
    let at = actor.at;
    if ids.is_empty() {
        return Err(bad_input(
            "name the designations to enrol (see `competency designations list`)",
        ));
    }
    let l = load(db, org)?;
    if l.rb.designations.is_empty() {
        return Err(no_designations(org));
    }
    let enrolled = latest(db, org)?;
    let from = window_start(&l.rb, at);
    let scores: BTreeMap<String, DesignationScore> = score_with(&l.rb, &l.snap, at, false)
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    for id in ids {
        known(&l.rb, id)?;
        if let Some(e) = enrolled.get(id)
            && held_state(&l.rb, e, at).is_held()
        {
            return Err(refused(format!(
                "{} is already enrolled until {}: renew it with `competency designations renew`",
                e.name, e.anniversary
            )));
        }
        if qualified_in_window(&l.rb, &l.snap, id, from, at).is_none() {
            let s = &scores[id];
            return Err(refused(format!(
                "{} has not qualified since {} (score now {} of {} needed{}): `competency \
                 designations gaps` shows what is missing",
                s.name,
                from.date_naive(),
                crate::output::number(s.score()),
                crate::output::number(s.threshold),
                zero_items(s)
            )));
        }
    }
    // The term in force: an active enrolment's anniversary.
    let term = enrolled
        .values()
        .filter(|e| held_state(&l.rb, e, at) == DState::Enrolled)
        .max_by_key(|e| e.anniversary)
        .cloned();
    let today = at.date_naive();
    let mut rows = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let (anniversary, anchor, fee) = match &term {
            Some(t) => (t.anniversary, t.anchor_day, 0.0),
            None => (
                add_term(today, l.rb.program.term_months, today.day()),
                today.day(),
                if n == 0 {
                    l.rb.fees.designation as f64
                } else {
                    0.0
                },
            ),
        };
        let s = &scores[id];
        let new = NewEnrolment {
            designation: id,
            name: &s.name,
            kind: "enrolment",
            term_start: today,
            anniversary,
            anchor_day: anchor,
            fee_usd: fee,
            score: s.score(),
        };
        let rid = db.insert_enrolment(org.id, &new, at)?;
        db.audit(
            Some(org.id),
            at,
            &actor.name,
            "designations.enrol",
            id,
            &format!(
                "score={} fee={} USD term={today}..{anniversary}{}",
                crate::output::number(s.score()),
                crate::output::number(fee),
                if term.is_some() {
                    " (shares the anniversary)"
                } else {
                    ""
                }
            ),
        )?;
        rows.push(EnrolmentRow {
            id: rid,
            designation: id.clone(),
            name: s.name.clone(),
            kind: "enrolment".into(),
            enrolled_at: at,
            term_start: today,
            anniversary,
            anchor_day: anchor,
            fee_usd: fee,
            score: s.score(),
        });
    }
    sync_with(db, org, actor, None, &l)?;
    Ok(Enrolled {
        rows,
        not_renewed: Vec::new(),
    })
}

fn zero_items(s: &DesignationScore) -> String {
    let zero: Vec<&str> = s
        .best_track()
        .map(|t| {
            t.items
                .iter()
                .filter(|i| i.required && i.points <= 0.0)
                .map(|i| i.name.as_str())
                .collect()
        })
        .unwrap_or_default();
    if zero.is_empty() {
        String::new()
    } else {
        format!("; at 0: {}", zero.join(", "))
    }
}

/// Renews every enrolled designation that qualified in its anniversary's window, inside the
/// renewal window; the fee is paid once. The others are not renewed and lapse after grace.
pub fn renew(db: &Db, org: &Org, actor: &Actor) -> Result<Enrolled> {
    let at = actor.at;
    let l = load(db, org)?;
    let held: Vec<EnrolmentRow> = latest(db, org)?
        .into_values()
        .filter(|e| held_state(&l.rb, e, at).is_held())
        .collect();
    let Some(first) = held.first() else {
        return Err(refused(format!(
            "{} holds no designation to renew: enrol with `competency designations enrol ID`",
            org.name
        )));
    };
    let dates = Dates::new(first.anniversary, &l.rb.program);
    if !dates.window_open(at) {
        return Err(refused(format!(
            "the renewal window of the designations opens on {} ({} days before the anniversary \
             on {}) and closes at the end of {}; today is {}",
            dates.renewal_opens,
            l.rb.program.renewal_opens_days,
            dates.anniversary,
            dates.window_closes(),
            at.date_naive()
        )));
    }
    let mut rows = Vec::new();
    let mut not_renewed = Vec::new();
    let scores: BTreeMap<String, DesignationScore> = score(&l.rb, &l.snap, at)
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    for e in &held {
        let from = window_start(&l.rb, start_of(e.anniversary));
        if !l.rb.designations.contains_key(&e.designation)
            || qualified_in_window(&l.rb, &l.snap, &e.designation, from, at).is_none()
        {
            not_renewed.push(format!(
                "{} did not qualify since {}: it lapses on {}",
                e.name,
                from.date_naive(),
                Dates::new(e.anniversary, &l.rb.program).lapses
            ));
            continue;
        }
        let anniversary = add_term(e.anniversary, l.rb.program.term_months, e.anchor_day);
        let fee = if rows.is_empty() {
            l.rb.fees.designation as f64
        } else {
            0.0
        };
        let s = scores
            .get(&e.designation)
            .map_or(0.0, DesignationScore::score);
        let new = NewEnrolment {
            designation: &e.designation,
            name: &e.name,
            kind: "renewal",
            term_start: e.anniversary,
            anniversary,
            anchor_day: e.anchor_day,
            fee_usd: fee,
            score: s,
        };
        let rid = db.insert_enrolment(org.id, &new, at)?;
        db.audit(
            Some(org.id),
            at,
            &actor.name,
            "designations.renew",
            &e.designation,
            &format!(
                "fee={} USD term={}..{anniversary}",
                crate::output::number(fee),
                e.anniversary
            ),
        )?;
        rows.push(EnrolmentRow {
            id: rid,
            designation: e.designation.clone(),
            name: e.name.clone(),
            kind: "renewal".into(),
            enrolled_at: at,
            term_start: e.anniversary,
            anniversary,
            anchor_day: e.anchor_day,
            fee_usd: fee,
            score: s,
        });
    }
    if rows.is_empty() {
        return Err(refused(format!(
            "no designation can be renewed: {}",
            not_renewed.join("; ")
        )));
    }
    sync_with(db, org, actor, None, &l)?;
    Ok(Enrolled { rows, not_renewed })
}

// ---------------------------------------------------------------------------------------
// Alerts and the check
// ---------------------------------------------------------------------------------------

/// A designation alert.
pub type Alert = DesignationAlertRow;

/// One line for people: the text, the designation, the items that fell, the cause.
pub fn alert_line(a: &Alert) -> String {
    format!(
        "{}: {}: {}{}",
        a.message,
        a.name,
        a.items,
        a.cause
            .as_deref()
            .map(|c| format!(" (cause: {c})"))
            .unwrap_or_default()
    )
}

/// Evaluates the designations at `actor.at`: raises an alert for each enrolled designation
/// not qualifying (once), closes those that qualify again or are no longer enrolled.
/// Returns the alerts raised.
pub fn reevaluate(db: &Db, org: &Org, actor: &Actor, cause: Option<&str>) -> Result<Vec<Alert>> {
    // Nothing enrolled and no alert open: nothing to judge (and no snapshot to load).
    if db.enrolments(org.id)?.is_empty() && db.designation_alerts(org.id, false)?.is_empty() {
        return Ok(Vec::new());
    }
    let l = load(db, org)?;
    sync_with(db, org, actor, cause, &l)
}

fn sync_with(
    db: &Db,
    org: &Org,
    actor: &Actor,
    cause: Option<&str>,
    l: &Loaded,
) -> Result<Vec<Alert>> {
    let at = actor.at;
    let held: BTreeMap<String, EnrolmentRow> = latest(db, org)?
        .into_iter()
        .filter(|(_, e)| held_state(&l.rb, e, at).is_held())
        .collect();
    let mut open: BTreeMap<String, Alert> = db
        .designation_alerts(org.id, false)?
        .into_iter()
        .map(|a| (a.designation.clone(), a))
        .collect();
    let mut raised = Vec::new();
    if held.is_empty() && open.is_empty() {
        return Ok(raised);
    }
    let scores = score(&l.rb, &l.snap, at);
    for s in &scores {
        let Some(e) = held.get(&s.id) else { continue };
        match (s.qualified(), open.remove(&s.id)) {
            (true, Some(a)) => {
                db.close_designation_alert(a.id, at, "qualifies again")?;
                db.audit(
                    Some(org.id),
                    at,
                    &actor.name,
                    "designations.alert",
                    &s.id,
                    "closed: qualifies again",
                )?;
            }
            (false, None) => {
                let was = last_qualified(l, &s.id, start_of(e.term_start).max(e.enrolled_at), at);
                let mut items = was.as_ref().map(|w| fell(w, s)).unwrap_or_default();
                if items.is_empty() {
                    items = s
                        .best_track()
                        .map(|t| {
                            t.items
                                .iter()
                                .filter(|i| i.required && i.points <= 0.0)
                                .map(item_text)
                                .collect()
                        })
                        .unwrap_or_default();
                }
                let track = was
                    .as_ref()
                    .and_then(|w| s.tracks.get(w.best))
                    .or(s.best_track());
                let total = track.map_or(0.0, |t| t.total);
                let text = format!(
                    "{}; total {} {} {}",
                    items.join("; "),
                    crate::output::number(total),
                    if total < s.threshold { "<" } else { "≥" },
                    crate::output::number(s.threshold)
                );
                let why = cause
                    .map(str::to_owned)
                    .or_else(|| was.as_ref().and_then(|w| infer_cause(w, s)));
                let a = Alert {
                    id: 0,
                    designation: s.id.clone(),
                    name: s.name.clone(),
                    message: ALERT_TEXT.to_owned(),
                    items: text,
                    cause: why,
                    raised_at: at,
                    closed_at: None,
                    close_reason: None,
                };
                db.insert_designation_alert(org.id, &a)?;
                db.audit(
                    Some(org.id),
                    at,
                    &actor.name,
                    "designations.alert",
                    &s.id,
                    &format!("raised: {}", alert_line(&a)),
                )?;
                raised.push(a);
            }
            _ => {}
        }
    }
    for a in open.values() {
        db.close_designation_alert(a.id, at, "no longer enrolled")?;
    }
    Ok(raised)
}

/// The score at the last instant of `[from, at)` at which the designation qualified, if any:
/// what an alert compares against ("was 20").
fn last_qualified(
    l: &Loaded,
    id: &str,
    from: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Option<DesignationScore> {
    let mut points = change_points(&l.rb, &l.snap, from, at);
    points.retain(|t| *t < at);
    // The state just before `at` first (a change at `at` itself), then each change point
    // backwards; bounded, as this runs only when an alert is raised.
    let mut probes = vec![at - TimeDelta::seconds(1)];
    probes.extend(points.into_iter().rev().take(64));
    probes.into_iter().filter(|t| *t >= from).find_map(|t| {
        crate::rules::designations::score_designation(&l.rb, &l.snap, id, t)
            .filter(DesignationScore::qualified)
    })
}

/// "p03 no longer counts for intermediate" from the people who counted then and not now.
fn infer_cause(was: &DesignationScore, now: &DesignationScore) -> Option<String> {
    let (b, a) = (was.best_track()?, now.tracks.get(was.best)?);
    for (x, y) in b.items.iter().zip(&a.items) {
        let gone: Vec<&str> = x
            .people
            .iter()
            .filter(|p| !y.people.contains(p))
            .map(String::as_str)
            .collect();
        if !gone.is_empty() {
            return Some(format!(
                "{} no longer {} for {}",
                gone.join(", "),
                if gone.len() == 1 { "counts" } else { "count" },
                x.name
            ));
        }
        if x.kind == ItemKind::Metric && x.value != y.value {
            return Some(format!(
                "{} went from {} to {}",
                x.name,
                crate::output::number(x.value),
                crate::output::number(y.value)
            ));
        }
    }
    None
}

/// The designations' part of `membership check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Nothing to do.
    Ok,
    /// Not qualifying now (the window has not begun), or the renewal window is open.
    Warning,
    /// The anniversary's window has begun and it has not qualified in it.
    AtRisk,
}

impl Severity {
    /// The name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Warning => "warning",
            Severity::AtRisk => "at-risk",
        }
    }
}

/// One enrolled designation judged for cron.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The designation id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its score now.
    pub score: f64,
    /// Qualifies now.
    pub qualified: bool,
    /// The state (enrolled or renewal-due).
    pub state: DState,
    /// The anniversary.
    pub anniversary: NaiveDate,
    /// The first day of the anniversary's qualification window.
    pub window_start: NaiveDate,
    /// When it first qualified in that window, if it has.
    pub qualified_in_window: Option<DateTime<Utc>>,
    /// The verdict.
    pub severity: Severity,
    /// Why, in words.
    pub reason: String,
}

/// What the designations' check found: every held designation, the open alerts, the
/// alerts raised now.
#[derive(Debug, Clone, Default)]
pub struct Check {
    /// Each enrolled (or renewal-due) designation.
    pub held: Vec<Checked>,
    /// Open designation alerts.
    pub alerts: Vec<Alert>,
    /// Raised by this check.
    pub raised: Vec<Alert>,
}

impl Check {
    /// The most severe verdict, `None` when no designation is held.
    pub fn severity(&self) -> Option<Severity> {
        self.held.iter().map(|c| c.severity).max()
    }
}

/// Evaluates now, records alerts, and judges each enrolled designation (SPEC §9): at-risk
/// when its anniversary's window has begun and it has not qualified in it (nor does now);
/// warning when it does not qualify now but that window has not begun, or when the renewal
/// window is open; ok otherwise. Without designations in the rulebook: nothing held.
pub fn check(db: &Db, org: &Org, actor: &Actor) -> Result<Check> {
    let at = actor.at;
    // Nothing ever enrolled and no alert open: nothing held, no snapshot to load.
    if db.enrolments(org.id)?.is_empty() && db.designation_alerts(org.id, false)?.is_empty() {
        return Ok(Check::default());
    }
    let l = load(db, org)?;
    let raised = sync_with(db, org, actor, None, &l)?;
    let mut held = Vec::new();
    let latest = latest(db, org)?;
    let scores: BTreeMap<String, DesignationScore> = if latest.is_empty() {
        BTreeMap::new()
    } else {
        score_with(&l.rb, &l.snap, at, false)
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect()
    };
    for e in latest.values() {
        let state = held_state(&l.rb, e, at);
        if !state.is_held() {
            continue;
        }
        let s = scores.get(&e.designation);
        let qualified = s.is_some_and(DesignationScore::qualified);
        let from = window_start(&l.rb, start_of(e.anniversary));
        let began = at >= from;
        let since = if began {
            qualified_in_window(&l.rb, &l.snap, &e.designation, from, at)
        } else {
            None
        };
        let dates = Dates::new(e.anniversary, &l.rb.program);
        let (severity, reason) = if began && since.is_none() {
            (
                Severity::AtRisk,
                format!(
                    "has not qualified since {} (the window of the {} anniversary)",
                    from.date_naive(),
                    e.anniversary
                ),
            )
        } else if !qualified && !began {
            (
                Severity::Warning,
                format!(
                    "does not qualify now; the window of the {} anniversary begins on {}",
                    e.anniversary,
                    from.date_naive()
                ),
            )
        } else if dates.window_open(at) {
            (
                Severity::Warning,
                format!(
                    "the renewal window is open until the end of {}",
                    dates.window_closes()
                ),
            )
        } else {
            (Severity::Ok, "qualifies".to_owned())
        };
        held.push(Checked {
            id: e.designation.clone(),
            name: e.name.clone(),
            score: s.map_or(0.0, DesignationScore::score),
            qualified,
            state,
            anniversary: e.anniversary,
            window_start: from.date_naive(),
            qualified_in_window: since,
            severity,
            reason,
        });
    }
    Ok(Check {
        held,
        alerts: db.designation_alerts(org.id, false)?,
        raised,
    })
}

/// The open alerts raised at or after `since` (the ones a command has just raised).
pub fn raised_since(db: &Db, org: &Org, since: DateTime<Utc>) -> Result<Vec<Alert>> {
    let since = since.timestamp();
    Ok(db
        .designation_alerts(org.id, false)?
        .into_iter()
        .filter(|a| a.raised_at.timestamp() >= since)
        .collect())
}

/// The organization's designation alerts (open ones unless `all`).
pub fn alerts(db: &Db, org: &Org, all: bool) -> Result<Vec<Alert>> {
    db.designation_alerts(org.id, all)
}

#[cfg(test)]
mod gap_tests {
    use super::*;
    use crate::rules::designations::{SkillPeople, SkillingItem};
    use proptest::prelude::*;

    fn item(per: f64, max: f64, required: bool) -> SkillingItem {
        SkillingItem {
            name: "i".into(),
            points_per_person: per,
            max_points: max,
            prerequisites: Vec::new(),
            people: SkillPeople {
                all_of: vec!["X".into()],
                any_of: Vec::new(),
            },
            required,
        }
    }

    /// Every plan: each item none, or unlocked with 0..=max_add+1 more people.
    fn all_plans(opts: &[SkillOpt<'_>]) -> Vec<Vec<Option<usize>>> {
        let mut plans = vec![Vec::new()];
        for o in opts {
            let mut next = Vec::new();
            for p in &plans {
                let mut none = p.clone();
                none.push(None);
                next.push(none);
                for n in 0..=o.max_add + 1 {
                    let mut q = p.clone();
                    q.push(Some(n));
                    next.push(q);
                }
            }
            plans = next;
        }
        plans
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// The knapsack's plan is as good as the best of every plan tried by brute force.
        #[test]
        fn people_plan_equals_brute_force(
            raw in proptest::collection::vec(
                (1u32..9, 1u32..5, 0usize..4, any::<bool>(), any::<bool>(), 0usize..3), 1..4),
            metric in 0u32..60,
            threshold in 20u32..80,
        ) {
            let items: Vec<SkillingItem> = raw
                .iter()
                .map(|&(per, k, _, req, _, _)| item(f64::from(per) * 0.67, f64::from(per * k) * 0.67, req))
                .collect();
            let opts: Vec<SkillOpt<'_>> = raw
                .iter()
                .zip(&items)
                .map(|(&(_, _, have, _, locked, pre), it)| SkillOpt {
                    item: it,
                    have,
                    locked,
                    pre_cost: if locked { pre + 1 } else { 0 },
                    max_add: it.people_for_max().unwrap_or(0).saturating_sub(have),
                })
                .collect();
            let (m, th) = (f64::from(metric), f64::from(threshold));
            let got = plan_key(&opts, &plan_people(&opts, m, th), m, th);
            let best = all_plans(&opts)
                .iter()
                .map(|p| plan_key(&opts, p, m, th))
                .min()
                .unwrap();
            prop_assert_eq!(got, best);
        }
    }

    #[test]
    fn unlocking_beats_piling_people_on_an_open_item() {
        // Open item: 1 point a person up to 10; locked item: 5 points a person up to 20, its
        // prerequisite needs 1 more person. 10 points short: 1 + 2 people, not 10.
        let (a, b) = (item(1.0, 10.0, false), item(5.0, 20.0, false));
        let opts = [
            SkillOpt {
                item: &a,
                have: 0,
                locked: false,
                pre_cost: 0,
                max_add: 10,
            },
            SkillOpt {
                item: &b,
                have: 0,
                locked: true,
                pre_cost: 1,
                max_add: 4,
            },
        ];
        let plan = plan_people(&opts, 60.0, 70.0);
        assert_eq!(plan_key(&opts, &plan, 60.0, 70.0), (false, 0, 3));
        assert_eq!(plan[1], Some(2));
    }
}
