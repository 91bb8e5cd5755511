//! The report: one self-contained HTML page a partner manager reads at a glance.
//!
//! This module owns *what* the page says: [`gather`] reads one organization in one read
//! transaction and builds a [`View`] from the same typed results the commands print
//! (`membership status`, `competencies progress` and `risk`, `membership alerts`), so the
//! page and `--format json` of those commands agree for the same `--now`. [`html`] owns how
//! it looks; it never reads the database. Nothing here writes to the database.

pub mod designations;
pub mod html;

use anyhow::Result;
use chrono::{DateTime, Months, NaiveDate, Utc};

use crate::domain::judge::{self, Judged};
use crate::domain::membership::{self as svc, Alert, Dates, Displayed, Membership};
use crate::rules::designations::DesignationScore;
use crate::rules::engine::{RequirementDetail, RequirementEval};
use crate::rules::{Level, Metric, evaluate, explain, risk};
use crate::store::{Db, Org};

pub use designations::{DesignationItemView, DesignationView};

/// Everything the page shows, as plain data.
#[derive(Debug, Clone)]
pub struct View {
    /// The instant the page describes (`--now`).
    pub at: DateTime<Utc>,
    /// The organization.
    pub org: Org,
    /// The membership, if one was ever bought (as `membership status`).
    pub membership: Option<Membership>,
    /// The competencies the business profile displays (as `membership profile`).
    pub displayed: Vec<Displayed>,
    /// Each competency with each level (as `competencies progress`).
    pub competencies: Vec<CompetencyView>,
    /// Open alerts (as `membership alerts`).
    pub alerts: Vec<Alert>,
    /// What stops counting in the next 12 months.
    pub timeline: Timeline,
    /// For each level met now, who the organization cannot afford to lose (as
    /// `competencies risk`).
    pub risks: Vec<RiskView>,
    /// Solutions Partner designations (as `designations list` and `designations score`);
    /// empty when the rulebook has none.
    pub designations: Vec<DesignationView>,
    /// The organization's rulebook has no designations and [`View::designations`] scores
    /// the same people under the embedded `solutions-partner` rulebook, as step 7 of
    /// `competency demo` does: a preview, with no state or dates.
    pub designations_preview: bool,
    /// For each designation enrolled or qualified now, who the organization cannot afford
    /// to lose (as `designations what-if --remove-user`); empty for a preview.
    pub designation_risks: Vec<DesignationRisk>,
}

/// One designation held or qualified now and the people whose departure alone would stop
/// it qualifying (below the threshold, or a required item at 0).
#[derive(Debug, Clone)]
pub struct DesignationRisk {
    /// The designation id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// User names, sorted.
    pub critical: Vec<String>,
    /// Their account ids, in the same order.
    pub critical_ids: Vec<i64>,
}

/// One competency.
#[derive(Debug, Clone)]
pub struct CompetencyView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its solution area.
    pub area: String,
    /// The level met now.
    pub achieved: Option<Level>,
    /// Silver then Gold: the option `competencies progress` shows for each.
    pub levels: Vec<LevelView>,
}

/// One level of a competency, measured against its met or closest option.
#[derive(Debug, Clone)]
pub struct LevelView {
    /// The level.
    pub level: Level,
    /// Met now.
    pub met: bool,
    /// The option shown (first met, else closest).
    pub option: String,
    /// Its requirements.
    pub requirements: Vec<RequirementView>,
}

/// One requirement with have / need.
#[derive(Debug, Clone)]
pub struct RequirementView {
    /// As the engine describes it.
    pub description: String,
    /// What the organization has.
    pub have: f64,
    /// What it needs.
    pub need: f64,
    /// `have` formatted as the table of `competencies progress` formats it.
    pub have_text: String,
    /// `need` formatted likewise.
    pub need_text: String,
    /// Met.
    pub met: bool,
    /// The user names counted.
    pub counted: Vec<String>,
}

/// One level met now and its critical people.
#[derive(Debug, Clone)]
pub struct RiskView {
    /// The competency id.
    pub competency: String,
    /// Its name.
    pub name: String,
    /// The level.
    pub level: Level,
    /// User names whose departure alone would break the level.
    pub critical: Vec<String>,
}

