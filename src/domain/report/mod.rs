//! The report: one self-contained HTML page a partner manager reads at a glance.
//!
//! This module owns *what* the page says: [`gather`] reads one organization in one read
//! transaction and builds a [`View`] from the same typed results the commands print
//! (`membership status`, `competencies progress` and `risk`, `membership alerts`), so the
//! page and `--format json` of those commands agree for the same `--now`.
//!
//! Invariant: the view is plain data — numbers, rows, dates, the summary tiles, the
//! timeline's bars, the bus factor, the designations — with no markup, no escaping and no
//! CSS. How it looks is the output layer's (`output::report`), which renders it with a
//! template that escapes by construction and never reads the database. Nothing here writes
//! to the database.

pub mod designations;
mod timeline;

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::judge::{self, Judged};
use crate::domain::membership::{self as svc, Alert, Dates, Displayed, Membership, State};
use crate::rules::designations::DesignationScore;
use crate::rules::engine::{RequirementDetail, RequirementEval};
use crate::rules::{Level, Metric, explain, risk};
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
    /// Open designation alerts (as `designations alerts`): the tiles and the alerts
    /// section count them beside the competencies' (SPEC §9).
    pub designation_alerts: Vec<crate::domain::designations::Alert>,
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

/// The tiles at the top of the page: what a reader wants first, counted from the sections
/// below so that they never disagree with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The membership level in force (none without a membership or once it lapsed).
    pub level: Option<Level>,
    /// The membership's state, if one was ever bought.
    pub state: Option<State>,
    /// Competencies met at some level now.
    pub competencies_met: usize,
    /// Competencies in the rulebook.
    pub competencies: usize,
    /// Open competency and designation alerts.
    pub open_alerts: usize,
    /// Renewals in the timeline whose loss alone breaks a level or a designation.
    pub breaking_renewals: usize,
    /// Distinct people whose departure alone breaks a level or stops a designation
    /// qualifying.
    pub irreplaceable: usize,
}

impl View {
    /// The membership level in force: none without a membership or once it lapsed.
    pub fn membership_level(&self) -> Option<Level> {
        self.membership
            .as_ref()
            .filter(|m| m.state != State::Lapsed)
            .map(Membership::level)
    }

    /// The tiles at the top of the page.
    pub fn summary(&self) -> Summary {
        let mut names: Vec<&str> = self
            .risks
            .iter()
            .flat_map(|r| r.critical.iter().map(String::as_str))
            .chain(
                self.designation_risks
                    .iter()
                    .flat_map(|r| r.critical.iter().map(String::as_str)),
            )
            .collect();
        names.sort_unstable();
        names.dedup();
        Summary {
            level: self.membership_level(),
            state: self.membership.as_ref().map(|m| m.state),
            competencies_met: self
                .competencies
                .iter()
                .filter(|c| c.achieved.is_some())
                .count(),
            competencies: self.competencies.len(),
            open_alerts: self.alerts.len() + self.designation_alerts.len(),
            breaking_renewals: self.timeline.breaking(),
            irreplaceable: names.len(),
        }
    }
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
    /// How far along, from 0 to 1 (1 when nothing is needed).
    pub fraction: f64,
    /// [`RequirementView::fraction`] as a whole percentage, never `-0`.
    pub percent: f64,
    /// The user names counted.
    pub counted: Vec<String>,
    /// People waiting out the progress delay count from this instant (`have_text` says how
    /// many).
    pub pending_until: Option<DateTime<Utc>>,
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

impl Timeline {
    /// Bars in the timeline.
    pub fn bars(&self) -> usize {
        self.rows.iter().map(|r| r.bars.len()).sum()
    }

    /// Bars whose loss alone breaks a level or a designation.
    pub fn breaking(&self) -> usize {
        self.rows
            .iter()
            .flat_map(|r| &r.bars)
            .filter(|b| b.breaks_level())
            .count()
    }

    /// How far `d` lies into the timeline, from 0 (its first day) to 1 (its last).
    pub fn position(&self, d: NaiveDate) -> f64 {
        let span = (self.to - self.from).num_days().max(1) as f64;
        ((d - self.from).num_days() as f64 / span).clamp(0.0, 1.0)
    }

