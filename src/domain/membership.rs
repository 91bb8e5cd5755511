//! Membership: purchases, the business profile, renewal alerts, the cron check, what-if.
//!
//! This module owns the membership lifecycle of SPEC §7 and keeps these invariants:
//! - **The latest purchase decides.** An organization's state at an instant comes from its
//!   most recent purchase: `active` before the anniversary A, `renewal-due` from A until
//!   A + `grace_days`, `lapsed` from then on; `none` without any purchase. Anniversaries and
//!   windows are calendar days taking effect at midnight UTC.
//! - **Terms.** An upgrade starts a term on the day bought and ends it term_months later (a
//!   Silver → Gold upgrade, and an upgrade after a lapse, start afresh); a renewal, allowed
//!   from A − `renewal_opens_days` until A + `grace_days`, buys the term from A to A + term.
//!   Anniversaries keep the day of the month of the original purchase (Jan 31 → Feb 28 →
//!   … → Jan 31 again) rather than drifting to the 28th.
//! - **A purchase needs a competency met at its level now** (Gold counting as Silver);
//!   Gold holders cannot buy Silver. Every refusal says what is missing or when to come
//!   back. Each purchase records the rulebook's fee (with the 25 % Silver → Gold discount
//!   marked) and is audited.
//! - **Attainments.** "Attained" (SPEC §7) is judged from the recorded history, never from
//!   which commands ran: the profile, the check's displayed set and the Silver → Gold
//!   discount show, for the term in force, each competency at the highest level (up to the
//!   held one) met at some instant since the term began, found exactly at the instants where
//!   an input changes ([`crate::rules::window::attained`]) — until the term ends, even when
//!   no longer met; nothing once lapsed. Evaluations still record attainment rows: their
//!   `last_met_at` (the last instant an evaluation found a competency met) bounds the search
//!   for the change that caused an alert, and they keep what was met when the history itself
//!   was rewritten later (a performance figure corrected in place, an import shortening an
//!   expiry, a new rulebook), which the snapshot no longer shows. On unchanged history every
//!   row is also found by the history search, so the rows never make the answer depend on
//!   which commands ran.
//! - **Alerts.** A displayed competency found not met at its displayed level raises exactly
//!   one open alert (one per competency, enforced by a unique index) with [`ALERT_TEXT`], the
//!   requirement that fell short and the cause when known; it closes when an evaluation finds
//!   the competency met again, when it is no longer displayed (a new term), or when the
//!   membership lapses.
//!
//! Domain code only: plain data in, plain data out, no printing, time from the [`Actor`].

use std::collections::{BTreeMap, HashSet};

use anyhow::Result;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::accounts::{self, Actor};
use crate::domain::judge::Judged;
use crate::domain::records;
use crate::error::{bad_input, refused};
use crate::output::number;
use crate::rules::engine::{
    CompetencyEval, OptionEval, RequirementDetail, association_active, counts_until,
    option_missing, start_of,
};
use crate::rules::rulebook::Program;
use crate::rules::window::attained;
use crate::rules::{Level, Rulebook, evaluate, expire_before, explain};
use crate::store::{AlertRow, AttainmentRow, Db, NewPurchase, Org, PurchaseRow};

/// The text of every renewal alert (SPEC §7).
pub const ALERT_TEXT: &str = "A recent change to your competency achievement has put your membership renewal eligibility at risk";

/// The Silver-to-Gold upgrade discount (25 %, see ../shared/PROGRAM-FACTS.md).
pub const SILVER_TO_GOLD_DISCOUNT: f64 = 0.25;

// ---------------------------------------------------------------------------------------
// State and date arithmetic
// ---------------------------------------------------------------------------------------

/// A membership's state at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Never bought.
    None,
    /// Before the anniversary.
    Active,
    /// From the anniversary until the grace period ends: still shown, still renewable.
    RenewalDue,
    /// After the grace period.
    Lapsed,
}

impl State {
    /// The name as printed (`none`, `active`, `renewal-due`, `lapsed`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::None => "none",
            State::Active => "active",
            State::RenewalDue => "renewal-due",
            State::Lapsed => "lapsed",
        }
    }

    /// Whether the membership is held (active or renewal-due).
    pub fn is_held(self) -> bool {
        matches!(self, State::Active | State::RenewalDue)
    }
}

/// The days that matter for one term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dates {
    /// The anniversary: the term's end.
    pub anniversary: NaiveDate,
    /// The first day renewal is allowed (anniversary − `renewal_opens_days`).
    pub renewal_opens: NaiveDate,
    /// The first day the membership is lapsed (anniversary + `grace_days`); the renewal
    /// window closes at the end of the day before.
    pub lapses: NaiveDate,
}

impl Dates {
    /// The days of a term ending on `anniversary` under the program's periods.
    pub fn new(anniversary: NaiveDate, program: &Program) -> Dates {
        let days = |n: u32| chrono::Days::new(u64::from(n));
        Dates {
            anniversary,
            renewal_opens: anniversary
                .checked_sub_days(days(program.renewal_opens_days))
                .unwrap_or(NaiveDate::MIN),
            lapses: anniversary
                .checked_add_days(days(program.grace_days))
                .unwrap_or(NaiveDate::MAX),
        }
    }

    /// The state at `at`.
    pub fn state_at(&self, at: DateTime<Utc>) -> State {
        if at < start_of(self.anniversary) {
            State::Active
        } else if at < start_of(self.lapses) {
            State::RenewalDue
        } else {
            State::Lapsed
        }
    }

    /// Whether renewal is allowed at `at`.
    pub fn window_open(&self, at: DateTime<Utc>) -> bool {
        start_of(self.renewal_opens) <= at && at < start_of(self.lapses)
    }

    /// The last day renewal is allowed.
    pub fn window_closes(&self) -> NaiveDate {
        self.lapses.pred_opt().unwrap_or(self.lapses)
    }
}

/// `from` plus `months`, on the anchor day of the month where the month has it (else its
/// last day): a term bought on Jan 31 ends on Jan 31, and one whose anniversary was clamped
/// to Feb 28 comes back to the 31st where it can.
pub fn add_term(from: NaiveDate, months: u32, anchor_day: u32) -> NaiveDate {
    let d = from
        .checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX);
    let last = last_day_of_month(d);
    d.with_day(anchor_day.clamp(1, last)).unwrap_or(d)
}

/// A new term's anniversary, refused when it falls past the last storable year (an
/// upgrade `--now 9999-12-31` would end in 10000).
fn storable_anniversary(anniversary: NaiveDate) -> Result<NaiveDate> {
    crate::support::clock::in_range(anniversary).map_err(|e| {
        crate::error::bad_input(format!("the new term would end on {e}; nothing was bought"))
    })
}

fn last_day_of_month(d: NaiveDate) -> u32 {
    let first = d.with_day(1).unwrap_or(d);
    first
        .checked_add_months(Months::new(1))
        .and_then(|n| n.pred_opt())
        .map_or(31, |l| l.day())
}