/// The renewal timeline: from the report's day to 12 months later.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// The first day shown (the report's day).
    pub from: NaiveDate,
    /// The last day shown.
    pub to: NaiveDate,
    /// One row per person, by the first date something of theirs stops counting.
    pub rows: Vec<TimelineRow>,
}

/// One person's achievements that stop counting within the timeline.
#[derive(Debug, Clone)]
pub struct TimelineRow {
    /// The user name.
    pub username: String,
    /// Their achievements, earliest stop first.
    pub bars: Vec<TimelineBar>,
}

/// One counting achievement and the day it stops counting.
#[derive(Debug, Clone)]
pub struct TimelineBar {
    /// The catalogue code.
    pub code: String,
    /// The first day it no longer counts.
    pub stops: NaiveDate,
    /// The levels met now that losing it alone (today) would break, e.g. "Cloud Platform
    /// gold". Empty: another holder or option covers it.
    pub breaks: Vec<String>,
}

/// Reads and judges `org` at `at` and builds the page's data. Reads only.
pub fn gather(db: &Db, org: &Org, at: DateTime<Utc>) -> Result<View> {
    let judged = judge::judge(db, org, at)?;
    let membership = svc::status(db, org, at)?;
    let displayed = svc::profile(db, org, at)?.competencies;
    let alerts = svc::alerts(db, org, false)?;
    let competencies = competencies(&judged);
    let raw = risk(&judged.rulebook, &judged.snapshot, at, &judged.eval);
    let critical: Vec<(i64, String, Level)> = raw
        .iter()
        .flat_map(|r| {
            r.critical
                .iter()
                .map(|(u, _)| (*u, r.competency.clone(), r.level))
        })
        .collect();
    let risks = raw
        .into_iter()
        .map(|r| RiskView {
            competency: r.competency,
            name: r.name,
            level: r.level,
            critical: r.critical.into_iter().map(|(_, u)| u).collect(),
        })
        .collect();
    let mut judged = judged;
    let (designations, designations_preview, designation_risks) =
        designations(db, org, &mut judged, at)?;
    let timeline = timeline(judged, at, &critical, &designation_risks);
    Ok(View {
        at,
        org: org.clone(),
        membership,
        displayed,
        competencies,
        alerts,
        timeline,
        risks,
        designations,
        designations_preview,
        designation_risks,
    })
}

/// The designations as `designations list` (score, state, enrolment) and `designations
/// score` (the counting track's items) show them, read through the same service functions
/// in the caller's transaction. A rulebook without designations gives the preview under the
/// embedded `solutions-partner` rulebook instead (see [`View::designations_preview`]), when
/// the organization has people or figures to score.
fn designations(
    db: &Db,
    org: &Org,
    judged: &mut Judged,
    at: DateTime<Utc>,
) -> Result<(Vec<DesignationView>, bool, Vec<DesignationRisk>)> {
    if judged.rulebook.designations.is_empty() {
        // An organization with nobody and no figures has nothing to preview.
        if judged.snapshot.people.is_empty() && judged.snapshot.performance.is_empty() {
            return Ok((Vec::new(), false, Vec::new()));
        }
        let sp = crate::rules::Rulebook::parse(
            crate::rules::rulebook::SOLUTIONS_PARTNER_RULEBOOK,
            "solutions-partner",
        )?;
        let list = crate::rules::designations::score(&sp, &judged.snapshot, at)
            .iter()
            .map(|s| designation_view(s, "preview".to_owned(), None, None))
            .collect();
        return Ok((list, true, Vec::new()));
    }
    let listed = crate::domain::designations::list_with(db, org, at, true)?;
    let risks = designation_risks(judged, &listed, at);
    let program = &judged.rulebook.program;
    let list = listed
        .iter()
        .map(|l| {
            let dates = l
                .enrolment
                .as_ref()
                .map(|e| (e.term_start, Dates::new(e.anniversary, program)));
            designation_view(
                &l.score,
                l.state.as_str().to_owned(),
                dates,
                l.qualified_since,
            )
        })
        .collect();
    Ok((list, false, risks))
}