    /// The first day of each month inside the timeline, for its grid.
    pub fn months(&self) -> Vec<NaiveDate> {
        use chrono::Datelike;
        let mut out = Vec::new();
        let mut m =
            NaiveDate::from_ymd_opt(self.from.year(), self.from.month(), 1).unwrap_or(self.from);
        while m <= self.to {
            if m >= self.from {
                out.push(m);
            }
            match m.checked_add_months(chrono::Months::new(1)) {
                Some(next) => m = next,
                None => break,
            }
        }
        out
    }
}

/// One person's achievements that stop counting within the timeline.
#[derive(Debug, Clone)]
pub struct TimelineRow {
    /// The user name.
    pub username: String,
    /// Their achievements, earliest stop first.
    pub bars: Vec<TimelineBar>,
}

/// One relied-on certification and the day it stops counting.
#[derive(Debug, Clone)]
pub struct TimelineBar {
    /// The catalogue code.
    pub code: String,
    /// The first day it no longer counts.
    pub stops: NaiveDate,
    /// What it carries, as `achievements renewals` says it: each met level and qualifying
    /// designation its lapse alone would break ("Cloud Platform gold breaks",
    /// "… 70 → 58: stops qualifying", a gate that falls). Never empty: the timeline holds
    /// only relied-on certifications.
    pub breaks: Vec<String>,
}

impl TimelineBar {
    /// Its loss alone breaks a level met today or stops a designation qualifying.
    pub fn breaks_level(&self) -> bool {
        !self.breaks.is_empty()
    }
}

/// Reads and judges `org` at `at` and builds the page's data. Reads only.
pub fn gather(db: &Db, org: &Org, at: DateTime<Utc>) -> Result<View> {
    let judged = judge::judge(db, org, at)?;
    let membership = svc::status(db, org, at)?;
    let displayed = svc::profile_judged(db, org, at, &judged)?.competencies;
    let alerts = svc::alerts(db, org, false)?;
    let designation_alerts = crate::domain::designations::alerts(db, org, false)?;
    let competencies = competencies(&judged);
    let raw = risk(&judged.rulebook, &judged.snapshot, at, &judged.eval);
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
    // Designations are judged with each Azure term on the track it was enrolled on.
    let fixed =
        crate::domain::designations::term_fixed(db, org, &judged.rulebook, &judged.snapshot)?;
    let (designations, designations_preview, designation_risks) =
        designations(db, org, &mut judged, fixed.as_ref(), at)?;
    let timeline = timeline::build(judged, fixed.as_ref(), at);
    Ok(View {
        at,
        org: org.clone(),
        membership,
        displayed,
        competencies,
        alerts,
        designation_alerts,
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
    fixed: Option<&crate::rules::Snapshot>,
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
    let listed = crate::domain::designations::list_judged(db, org, at, true, judged)?;
    let risks = designation_risks(judged, fixed, &listed, at);
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
/// people whose departure alone (`designations what-if --remove-user`) would stop it
/// qualifying, gate holders included: one pass of
/// [`crate::rules::engine::designations_reliance::reliance`] on the snapshot designations are
/// judged on (`fixed`: Azure terms on their enrolment track), never a re-scoring per person.
fn designation_risks(
    judged: &Judged,
    fixed: Option<&crate::rules::Snapshot>,
    listed: &[crate::domain::designations::Listed],
    at: DateTime<Utc>,
) -> Vec<DesignationRisk> {
    use crate::domain::designations::DState;
    let watched: Vec<&str> = listed
        .iter()
        .filter(|l| l.score.qualified() && (l.state.is_held() || l.state == DState::Qualified))
        .map(|l| l.score.id.as_str())
        .collect();
    if watched.is_empty() {
        return Vec::new();
    }
    // One pass (SPEC §11): the people whose departure alone stops each qualifying
    // designation, gate holders included — what `designations what-if --remove-user` says.
    let reliance = crate::rules::engine::designations_reliance::reliance(
        &judged.rulebook,
        fixed.unwrap_or(&judged.snapshot),
        at,
    );
    let names: std::collections::HashMap<i64, &str> = judged
        .snapshot
        .people
        .iter()
        .map(|p| (p.user_id, p.username.as_str()))
        .collect();
    reliance
        .critical
        .into_iter()
        .filter(|(id, _, _)| watched.contains(&id.as_str()))
        .map(|(id, name, ids)| {
            let mut critical: Vec<String> = ids
                .into_iter()
                .map(|u| names.get(&u).copied().unwrap_or_default().to_owned())
                .collect();
            critical.sort();
            DesignationRisk { id, name, critical }
        })
        .collect()
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
            // Never silently one of them: both must qualify until the track is recorded.
            (Some(_), _) if !s.track_set() => Some(format!(
                "not set, both tracks must qualify: record Partner Center's classification \
                 with `competency designations track {} enterprise|smb`",
                s.id
            )),
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
    let pending = judged.pending();
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
                    let requirements = opt
                        .requirements
                        .iter()
                        .enumerate()
                        .map(|(i, r)| {
                            requirement(
                                r,
                                pending
                                    .requirement(&c.id, l.level, i)
                                    .map(|p| (p.people, p.from)),
                            )
                        })
                        .collect();
                    Some(LevelView {
                        level: l.level,
                        met: l.met,
                        option: opt.name.clone(),
                        requirements,
                    })
                })
                .collect(),
        })
        .collect()
}

/// One requirement's view; `pending` (people, from when) those who count once their
/// progress delay is over, shown beside `have` as `competencies progress` shows them.
fn requirement(r: &RequirementEval, pending: Option<(u64, DateTime<Utc>)>) -> RequirementView {
    let (mut have_text, need_text, counted) = match &r.detail {
        RequirementDetail::Metric { metric, .. } => {
            (amount(*metric, r.have), amount(*metric, r.need), Vec::new())
        }
        RequirementDetail::People { counted, .. } => (
            explain::thousands(r.have),
            explain::thousands(r.need),
            counted.iter().map(|c| c.username.clone()).collect(),
        ),
    };
    if let Some((n, from)) = pending {
        have_text.push_str(&format!(
            " (+{n} pending until {})",
            crate::rules::engine::pending::instant(from)
        ));
    }
    let fraction = if r.need <= 0.0 {
        1.0
    } else {
        (r.have / r.need).clamp(0.0, 1.0)
    };
    RequirementView {
        fraction,
        // `+ 0.0` turns -0 (a have of -0.0) into 0.
        percent: (fraction * 100.0).round() + 0.0,
        description: r.description.clone(),
        have: r.have,
        need: r.need,
        have_text,
        need_text,
        met: r.met,
        counted,
        pending_until: pending.map(|p| p.1),
    }
}

fn amount(metric: Metric, v: f64) -> String {
    explain::amount(metric, v)
}