/// The organization's membership: its latest purchase and what follows from it.
#[derive(Debug, Clone)]
pub struct Membership {
    /// The latest purchase.
    pub current: PurchaseRow,
    /// The purchase before it, if any.
    pub previous: Option<PurchaseRow>,
    /// The latest purchase's dates.
    pub dates: Dates,
    /// The state at the instant asked about.
    pub state: State,
}

impl Membership {
    /// The level held (or last held, when lapsed).
    pub fn level(&self) -> Level {
        self.current.level
    }

    /// The terms whose attainments the profile displays at `at`: the latest purchase's,
    /// and while a renewal bought early has not started, the term it extends. Empty once
    /// lapsed.
    pub fn display_terms(&self, at: DateTime<Utc>) -> Vec<i64> {
        if !self.state.is_held() {
            return Vec::new();
        }
        let mut terms = vec![self.current.id];
        if self.current.is_renewal()
            && at < start_of(self.current.term_start)
            && let Some(prev) = &self.previous
        {
            terms.push(prev.id);
        }
        terms
    }

    /// When the term whose attainments the profile displays at `at` began: the latest
    /// purchase's term start, or while a renewal bought early has not started, the start of
    /// the term it extends. `None` once lapsed.
    pub fn display_from(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if !self.state.is_held() {
            return None;
        }
        let mut from = self.current.term_start;
        if self.current.is_renewal()
            && at < start_of(self.current.term_start)
            && let Some(prev) = &self.previous
        {
            from = prev.term_start;
        }
        Some(start_of(from))
    }
}

/// The organization's membership at `at`, if it ever bought one.
pub fn membership(
    db: &Db,
    org: &Org,
    program: &Program,
    at: DateTime<Utc>,
) -> Result<Option<Membership>> {
    // Purchases recorded after `at` do not exist yet at `at`: before the first one the
    // state is `none`.
    let mut latest = db
        .purchases(org.id)?
        .into_iter()
        .filter(|p| p.purchased_at <= at)
        .rev();
    let Some(current) = latest.next() else {
        return Ok(None);
    };
    let dates = Dates::new(current.anniversary, program);
    Ok(Some(Membership {
        state: dates.state_at(at),
        previous: latest.next(),
        current,
        dates,
    }))
}

// ---------------------------------------------------------------------------------------
// Plain results
// ---------------------------------------------------------------------------------------

/// A competency the business profile displays.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Displayed {
    /// The competency id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// The highest level attained in the term.
    pub level: Level,
    /// When it was first attained at that level in the term.
    pub attained: DateTime<Utc>,
    /// When it was last found met at that level.
    #[serde(skip)]
    pub last_met: DateTime<Utc>,
}

/// A renewal alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The organization's name (alerts printed during a command may concern another
    /// organization of the database: a severed MSA).
    pub org: String,
    /// When it was raised.
    pub raised: DateTime<Utc>,
    /// The competency id.
    pub competency: String,
    /// Its display name.
    pub name: String,
    /// The level displayed and no longer met.
    pub level: Level,
    /// [`ALERT_TEXT`].
    pub message: String,
    /// The requirement that fell short, e.g. "2 people with 70-533 or 70-535: have 1, need 2".
    pub requirement: String,
    /// The change that caused it, when known.
    pub cause: Option<String>,
    /// Still open.
    pub open: bool,
    /// When it was closed.
    pub closed: Option<DateTime<Utc>>,
    /// Why it was closed.
    pub close_reason: Option<String>,
}

impl From<AlertRow> for Alert {
    fn from(r: AlertRow) -> Alert {
        Alert {
            org: String::new(),
            raised: r.raised_at,
            competency: r.competency,
            name: r.name,
            level: r.level,
            message: r.message,
            requirement: r.requirement,
            cause: r.cause,
            open: r.closed_at.is_none(),
            closed: r.closed_at,
            close_reason: r.close_reason,
        }
    }
}

impl Alert {
    /// One line for people: the text, the competency, the shortfall and the cause.
    pub fn line(&self) -> String {
        format!(
            "{}: {} ({}): {}{}",
            self.message,
            self.name,
            self.level,
            self.requirement,
            self.cause
                .as_deref()
                .map(|c| format!(" (cause: {c})"))
                .unwrap_or_default()
        )
    }
}

/// An achievement a displayed competency relies on that stops counting by the anniversary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expiring {
    /// The competency id.
    pub competency: String,
    /// Its display name.
    pub name: String,
    /// The level displayed.
    pub level: Level,
    /// The person counted through it.
    pub username: String,
    /// Their MSA.
    pub msa: String,
    /// The code.
    pub code: String,
    /// The first day it no longer counts.
    pub expires: NaiveDate,
}

// ---------------------------------------------------------------------------------------
// Evaluation, attainments and alerts
// ---------------------------------------------------------------------------------------

fn judge_with(db: &Db, org: &Org, rulebook: Rulebook, at: DateTime<Utc>) -> Result<Judged> {
    let snapshot = db.snapshot(org.id, org.market)?;
    let eval = evaluate(&rulebook, &snapshot, at);
    Ok(Judged {
        rulebook,
        snapshot,
        eval,
    })
}

/// What one evaluation of the membership found and changed.
struct Synced {
    membership: Option<Membership>,
    judged: Option<Judged>,
    raised: Vec<Alert>,
    displayed: Vec<Displayed>,
}

/// The displayed competencies from stored attainments: per competency, the highest level.
fn displayed_from(rows: &[AttainmentRow], held: Level) -> BTreeMap<String, Displayed> {
    let mut out: BTreeMap<String, Displayed> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.level <= held) {
        let d = Displayed {
            id: r.competency.clone(),
            name: r.name.clone(),
            level: r.level,
            attained: r.attained_at,
            last_met: r.last_met_at,
        };
        match out.get_mut(&r.competency) {
            None => {
                out.insert(r.competency.clone(), d);
            }
            Some(cur) if r.level > cur.level => *cur = d,
            Some(cur) if r.level == cur.level => {
                cur.attained = cur.attained.min(d.attained);
                cur.last_met = cur.last_met.max(d.last_met);
            }
            Some(_) => {}
        }
    }
    out
}

/// The competencies the profile displays at `at` (SPEC §7): each competency at the highest
/// level up to `held` met at some instant since the displayed term began, judged from the
/// snapshot's history, so the answer never depends on which commands ran before. `rows` (the
/// stored attainments) supply `last_met` for the alert bookkeeping, and add what was met
/// before the history was rewritten (see the module documentation).
fn displayed_at(
    judged: &Judged,
    m: &Membership,
    at: DateTime<Utc>,
    held: Level,
    rows: &BTreeMap<String, Displayed>,
) -> BTreeMap<String, Displayed> {
    let Some(from) = m.display_from(at) else {
        return BTreeMap::new();
    };
    attained(&judged.rulebook, &judged.snapshot, from, at, held)
        .into_iter()
        .map(|(id, a)| {
            let name = judged
                .rulebook
                .competency(&id)
                .map_or_else(|| id.clone(), |c| c.name.clone());
            let last_met = rows
                .get(&id)
                .filter(|r| r.level == a.level)
                .map_or(a.at, |r| r.last_met.max(a.at));
            let d = Displayed {
                id: id.clone(),
                name,
                level: a.level,
                attained: a.at,
                last_met,
            };
            (id, d)
        })
        .collect::<BTreeMap<String, Displayed>>()
        .into_iter()
        .chain(rows.clone())
        .fold(BTreeMap::new(), |mut out, (id, d)| {
            match out.get_mut(&id) {
                None => {
                    out.insert(id, d);
                }
                Some(cur) if d.level > cur.level => *cur = d,
                Some(cur) if d.level == cur.level => {
                    cur.attained = cur.attained.min(d.attained);
                    cur.last_met = cur.last_met.max(d.last_met);
                }
                Some(_) => {}
            }
            out
        })
}