/// For each designation that qualifies now and is enrolled, renewal-due or qualified, the
/// people counted in its counting track whose departure alone (`designations what-if
/// --remove-user`) would stop it qualifying. A departure only takes points away from the
/// items that person is counted in, so only they are candidates; each candidate is
/// re-scored once (their association ended at `at`, then restored), for every designation
/// they are counted in.
fn designation_risks(
    judged: &mut Judged,
    listed: &[crate::domain::designations::Listed],
    at: DateTime<Utc>,
) -> Vec<DesignationRisk> {
    use crate::domain::designations::DState;
    let watched: Vec<&DesignationScore> = listed
        .iter()
        .filter(|l| l.score.qualified() && (l.state.is_held() || l.state == DState::Qualified))
        .map(|l| &l.score)
        .collect();
    // (user id, user name, designation ids counting them)
    let mut candidates: Vec<(i64, String, Vec<&str>)> = Vec::new();
    for s in &watched {
        let Some(track) = s.best_track() else {
            continue;
        };
        for item in &track.items {
            for (uid, name) in item.user_ids.iter().zip(&item.people) {
                match candidates.iter_mut().find(|c| c.0 == *uid) {
                    Some(c) if !c.2.contains(&s.id.as_str()) => c.2.push(&s.id),
                    Some(_) => {}
                    None => candidates.push((*uid, name.clone(), vec![&s.id])),
                }
            }
        }
    }
    let mut out: Vec<DesignationRisk> = watched
        .iter()
        .map(|s| DesignationRisk {
            id: s.id.clone(),
            name: s.name.clone(),
            critical: Vec::new(),
            critical_ids: Vec::new(),
        })
        .collect();
    let snap = &mut judged.snapshot;
    for (uid, name, ids) in candidates {
        let saved: Vec<(usize, Option<DateTime<Utc>>)> = snap
            .people
            .iter()
            .enumerate()
            .filter(|(_, p)| p.user_id == uid)
            .map(|(i, p)| (i, p.ended))
            .collect();
        snap.without_users(&[uid], at);
        for id in ids {
            let after =
                crate::rules::designations::score_designation(&judged.rulebook, snap, id, at);
            if after.is_some_and(|a| !a.qualified())
                && let Some(r) = out.iter_mut().find(|r| r.id == id)
            {
                r.critical.push(name.clone());
                r.critical_ids.push(uid);
            }
        }
        for (i, ended) in saved {
            snap.people[i].ended = ended;
        }
    }
    for r in &mut out {
        let mut both: Vec<(String, i64)> =
            r.critical.drain(..).zip(r.critical_ids.drain(..)).collect();
        both.sort();
        (r.critical, r.critical_ids) = both.into_iter().unzip();
    }
    out
}