/// The levels at or below `held` a competency meets now.
fn met_levels(ce: &CompetencyEval, held: Level) -> impl Iterator<Item = Level> + '_ {
    Level::ALL
        .into_iter()
        .filter(move |l| *l <= held && ce.level(*l).met)
}

/// Evaluates the organization at `actor.at` and brings attainments and alerts up to date.
fn sync(db: &Db, org: &Org, actor: &Actor, cause: Option<&str>) -> Result<Synced> {
    sync_with(db, org, actor, cause, None)
}

/// [`sync`] reusing an evaluation made at `actor.at` in this transaction (a purchase has
/// just made one), so a command evaluates once.
fn sync_with(
    db: &Db,
    org: &Org,
    actor: &Actor,
    cause: Option<&str>,
    judged: Option<Judged>,
) -> Result<Synced> {
    let at = actor.at;
    let (rulebook, judged) = match judged {
        Some(j) if j.eval.at == at => (None, Some(j)),
        _ => (Some(records::rulebook(db, org)?), None),
    };
    let program = match (&rulebook, &judged) {
        (Some(rb), _) => rb.program.clone(),
        (None, Some(j)) => j.rulebook.program.clone(),
        (None, None) => unreachable!("one of the two is set above"),
    };
    let Some(m) = membership(db, org, &program, at)? else {
        return Ok(Synced {
            membership: None,
            judged: None,
            raised: Vec::new(),
            displayed: Vec::new(),
        });
    };
    if !m.state.is_held() {
        let reason = format!("the membership lapsed on {}", m.dates.lapses);
        for a in db.alerts(org.id, false)? {
            close(db, org, actor, &a, &reason)?;
        }
        return Ok(Synced {
            membership: Some(m),
            judged: None,
            raised: Vec::new(),
            displayed: Vec::new(),
        });
    }
    let judged = match (judged, rulebook) {
        (Some(j), _) => j,
        (None, Some(rb)) => judge_with(db, org, rb, at)?,
        (None, None) => unreachable!("one of the two is set above"),
    };
    let terms = m.display_terms(at);
    let held = m.level();
    let before = displayed_from(&db.attainments(&terms)?, held);

    for ce in &judged.eval.competencies {
        for level in met_levels(ce, held) {
            for &t in &terms {
                db.record_attainment(t, &ce.id, &ce.name, level, at)?;
            }
        }
    }
    let rows = displayed_from(&db.attainments(&terms)?, held);
    let displayed = displayed_at(&judged, &m, at, held, &rows);

    let mut open: BTreeMap<String, AlertRow> = db
        .alerts(org.id, false)?
        .into_iter()
        .map(|a| (a.competency.clone(), a))
        .collect();
    let mut raised = Vec::new();
    for d in displayed.values() {
        let met = judged
            .eval
            .competency(&d.id)
            .is_some_and(|ce| ce.level(d.level).met);
        match (met, open.remove(&d.id)) {
            (true, Some(a)) => close(db, org, actor, &a, "met again")?,
            (false, None) => {
                let since = before.get(&d.id).map_or(d.last_met, |b| b.last_met);
                let requirement = shortfall(&judged, &d.id, d.level);
                let why = find_cause(db, org, &judged, &d.id, d.level, since, at, cause)?;
                db.insert_alert(
                    org.id,
                    m.current.id,
                    &d.id,
                    &d.name,
                    d.level,
                    ALERT_TEXT,
                    &requirement,
                    why.as_deref(),
                    at,
                )?;
                db.audit(
                    Some(org.id),
                    at,
                    &actor.name,
                    "membership.alert",
                    &d.id,
                    &format!(
                        "raised: {} no longer met: {requirement}{}",
                        d.level,
                        why.as_deref()
                            .map(|c| format!(" (cause: {c})"))
                            .unwrap_or_default()
                    ),
                )?;
                raised.push(Alert {
                    org: org.name.clone(),
                    raised: at,
                    competency: d.id.clone(),
                    name: d.name.clone(),
                    level: d.level,
                    message: ALERT_TEXT.to_owned(),
                    requirement,
                    cause: why,
                    open: true,
                    closed: None,
                    close_reason: None,
                });
            }
            _ => {}
        }
    }
    for a in open.values() {
        close(db, org, actor, a, "no longer displayed in the current term")?;
    }
    Ok(Synced {
        membership: Some(m),
        judged: Some(judged),
        raised,
        displayed: displayed.into_values().collect(),
    })
}

fn close(db: &Db, org: &Org, actor: &Actor, a: &AlertRow, reason: &str) -> Result<()> {
    db.close_alert(a.id, actor.at, reason)?;
    db.audit(
        Some(org.id),
        actor.at,
        &actor.name,
        "membership.alert",
        &a.competency,
        &format!("closed: {reason}"),
    )
}

/// What fell short for a level: the unmet requirements of its closest option, with have /
/// need, e.g. "2 people with 70-533 or 70-535: have 1, need 2".
pub fn shortfall(judged: &Judged, id: &str, level: Level) -> String {
    let Some(ce) = judged.eval.competency(id) else {
        return "the competency is no longer in the rulebook".to_owned();
    };
    let le = ce.level(level);
    let Some(opt) = le.options.get(le.best) else {
        return format!("the rulebook no longer has a {level} option");
    };
    let parts: Vec<String> = opt
        .requirements
        .iter()
        .filter(|r| !r.met)
        .map(|r| {
            let (have, need) = match &r.detail {
                RequirementDetail::Metric { metric, .. } => (
                    explain::amount(*metric, r.have),
                    explain::amount(*metric, r.need),
                ),
                RequirementDetail::People { .. } => (number(r.have), number(r.need)),
            };
            format!("{}: have {have}, need {need}", r.description)
        })
        .collect();
    let body = parts.join("; ");
    if le.options.len() > 1 {
        format!("option {}: {body}", opt.name)
    } else {
        body
    }
}

/// The codes any option of `level` names (for Silver, Gold's too: Gold meets Silver).
fn relevant_codes<'r>(rb: &'r Rulebook, id: &str, level: Level) -> HashSet<&'r str> {
    let Some(comp) = rb.competency(id) else {
        return HashSet::new();
    };
    Level::ALL
        .into_iter()
        .filter(|l| *l >= level)
        .flat_map(|l| comp.options(l))
        .flat_map(|o| o.people.iter().flat_map(|p| p.codes()))
        .collect()
}

/// The change that made a competency fall short, from what happened to the people and
/// achievements it names since it was last met: the current command's own change (anything
/// at `at`) is `given`; earlier departures, removals and expiries are named.
#[allow(clippy::too_many_arguments)]
fn find_cause(
    db: &Db,
    org: &Org,
    judged: &Judged,
    id: &str,
    level: Level,
    since: DateTime<Utc>,
    at: DateTime<Utc>,
    given: Option<&str>,
) -> Result<Option<String>> {
    let rb = &judged.rulebook;
    let codes = relevant_codes(rb, id, level);
    let within = |t: DateTime<Utc>| since < t && t <= at;
    let mut now = false;
    let mut events: Vec<String> = Vec::new();
    for p in &judged.snapshot.people {
        if !p.achievements.iter().any(|a| codes.contains(&*a.code)) {
            continue;
        }
        if let Some(end) = p.ended.filter(|e| within(*e)) {
            if end == at {
                now = true;
            } else {
                let removed = db
                    .users_by_key(org.id, &p.username)?
                    .iter()
                    .any(|u| u.username == p.username && u.removed_at == Some(end));
                events.push(if removed {
                    format!("user {} removed on {}", p.username, end.date_naive())
                } else {
                    format!(
                        "MSA {} of {} severed on {}",
                        p.msa,
                        p.username,
                        end.date_naive()
                    )
                });
            }
            continue;
        }
        if !association_active(p, at) {
            continue;
        }
        for a in p.achievements.iter().filter(|a| codes.contains(&*a.code)) {
            if let Some(r) = a.removed.filter(|r| within(*r)) {
                if r == at {
                    now = true;
                } else {
                    events.push(format!(
                        "achievement {} of {} removed on {}",
                        a.code,
                        p.msa,
                        r.date_naive()
                    ));
                }
            } else if let Some(u) = counts_until(rb, a).filter(|u| within(start_of(*u))) {
                events.push(format!(
                    "achievement {} of {} expired on {u}",
                    a.code, p.msa
                ));
            }
        }
    }
    events.sort();
    events.dedup();
    let inferred = (!events.is_empty()).then(|| {
        let n = events.len();
        let mut s = events.into_iter().take(3).collect::<Vec<_>>().join("; ");
        if n > 3 {
            s.push_str(&format!("; and {} more", n - 3));
        }
        s
    });
    Ok(match (given, inferred) {
        (Some(g), Some(i)) if !now => Some(format!("{g}; also {i}")),
        (Some(g), _) => Some(g.to_owned()),
        (None, i) => i,
    })
}

/// Re-evaluates the organization after a change that can lose a competency (a user
/// removed, an MSA severed or replaced, an achievement removed, a new rulebook): records
/// attainments, closes alerts whose competency is met again and raises one for each
/// displayed competency no longer met. Call it inside the write transaction of the change;
/// `cause` describes the change ("user bob@contoso.com removed"). Returns the alerts newly
/// raised. Without a held membership it evaluates nothing (and closes alerts left open by a
/// lapse).
pub fn reevaluate(db: &Db, org: &Org, actor: &Actor, cause: Option<&str>) -> Result<Vec<Alert>> {
    Ok(reevaluate_all(db, org, actor, cause)?.0)
}

/// [`reevaluate`], returning the designation alerts raised too: a command prints its own
/// organization's (see `cli::Ctx::write_org`), not another's its change severed.
pub fn reevaluate_all(
    db: &Db,
    org: &Org,
    actor: &Actor,
    cause: Option<&str>,
) -> Result<(Vec<Alert>, Vec<crate::domain::designations::Alert>)> {
    let raised = sync(db, org, actor, cause)?.raised;
    // The same changes can cost an enrolled designation its points (SPEC §9): its alerts are
    // recorded here and shown by `membership check` and `designations alerts`.
    let designations = crate::domain::designations::reevaluate(db, org, actor, cause)?;
    Ok((raised, designations))
}

/// Alerts raised in one organization by a change made from another (or from itself).
#[derive(Debug, Clone)]
pub struct OrgAlerts {
    /// The organization's name.
    pub org_name: String,
    /// Not the organization the command was run for: its alerts are shown under its name.
    pub elsewhere: bool,
    /// The alerts raised.
    pub alerts: Vec<Alert>,
    /// The designation alerts raised, for another organization only (the command prints its
    /// own organization's).
    pub designations: Vec<crate::domain::designations::Alert>,
}

/// Re-evaluates after an MSA link ([`accounts::link_msa`]): the organization whose association
/// was severed (another one, or this one when the MSA moved between two of its accounts),
/// and this organization when the account's previous MSA was replaced. Returns the alerts
/// raised, by organization.
pub fn after_link(
    db: &Db,
    org: &Org,
    actor: &Actor,
    username: &str,
    linked: &accounts::Linked,
) -> Result<Vec<OrgAlerts>> {
    let mut raised = Vec::new();
    if linked.unchanged {
        return Ok(raised);
    }
    if let Some(s) = &linked.severed {
        let cause = if s.org_id == org.id {
            format!("MSA {} moved from {} to {username}", linked.msa, s.username)
        } else {
            format!(
                "MSA {} of {} severed (linked to another organization)",
                linked.msa, s.username
            )
        };
        let other = if s.org_id == org.id {
            org.clone()
        } else {
            db.org_by_id(s.org_id)?
        };
        let (alerts, designations) = reevaluate_all(db, &other, actor, Some(&cause))?;
        raised.push(OrgAlerts {
            elsewhere: other.id != org.id,
            alerts,
            designations: if other.id != org.id {
                designations
            } else {
                Vec::new()
            },
            org_name: other.name,
        });
    }
    if let Some(old) = &linked.replaced
        && linked.severed.as_ref().is_none_or(|s| s.org_id != org.id)
    {
        let cause = format!("MSA {old} of {username} replaced by {}", linked.msa);
        raised.push(OrgAlerts {
            org_name: org.name.clone(),
            elsewhere: false,
            alerts: reevaluate(db, org, actor, Some(&cause))?,
            designations: Vec::new(),
        });
    }
    Ok(raised)
}

// ---------------------------------------------------------------------------------------
// Purchases
// ---------------------------------------------------------------------------------------

/// What a purchase did.
#[derive(Debug, Clone)]
pub struct Purchased {
    /// The purchase recorded.
    pub purchase: PurchaseRow,
    /// The level held before, if a membership was held.
    pub previous: Option<Level>,
    /// The competencies the profile now displays.
    pub competencies: Vec<Displayed>,
    /// The renewal window of the new term.
    pub dates: Dates,
}