fn designation_view(
    s: &DesignationScore,
    state: String,
    enrolment: Option<(NaiveDate, Dates)>,
    qualified_since: Option<DateTime<Utc>>,
) -> DesignationView {
    let track = s.best_track();
    DesignationView {
        id: s.id.clone(),
        name: s.name.clone(),
        score: s.score(),
        threshold: s.threshold,
        qualified: s.qualified(),
        state,
        track: match (track, s.tracks.len()) {
            (Some(t), 2..) => Some(t.track.clone()),
            _ => None,
        },
        items: track
            .map(|t| {
                t.items
                    .iter()
                    .map(|i| DesignationItemView {
                        name: i.name.clone(),
                        points: i.points,
                        max_points: i.max_points,
                        required: i.required,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        term_start: enrolment.as_ref().map(|(t, _)| *t),
        dates: enrolment.map(|(_, d)| d),
        qualified_since,
    }
}

fn competencies(judged: &Judged) -> Vec<CompetencyView> {
    judged
        .eval
        .competencies
        .iter()
        .map(|c| CompetencyView {
            id: c.id.clone(),
            name: c.name.clone(),
            area: c.area.clone(),
            achieved: c.achieved,
            levels: c
                .levels
                .iter()
                .filter_map(|l| {
                    let opt = l.options.get(l.best)?;
                    Some(LevelView {
                        level: l.level,
                        met: l.met,
                        option: opt.name.clone(),
                        requirements: opt.requirements.iter().map(requirement).collect(),
                    })
                })
                .collect(),
        })
        .collect()
}

fn requirement(r: &RequirementEval) -> RequirementView {
    let (have_text, need_text, counted) = match &r.detail {
        RequirementDetail::Metric { metric, .. } => {
            (amount(*metric, r.have), amount(*metric, r.need), Vec::new())
        }
        RequirementDetail::People { counted, .. } => (
            explain::thousands(r.have),
            explain::thousands(r.need),
            counted.iter().map(|c| c.username.clone()).collect(),
        ),
    };
    RequirementView {
        description: r.description.clone(),
        have: r.have,
        need: r.need,
        have_text,
        need_text,
        met: r.met,
        counted,
    }
}

fn amount(metric: Metric, v: f64) -> String {
    explain::amount(metric, v)
}

/// Every achievement a counted person is counted through (in the option each level shows)
/// that stops counting after today and within 12 months, and which met levels losing it
/// alone would break: the snapshot is re-evaluated today with that person's records of
/// the code expired.
///
/// Losing one achievement takes away less than the person leaving, and meeting a level
/// only ever needs more, so only the levels `critical` names for that person (`(user_id,
/// competency, level)` from [`risk`]) can break: everyone else's bars need no evaluation,
/// and the re-evaluations are bounded by the critical people, not the organization's size.
///
/// Designations likewise: only a person critical to a designation (see
/// [`designation_risks`]) can break it by losing one achievement, so only their
/// achievements stopping within the 12 months are re-scored, one at a time, against the
/// designations they are critical to; those that break one get a bar (or join the
/// competency bar of the same achievement) naming "<designation> designation".
fn timeline(
    judged: Judged,
    at: DateTime<Utc>,
    critical: &[(i64, String, Level)],
    designation_risks: &[DesignationRisk],
) -> Timeline {
    let from = at.date_naive();
    let to = from.checked_add_months(Months::new(12)).unwrap_or(from);
    // (username, user_id, code, stops), deduplicated.
    let mut found: Vec<(String, i64, String, NaiveDate)> = Vec::new();
    for c in &judged.eval.competencies {
        for l in &c.levels {
            let Some(opt) = l.options.get(l.best) else {
                continue;
            };
            for r in &opt.requirements {
                let RequirementDetail::People { counted, .. } = &r.detail else {
                    continue;
                };
                for p in counted {
                    for u in &p.uses {
                        let Some(stops) = u.expires.filter(|e| *e > from && *e <= to) else {
                            continue;
                        };
                        let key = (p.username.clone(), p.user_id, u.code.clone(), stops);
                        if !found.contains(&key) {
                            found.push(key);
                        }
                    }
                }
            }
        }
    }
    let met_now: Vec<(String, String, Level)> = met_levels(&judged);
    let Judged {
        rulebook,
        mut snapshot,
        eval,
    } = judged;
    let mut rows: Vec<TimelineRow> = Vec::new();
    for (username, user_id, code, stops) in found {
        let candidates: Vec<&(String, String, Level)> = met_now
            .iter()
            .filter(|(id, _, lv)| {
                critical
                    .iter()
                    .any(|(u, c, l)| *u == user_id && c == id && l == lv)
            })
            .collect();
        if candidates.is_empty() {
            push_bar(
                &mut rows,
                username,
                TimelineBar {
                    code,
                    stops,
                    breaks: Vec::new(),
                },
            );
            continue;
        }
        // Expire this person's records of the code, evaluate, restore.
        let mut saved = Vec::new();
        for (pi, person) in snapshot.people.iter_mut().enumerate() {
            if person.user_id != user_id {
                continue;
            }
            for (ai, a) in person.achievements.iter_mut().enumerate() {
                if *a.code == *code {
                    saved.push((pi, ai, a.expires));
                    a.expires = Some(a.earned);
                }
            }
        }
        let after = evaluate(&rulebook, &snapshot, at);
        for &(pi, ai, e) in &saved {
            snapshot.people[pi].achievements[ai].expires = e;
        }
        let breaks = candidates
            .into_iter()
            .filter(|(id, _, lv)| after.competency(id).is_some_and(|c| !c.level(*lv).met))
            .map(|(_, name, lv)| format!("{name} {}", lv.as_str()))
            .collect();
        push_bar(
            &mut rows,
            username,
            TimelineBar {
                code,
                stops,
                breaks,
            },
        );
    }
    designation_bars(
        &rulebook,
        &mut snapshot,
        at,
        (from, to),
        designation_risks,
        &mut rows,
    );
    for r in &mut rows {
        r.bars
            .sort_by(|a, b| a.stops.cmp(&b.stops).then(a.code.cmp(&b.code)));
    }
    rows.sort_by(|a, b| {
        a.bars[0]
            .stops
            .cmp(&b.bars[0].stops)
            .then(a.username.cmp(&b.username))
    });
    judge::discard(Judged {
        rulebook,
        snapshot,
        eval,
    });
    Timeline { from, to, rows }
}

/// Adds to `rows` the achievements of designation-critical people that stop counting in
/// `(from, to]` and whose loss alone stops a designation they are critical to qualifying.
fn designation_bars(
    rulebook: &crate::rules::Rulebook,
    snapshot: &mut crate::rules::snapshot::Snapshot,
    at: DateTime<Utc>,
    (from, to): (NaiveDate, NaiveDate),
    risks: &[DesignationRisk],
    rows: &mut Vec<TimelineRow>,
) {
    // (user id, user name, designations they are critical to)
    let mut people: Vec<(i64, &str, Vec<&DesignationRisk>)> = Vec::new();
    for r in risks {
        for (uid, name) in r.critical_ids.iter().zip(&r.critical) {
            match people.iter_mut().find(|p| p.0 == *uid) {
                Some(p) => p.2.push(r),
                None => people.push((*uid, name, vec![r])),
            }
        }
    }
    for (uid, username, designations) in people {
        // (code, stops) of this person's records, deduplicated.
        let mut codes: Vec<(std::sync::Arc<str>, NaiveDate)> = Vec::new();
        for p in snapshot.people.iter().filter(|p| p.user_id == uid) {
            for a in p.achievements.iter().filter(|a| a.removed.is_none()) {
                let Some(stops) = crate::rules::engine::counts_until(rulebook, a)
                    .filter(|e| *e > from && *e <= to)
                else {
                    continue;
                };
                if !codes.iter().any(|(c, s)| *c == a.code && *s == stops) {
                    codes.push((a.code.clone(), stops));
                }
            }
        }
        for (code, stops) in codes {
            let mut saved = Vec::new();
            for (pi, person) in snapshot.people.iter_mut().enumerate() {
                if person.user_id != uid {
                    continue;
                }
                for (ai, a) in person.achievements.iter_mut().enumerate() {
                    if a.code == code {
                        saved.push((pi, ai, a.expires));
                        a.expires = Some(a.earned);
                    }
                }
            }
            let breaks: Vec<String> = designations
                .iter()
                .filter(|d| {
                    crate::rules::designations::score_designation(rulebook, snapshot, &d.id, at)
                        .is_some_and(|s| !s.qualified())
                })
                .map(|d| format!("{} designation", d.name))
                .collect();
            for &(pi, ai, e) in &saved {
                snapshot.people[pi].achievements[ai].expires = e;
            }
            if breaks.is_empty() {
                continue;
            }
            let existing = rows
                .iter_mut()
                .find(|r| r.username == username)
                .and_then(|r| {
                    r.bars
                        .iter_mut()
                        .find(|b| *b.code == *code && b.stops == stops)
                });
            match existing {
                Some(b) => b.breaks.extend(breaks),
                None => push_bar(
                    rows,
                    username.to_owned(),
                    TimelineBar {
                        code: code.to_string(),
                        stops,
                        breaks,
                    },
                ),
            }
        }
    }
}

fn push_bar(rows: &mut Vec<TimelineRow>, username: String, bar: TimelineBar) {
    match rows.iter_mut().find(|r| r.username == username) {
        Some(r) => r.bars.push(bar),
        None => rows.push(TimelineRow {
            username,
            bars: vec![bar],
        }),
    }
}

fn met_levels(judged: &Judged) -> Vec<(String, String, Level)> {
    judged
        .eval
        .competencies
        .iter()
        .flat_map(|c| {
            c.levels
                .iter()
                .filter(|l| l.met)
                .map(|l| (c.id.clone(), c.name.clone(), l.level))
        })
        .collect()
}