/// How far an option is from being met, for ranking refusals (smaller is closer): options
/// short of people only come first, by how many people are missing; then options short of
/// a performance figure, by the sum of their relative shortfalls `(need - have) / need`,
/// then people. A missing certified person can be found in weeks; a revenue gap cannot.
fn refusal_rank(option: &OptionEval) -> (bool, f64, u64) {
    let mut people = 0u64;
    let mut metric = 0.0;
    let mut metric_short = false;
    for r in option.requirements.iter().filter(|r| !r.met) {
        match r.detail {
            RequirementDetail::People { .. } => people += (r.need - r.have).max(0.0) as u64,
            RequirementDetail::Metric { .. } => {
                metric_short = true;
                if r.need > 0.0 {
                    metric += ((r.need - r.have) / r.need).max(0.0);
                }
            }
        }
    }
    if metric_short {
        (true, metric, people)
    } else {
        (false, people as f64, 0)
    }
}

fn rank_cmp(a: &(bool, f64, u64), b: &(bool, f64, u64)) -> std::cmp::Ordering {
    a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2))
}

/// The (at most three) competencies closest to being met at `level`, each through its
/// closest option by [`refusal_rank`], phrased with what they miss.
fn closest_options(judged: &Judged, level: Level) -> Vec<String> {
    let rb = &judged.rulebook;
    let mut ranked: Vec<((bool, f64, u64), String)> = Vec::new();
    for ce in &judged.eval.competencies {
        let Some(comp) = rb.competency(&ce.id) else {
            continue;
        };
        let le = ce.level(level);
        if le.met {
            continue;
        }
        let best = comp
            .options(level)
            .iter()
            .zip(&le.options)
            .map(|(opt, oe)| (refusal_rank(oe), opt, oe))
            .min_by(|a, b| rank_cmp(&a.0, &b.0));
        if let Some((rank, opt, oe)) = best {
            let missing = option_missing(rb, opt, oe, judged.eval.at.date_naive());
            let option = if le.options.len() > 1 {
                format!(", option {:?}", oe.name)
            } else {
                String::new()
            };
            ranked.push((
                rank,
                format!(
                    "{} ({}{option}) needs {}",
                    ce.name,
                    ce.id,
                    missing.join(", ")
                ),
            ));
        }
    }
    // Stable: equal ranks keep the rulebook's id order.
    ranked.sort_by(|a, b| rank_cmp(&a.0, &b.0));
    ranked.into_iter().take(3).map(|r| r.1).collect()
}

/// The first instant after `at` and no later than `later` at which some competency is met
/// at `level`, with it: achievements and links count a fixed delay after they happen, so
/// the candidates are those moments.
fn met_soon(
    judged: &Judged,
    level: Level,
    later: DateTime<Utc>,
) -> Option<(DateTime<Utc>, String, String)> {
    let at = judged.eval.at;
    let delay = chrono::TimeDelta::hours(i64::from(judged.rulebook.program.progress_delay_hours));
    let mut instants: Vec<DateTime<Utc>> = judged
        .snapshot
        .people
        .iter()
        .flat_map(|p| {
            p.achievements
                .iter()
                .map(move |a| start_of(a.earned).max(p.associated))
                .chain(std::iter::once(p.associated))
        })
        .filter_map(|t| t.checked_add_signed(delay))
        .filter(|t| *t > at && *t <= later)
        .collect();
    instants.sort_unstable();
    instants.dedup();
    // Each candidate is an evaluation: past a few hundred (a bulk import spread over the
    // day), name the end of the delay instead, when everything recent has counted.
    if instants.len() > 200 {
        instants.clear();
    }
    instants.push(later);
    instants.into_iter().find_map(|t| {
        let soon = evaluate(&judged.rulebook, &judged.snapshot, t);
        soon.competencies
            .iter()
            .find(|c| c.level(level).met)
            .map(|ce| (t, ce.name.clone(), ce.id.clone()))
    })
}

fn refuse_nothing_met(judged: &Judged, level: Level, what: &str) -> anyhow::Error {
    // Achievements and links count only after the progress delay: a competency about to be
    // met is worth naming with the instant it will be.
    let delay = chrono::TimeDelta::hours(i64::from(judged.rulebook.program.progress_delay_hours));
    if let Some(later) = judged.eval.at.checked_add_signed(delay)
        && let Some((when, name, id)) = met_soon(judged, level, later)
    {
        return refused(format!(
            "no competency is met at {level} yet, so {what}: {name} ({id}) will be met at {} \
             once recent achievements and MSA links have counted for {} hours; try again \
             then",
            crate::support::clock::rfc3339(when),
            judged.rulebook.program.progress_delay_hours
        ));
    }
    let closest = closest_options(judged, level);
    let hint = if closest.is_empty() {
        String::new()
    } else {
        format!("; the closest: {}", closest.join("; "))
    };
    refused(format!(
        "no competency is met at {level} now, so {what}{hint}: `competency competencies gaps` \
         lists what each competency lacks"
    ))
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Silver => "Silver",
        Level::Gold => "Gold",
    }
}

fn fee(rb: &Rulebook, level: Level) -> f64 {
    match level {
        Level::Silver => rb.fees.silver as f64,
        Level::Gold => rb.fees.gold as f64,
    }
}

/// Buys a membership at `level`: refused unless a competency is met at that level now;
/// Gold holders cannot buy Silver; a holder of the same level renews instead. Silver → Gold
/// (25 % off when a competency displayed at Silver is the one met at Gold) and a purchase
/// after a lapse start a new term today.
pub fn upgrade(db: &Db, org: &Org, actor: &Actor, level: Level) -> Result<Purchased> {
    let at = actor.at;
    let rulebook = records::rulebook(db, org)?;
    let m = membership(db, org, &rulebook.program, at)?;
    let held = m.as_ref().filter(|m| m.state.is_held());
    if let Some(h) = held {
        let a = h.dates.anniversary;
        if h.level() == Level::Gold && level == Level::Silver {
            return Err(refused(format!(
                "{} holds a Gold membership until {a}: Gold includes the Silver benefits, and a \
                 Gold holder cannot buy Silver",
                org.name
            )));
        }
        if h.level() == level {
            return Err(refused(format!(
                "{} already holds a {} membership until {a}: renew it with `competency \
                 membership renew` between {} and {}",
                org.name,
                level_name(level),
                h.dates.renewal_opens,
                h.dates.window_closes()
            )));
        }
    }
    let judged = judge_with(db, org, rulebook, at)?;
    let met: Vec<&CompetencyEval> = judged
        .eval
        .competencies
        .iter()
        .filter(|ce| ce.level(level).met)
        .collect();
    if met.is_empty() {
        return Err(refuse_nothing_met(
            &judged,
            level,
            &format!("{} cannot buy {}", org.name, level_name(level)),
        ));
    }
    let list = fee(&judged.rulebook, level);
    let mut charged = list;
    let mut discount = None;
    let previous = held.map(Membership::level);
    if let Some(h) = held.filter(|h| h.level() == Level::Silver && level == Level::Gold) {
        let rows = displayed_from(&db.attainments(&h.display_terms(at))?, Level::Silver);
        let shown = displayed_at(&judged, h, at, Level::Silver, &rows);
        if let Some(ce) = met.iter().find(|ce| shown.contains_key(&ce.id)) {
            charged = list * (1.0 - SILVER_TO_GOLD_DISCOUNT);
            discount = Some(format!(
                "25% Silver-to-Gold upgrade discount ({} from Silver to Gold)",
                ce.id
            ));
        }
    }
    let today = at.date_naive();
    let term = judged.rulebook.program.term_months;
    let anniversary = storable_anniversary(add_term(today, term, today.day()))?;
    let id = db.insert_purchase(
        org.id,
        &NewPurchase {
            kind: "upgrade",
            level,
            term_start: today,
            anniversary,
            anchor_day: today.day(),
            list_fee_usd: list,
            fee_usd: charged,
            discount: discount.as_deref(),
        },
        at,
    )?;
    db.audit(
        Some(org.id),
        at,
        &actor.name,
        "membership.upgrade",
        &org.slug,
        &format!(
            "level={level} from={} fee={} USD (list {} USD{}) term={today}..{anniversary} met={}",
            previous.map_or("none", Level::as_str),
            number(charged),
            number(list),
            discount
                .as_deref()
                .map(|d| format!(", {d}"))
                .unwrap_or_default(),
            met.iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ),
    )?;
    finish_purchase(db, org, actor, judged, id, previous)
}

/// Records the attainments of a new term from the evaluation that allowed it, reconciles
/// alerts, and returns the purchase.
fn finish_purchase(
    db: &Db,
    org: &Org,
    actor: &Actor,
    judged: Judged,
    id: i64,
    previous: Option<Level>,
) -> Result<Purchased> {
    let program = judged.rulebook.program.clone();
    let m = membership(db, org, &program, actor.at)?
        .ok_or_else(|| anyhow::anyhow!("the purchase just recorded is missing"))?;
    debug_assert_eq!(m.current.id, id);
    // The attainments of the new term are what the evaluation that allowed it found met;
    // syncing records them and closes alerts of competencies no longer displayed.
    let synced = sync_with(db, org, actor, None, Some(judged))?;
    Ok(Purchased {
        purchase: m.current.clone(),
        previous,
        competencies: synced.displayed,
        dates: m.dates,
    })
}

/// Renews the held membership for one more term: only inside the renewal window and only
/// when a competency is met at the held level now. The new anniversary is A + term.
pub fn renew(db: &Db, org: &Org, actor: &Actor) -> Result<Purchased> {
    let at = actor.at;
    let rulebook = records::rulebook(db, org)?;
    let Some(m) = membership(db, org, &rulebook.program, at)? else {
        return Err(refused(format!(
            "{} has no membership to renew: buy one with `competency membership upgrade \
             --level silver` (or gold)",
            org.name
        )));
    };
    let level = m.level();
    let d = m.dates;
    if m.state == State::Lapsed {
        return Err(refused(format!(
            "the {} membership of {} lapsed on {} (the renewal window closed at the end of {}): \
             start afresh with `competency membership upgrade --level {level}`",
            level_name(level),
            org.name,
            d.lapses,
            d.window_closes()
        )));
    }
    if !d.window_open(at) {
        let already = if m.current.is_renewal() && at < start_of(m.current.term_start) {
            format!(
                " (already renewed on {})",
                m.current.purchased_at.date_naive()
            )
        } else {
            String::new()
        };
        return Err(refused(format!(
            "the renewal window of the {} membership{already} opens on {} ({} days before the \
             anniversary on {}) and closes at the end of {}; today is {}",
            level_name(level),
            d.renewal_opens,
            rulebook.program.renewal_opens_days,
            d.anniversary,
            d.window_closes(),
            at.date_naive()
        )));
    }
    let judged = judge_with(db, org, rulebook, at)?;
    if !judged
        .eval
        .competencies
        .iter()
        .any(|ce| ce.level(level).met)
    {
        return Err(refuse_nothing_met(
            &judged,
            level,
            &format!(
                "the {} membership cannot be renewed (requirements must be met again)",
                level_name(level)
            ),
        ));
    }
    let program = &judged.rulebook.program;
    let anniversary = storable_anniversary(add_term(
        d.anniversary,
        program.term_months,
        m.current.anchor_day,
    ))?;
    let list = fee(&judged.rulebook, level);
    let id = db.insert_purchase(
        org.id,
        &NewPurchase {
            kind: "renewal",
            level,
            term_start: d.anniversary,
            anniversary,
            anchor_day: m.current.anchor_day,
            list_fee_usd: list,
            fee_usd: list,
            discount: None,
        },
        at,
    )?;
    db.audit(
        Some(org.id),
        at,
        &actor.name,
        "membership.renew",
        &org.slug,
        &format!(
            "level={level} fee={} USD term={}..{anniversary}",
            number(list),
            d.anniversary
        ),
    )?;
    finish_purchase(db, org, actor, judged, id, Some(level))
}

// ---------------------------------------------------------------------------------------
// Read-only views
// ---------------------------------------------------------------------------------------

/// The business profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The organization's name.
    pub organization: String,
    /// The level held, `None` without a held membership.
    pub level: Option<Level>,
    /// The state.
    pub state: State,
    /// The anniversary of the latest term.
    pub anniversary: Option<NaiveDate>,
    /// The competencies displayed.
    pub competencies: Vec<Displayed>,
}

/// The membership at `at` (for `status`), with the rulebook that dates it.
pub fn status(db: &Db, org: &Org, at: DateTime<Utc>) -> Result<Option<Membership>> {
    let rb = records::rulebook(db, org)?;
    membership(db, org, &rb.program, at)
}

/// The business profile at `at`: what the attainments of the term in force display.
pub fn profile(db: &Db, org: &Org, at: DateTime<Utc>) -> Result<Profile> {
    let rb = records::rulebook(db, org)?;
    let m = membership(db, org, &rb.program, at)?;
    let (level, competencies) = match &m {
        Some(m) if m.state.is_held() => {
            let rows = displayed_from(&db.attainments(&m.display_terms(at))?, m.level());
            let judged = judge_with(db, org, rb, at)?;
            (
                Some(m.level()),
                displayed_at(&judged, m, at, m.level(), &rows)
                    .into_values()
                    .collect(),
            )
        }
        _ => (None, Vec::new()),
    };
    Ok(Profile {
        organization: org.name.clone(),
        level,
        state: m.as_ref().map_or(State::None, |m| m.state),
        anniversary: m.as_ref().map(|m| m.dates.anniversary),
        competencies,
    })
}

/// The organization's alerts, open ones only unless `all`.
pub fn alerts(db: &Db, org: &Org, all: bool) -> Result<Vec<Alert>> {
    Ok(db
        .alerts(org.id, all)?
        .into_iter()
        .map(|row| Alert {
            org: org.name.clone(),
            ..Alert::from(row)
        })
        .collect())
}

/// The benefits the current membership gives.
#[derive(Debug, Clone)]
pub struct BenefitsView {
    /// The level held.
    pub level: Option<Level>,
    /// The state.
    pub state: State,
    /// The membership's benefits (Gold includes Silver's).
    pub membership: Vec<String>,
    /// Each displayed competency with the benefits of its level (and those below).
    pub competencies: Vec<(Displayed, Vec<String>)>,
}

/// The benefits of the held level and of each displayed competency, from the rulebook.
pub fn benefits(db: &Db, org: &Org, at: DateTime<Utc>) -> Result<BenefitsView> {
    let rb = records::rulebook(db, org)?;
    let p = profile(db, org, at)?;
    let Some(level) = p.level else {
        return Ok(BenefitsView {
            level: None,
            state: p.state,
            membership: Vec::new(),
            competencies: Vec::new(),
        });
    };
    let own = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<Vec<_>>();
    let competencies = p
        .competencies
        .into_iter()
        .map(|d| {
            let b = rb
                .competency(&d.id)
                .and_then(|c| c.benefits.as_ref())
                .map(|b| own(b.up_to(d.level)))
                .unwrap_or_default();
            (d, b)
        })
        .collect();
    Ok(BenefitsView {
        level: Some(level),
        state: p.state,
        membership: own(rb.membership_benefits(level)),
        competencies,
    })
}

// ---------------------------------------------------------------------------------------
// The cron check
// ---------------------------------------------------------------------------------------

/// The outcome of `membership check`, with its exit code (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    /// Nothing to do.
    Ok,
    /// Still eligible, but the renewal window is open or something expires by the
    /// anniversary.
    Warning,
    /// A displayed competency is no longer met.
    AtRisk,
    /// No active or renewal-due membership.
    None,
}

impl CheckStatus {
    /// The name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Warning => "warning",
            CheckStatus::AtRisk => "at-risk",
            CheckStatus::None => "none",
        }
    }

    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            CheckStatus::Ok => 0,
            CheckStatus::Warning => 3,
            CheckStatus::AtRisk => 4,
            CheckStatus::None => 5,
        }
    }
}

/// What `membership check` found.
#[derive(Debug, Clone)]
pub struct Check {
    /// The status.
    pub status: CheckStatus,
    /// The membership, if ever bought.
    pub membership: Option<Membership>,
    /// A competency is met at the held level now (and the membership is held).
    pub renewal_eligible: bool,
    /// The renewal window is open now.
    pub window_open: bool,
    /// Every open alert.
    pub alerts: Vec<Alert>,
    /// The alerts this check raised.
    pub raised: Vec<Alert>,
    /// Achievements displayed competencies rely on that stop counting by the anniversary.
    pub expiring: Vec<Expiring>,
    /// The competencies displayed.
    pub displayed: Vec<Displayed>,
}

/// Evaluates now (one snapshot, one evaluation), records attainments and alerts, and
/// judges the membership for cron.
pub fn check(db: &Db, org: &Org, actor: &Actor) -> Result<Check> {
    let mut synced = sync(db, org, actor, None)?;
    let alerts = alerts(db, org, false)?;
    let judged_owned = synced.judged.take();
    let (Some(m), Some(judged)) = (&synced.membership, &judged_owned) else {
        return Ok(Check {
            status: CheckStatus::None,
            membership: synced.membership,
            renewal_eligible: false,
            window_open: false,
            alerts,
            raised: synced.raised,
            expiring: Vec::new(),
            displayed: Vec::new(),
        });
    };
    let renewal_eligible = judged
        .eval
        .competencies
        .iter()
        .any(|ce| ce.level(m.level()).met);
    let window_open = m.dates.window_open(actor.at);
    let expiring = expiring(judged, &synced.displayed, m.dates.anniversary);
    let status = if !alerts.is_empty() {
        CheckStatus::AtRisk
    } else if window_open || !expiring.is_empty() {
        CheckStatus::Warning
    } else {
        CheckStatus::Ok
    };
    let check = Check {
        status,
        renewal_eligible,
        window_open,
        alerts,
        raised: synced.raised,
        expiring,
        displayed: synced.displayed,
        membership: synced.membership,
    };
    if let Some(j) = judged_owned {
        crate::domain::judge::discard(j);
    }
    Ok(check)
}

/// For each displayed competency met now, the achievements its met option relies on
/// (`Counted::uses`) that stop counting on or before the anniversary. A competency with
/// another met option free of such expiries is safe and not listed.
pub fn expiring(judged: &Judged, displayed: &[Displayed], anniversary: NaiveDate) -> Vec<Expiring> {
    // The judgement `what-if --expire-before ANNIVERSARY` makes: with every achievement that
    // stops counting before the anniversary expired now, which displayed competencies break?
    // Another holder who keeps one met means no warning for it.
    // That costs an evaluation, made only when some met option's counted people do have
    // something expiring (otherwise that option, and so the competency, stays met).
    let after = std::cell::OnceCell::new();
    let suppose = || {
        let mut supposed = judged.snapshot.clone();
        expire_before(&mut supposed, &judged.rulebook, anniversary);
        evaluate(&judged.rulebook, &supposed, judged.eval.at)
    };
    let mut out = Vec::new();
    for d in displayed {
        let Some(ce) = judged.eval.competency(&d.id) else {
            continue;
        };
        if !ce.level(d.level).met {
            continue;
        }
        let candidates: Vec<Vec<Expiring>> = Level::ALL
            .into_iter()
            .filter(|l| *l >= d.level)
            .flat_map(|l| ce.level(l).options.iter().filter(|o| o.met))
            .map(|o| {
                let mut list = Vec::new();
                for r in &o.requirements {
                    let RequirementDetail::People { counted, .. } = &r.detail else {
                        continue;
                    };
                    for c in counted {
                        for u in &c.uses {
                            if let Some(e) = u.expires.filter(|e| *e < anniversary) {
                                list.push(Expiring {
                                    competency: d.id.clone(),
                                    name: d.name.clone(),
                                    level: d.level,
                                    username: c.username.clone(),
                                    msa: judged
                                        .snapshot
                                        .people
                                        .get(c.person)
                                        .map(|p| p.msa.clone())
                                        .unwrap_or_default(),
                                    code: u.code.clone(),
                                    expires: e,
                                });
                            }
                        }
                    }
                }
                list
            })
            .collect();
        if candidates.iter().any(Vec::is_empty)
            || after
                .get_or_init(suppose)
                .competency(&d.id)
                .is_some_and(|a| a.level(d.level).met)
        {
            continue;
        }
        // Every met option breaks; name what expires in the first.
        if let Some(first) = candidates.into_iter().next() {
            out.extend(first);
        }
    }
    out.sort_by(|a, b| a.expires.cmp(&b.expires).then(a.code.cmp(&b.code)));
    out
}

// ---------------------------------------------------------------------------------------
// What-if
// ---------------------------------------------------------------------------------------

/// One competency's level now and after the hypothetical changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelChange {
    /// The competency id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// The level met now.
    pub now: Option<Level>,
    /// The level that would be met.
    pub after: Option<Level>,
}

/// What `membership what-if` found.
#[derive(Debug, Clone)]
pub struct WhatIf {
    /// The accounts supposed gone, by user name.
    pub removed: Vec<String>,
    /// Achievements stopping counting before this day supposed expired.
    pub expire_before: Option<NaiveDate>,
    /// Every competency whose level would change.
    pub changes: Vec<LevelChange>,
    /// Displayed competencies that would no longer be met (each would raise an alert),
    /// with the requirement that would fall short.
    pub broken: Vec<(Displayed, String)>,
    /// The membership, if ever bought.
    pub membership: Option<Membership>,
    /// Renewal possible now (held and a competency met at the held level).
    pub renewal_possible_now: bool,
    /// Renewal possible after the changes.
    pub renewal_possible_after: bool,
}

/// Evaluates the organization as if these users had left now and achievements stopping
/// counting before `expire_before` had expired. Reads only: nothing is recorded.
pub fn what_if(
    db: &Db,
    org: &Org,
    at: DateTime<Utc>,
    remove_users: &[String],
    expire: Option<NaiveDate>,
) -> Result<WhatIf> {
    if remove_users.is_empty() && expire.is_none() {
        return Err(bad_input(
            "say what to suppose: --remove-user USER (repeatable) and/or --expire-before DATE",
        ));
    }
    let mut ids = Vec::new();
    let mut removed = Vec::new();
    for key in remove_users {
        let u = accounts::find(db, org, key)?;
        ids.push(u.id);
        removed.push(u.username);
    }
    let rulebook = records::rulebook(db, org)?;
    let m = membership(db, org, &rulebook.program, at)?;
    let now = judge_with(db, org, rulebook, at)?;
    let mut snap = now.snapshot.clone();
    snap.without_users(&ids, at);
    if let Some(d) = expire {
        expire_before(&mut snap, &now.rulebook, d);
    }
    let after_eval = evaluate(&now.rulebook, &snap, at);
    let after = Judged {
        rulebook: now.rulebook.clone(),
        snapshot: snap,
        eval: after_eval,
    };
    let changes = now
        .eval
        .competencies
        .iter()
        .zip(&after.eval.competencies)
        .filter(|(a, b)| a.achieved != b.achieved)
        .map(|(a, b)| LevelChange {
            id: a.id.clone(),
            name: a.name.clone(),
            now: a.achieved,
            after: b.achieved,
        })
        .collect();
    let held = m.as_ref().filter(|m| m.state.is_held());
    let mut broken = Vec::new();
    let (mut possible_now, mut possible_after) = (false, false);
    if let Some(h) = held {
        let level = h.level();
        let rows = displayed_from(&db.attainments(&h.display_terms(at))?, level);
        let mut shown = displayed_at(&now, h, at, level, &rows);
        for ce in &now.eval.competencies {
            if let Some(l) = met_levels(ce, level).last() {
                let e = shown.entry(ce.id.clone()).or_insert_with(|| Displayed {
                    id: ce.id.clone(),
                    name: ce.name.clone(),
                    level: l,
                    attained: at,
                    last_met: at,
                });
                e.level = e.level.max(l);
            }
        }
        for d in shown.into_values() {
            let still = after
                .eval
                .competency(&d.id)
                .is_some_and(|ce| ce.level(d.level).met);
            let was = now
                .eval
                .competency(&d.id)
                .is_some_and(|ce| ce.level(d.level).met);
            if was && !still {
                let why = shortfall(&after, &d.id, d.level);
                broken.push((d, why));
            }
        }
        possible_now = now.eval.competencies.iter().any(|c| c.level(level).met);
        possible_after = after.eval.competencies.iter().any(|c| c.level(level).met);
    }
    Ok(WhatIf {
        removed,
        expire_before: expire,
        changes,
        broken,
        membership: m,
        renewal_possible_now: possible_now,
        renewal_possible_after: possible_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn program() -> Program {
        Rulebook::default_rulebook().program
    }

    #[test]
    fn anniversaries_keep_the_day_of_the_month() {
        assert_eq!(add_term(d("2026-01-31"), 12, 31), d("2027-01-31"));
        assert_eq!(add_term(d("2024-02-29"), 12, 29), d("2025-02-28"));
        assert_eq!(add_term(d("2025-02-28"), 12, 29), d("2026-02-28"));
        assert_eq!(add_term(d("2027-02-28"), 12, 29), d("2028-02-29"));
        // One-month terms from Jan 31: Feb 28, then back to Mar 31, not Mar 28.
        assert_eq!(add_term(d("2026-01-31"), 1, 31), d("2026-02-28"));
        assert_eq!(add_term(d("2026-02-28"), 1, 31), d("2026-03-31"));
        assert_eq!(add_term(d("2026-03-31"), 1, 31), d("2026-04-30"));
        assert_eq!(add_term(d("2026-06-15"), 12, 15), d("2027-06-15"));
    }

    #[test]
    fn states_change_at_midnight_of_the_anniversary_and_of_the_lapse() {
        let dates = Dates::new(d("2027-01-31"), &program());
        assert_eq!(dates.renewal_opens, d("2027-01-01"));
        assert_eq!(dates.lapses, d("2027-03-02"));
        assert_eq!(dates.window_closes(), d("2027-03-01"));
        let t = |s: &str| crate::support::clock::parse_instant(s).unwrap();
        assert_eq!(dates.state_at(t("2027-01-30T23:59:59Z")), State::Active);
        assert_eq!(dates.state_at(t("2027-01-31")), State::RenewalDue);
        assert_eq!(dates.state_at(t("2027-03-01T23:59:59Z")), State::RenewalDue);
        assert_eq!(dates.state_at(t("2027-03-02")), State::Lapsed);
        assert!(!dates.window_open(t("2026-12-31T23:59:59Z")));
        assert!(dates.window_open(t("2027-01-01")));
        assert!(dates.window_open(t("2027-03-01T12:00:00Z")));
        assert!(!dates.window_open(t("2027-03-02")));
    }

    #[test]
    fn check_exit_codes_follow_the_contract() {
        assert_eq!(CheckStatus::Ok.exit_code(), 0);
        assert_eq!(CheckStatus::Warning.exit_code(), 3);
        assert_eq!(CheckStatus::AtRisk.exit_code(), 4);
        assert_eq!(CheckStatus::None.exit_code(), 5);
    }

    #[test]
    fn displayed_keeps_the_highest_level_per_competency() {
        let t = crate::support::clock::parse_instant("2026-01-01").unwrap();
        let row = |c: &str, l: Level| AttainmentRow {
            term_id: 1,
            competency: c.into(),
            name: c.into(),
            level: l,
            attained_at: t,
            last_met_at: t,
        };
        let rows = vec![
            row("a", Level::Silver),
            row("a", Level::Gold),
            row("b", Level::Silver),
        ];
        let shown = displayed_from(&rows, Level::Gold);
        assert_eq!(shown["a"].level, Level::Gold);
        assert_eq!(shown["b"].level, Level::Silver);
        let silver_only = displayed_from(&rows, Level::Silver);
        assert_eq!(silver_only["a"].level, Level::Silver);
    }
}
