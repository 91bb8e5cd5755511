//! What an evaluation returns: plain, serializable results that explain themselves — each
//! requirement's have/need, who counted and through which achievements — so `progress`,
//! `gaps`, `risk` and the membership alerts all read the same answer.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::rules::parse::{Level, Metric};

/// The result of evaluating an organization at one instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The instant evaluated.
    pub at: DateTime<Utc>,
    /// One entry per competency of the rulebook, in id order.
    pub competencies: Vec<CompetencyEval>,
}

impl Evaluation {
    /// The evaluation of one competency by id.
    pub fn competency(&self, id: &str) -> Option<&CompetencyEval> {
        self.competencies.iter().find(|c| c.id == id)
    }
}

/// One competency's evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompetencyEval {
    /// The competency id, e.g. `cloud-platform`.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its solution area.
    pub area: String,
    /// The highest level met (Gold counts as Silver), `None` when neither is.
    pub achieved: Option<Level>,
    /// Silver then Gold, always both (a level without options is simply not met on its own).
    pub levels: Vec<LevelEval>,
}

impl CompetencyEval {
    /// The evaluation of one level.
    pub fn level(&self, level: Level) -> &LevelEval {
        match level {
            Level::Silver => &self.levels[0],
            Level::Gold => &self.levels[1],
        }
    }
}

/// One level of a competency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelEval {
    /// Which level.
    pub level: Level,
    /// Whether the level is met: one of its options is met, or (for Silver) Gold is met.
    pub met: bool,
    /// Whether Silver is met only because Gold is (none of Silver's own options is met).
    pub via_gold: bool,
    /// The index of the first met option, else of the closest one (see [`closeness`]);
    /// 0 when the level has no options.
    pub best: usize,
    /// One entry per option, in rulebook order.
    pub options: Vec<OptionEval>,
}

/// One option (path) of a level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptionEval {
    /// The option's name.
    pub name: String,
    /// Whether every requirement is met.
    pub met: bool,
    /// The people requirements in rulebook order, then the metric requirements.
    pub requirements: Vec<RequirementEval>,
}

/// One requirement of an option, with what the organization has against what it needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequirementEval {
    /// Human description, e.g. "2 people with 70-532 or 70-533", "revenue (azure) over 365 days".
    pub description: String,
    /// People assigned to it (in the maximum assignment), or the metric's value.
    pub have: f64,
    /// The count, or the threshold for the organization's market.
    pub need: f64,
    /// `have >= need`.
    pub met: bool,
    /// Who counted, or which records.
    pub detail: RequirementDetail,
}

/// What stands behind a requirement's `have`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RequirementDetail {
    /// A people requirement.
    People {
        /// The individuals assigned to this requirement, by user name.
        counted: Vec<Counted>,
        /// How many individuals qualify for it at all (some may be assigned elsewhere in
        /// the option, each individual filling one requirement only).
        eligible: usize,
    },
    /// A metric requirement.
    Metric {
        /// Which metric.
        metric: Metric,
        /// The scope records must have, if any.
        scope: Option<String>,
        /// The first day of the window (inclusive); the window ends on the evaluation day.
        window_start: NaiveDate,
    },
}

/// One individual counted for a people requirement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counted {
    /// Index into `Snapshot::people` (the account's first association active at the instant).
    pub person: usize,
    /// The account id.
    pub user_id: i64,
    /// The account's user name.
    pub username: String,
    /// The achievements that made them qualify: the `all_of` codes and the codes of one
    /// satisfied `any_of` list (the one that keeps counting longest).
    pub uses: Vec<UsedAchievement>,
}

/// One achievement an individual was counted through.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsedAchievement {
    /// The catalogue code.
    pub code: String,
    /// When it was earned.
    pub earned: NaiveDate,
    /// The first day it no longer counts: its expiry (the record's own, else earned +
    /// `valid_days`) or the end of its exam's retirement grace, whichever is first.
    /// `None`: it does not stop counting on its own. Of several records of the code, the
    /// one counting longest is reported.
    pub expires: Option<NaiveDate>,
}

/// What is missing for one level not met.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// The competency id.
    pub competency: String,
    /// Its display name.
    pub name: String,
    /// The level not met.
    pub level: Level,
    /// The option the gap is measured against: the closest one.
    pub option: String,
    /// The smallest additions that would meet that option, e.g.
    /// "1 more person with AZ-104 or AZ-303", "revenue (azure) short by 1,200 USD"; people
    /// whose achievements are waiting out the progress delay are not asked for again but
    /// listed as "1 person with AZ-104 pending: counts from 2026-03-02T09:00:00Z".
    pub missing: Vec<String>,
    /// When the pending achievements alone meet the level: the first instant they do (within
    /// the progress delay). `None` when something must still be added.
    pub met_from: Option<DateTime<Utc>>,
}

/// The people one met level depends on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Risk {
    /// The competency id.
    pub competency: String,
    /// Its display name.
    pub name: String,
    /// The level met now.
    pub level: Level,
    /// `(user_id, username)` of everyone whose departure alone would break the level, by
    /// user name. Empty when no single departure would.
    pub critical: Vec<(i64, String)>,
    /// `(user_id, code)` of every certification whose lapse alone (that person's records of
    /// that code no longer counting) would break the level: the certifications the level
    /// relies on (SPEC §9b), by user name then code. Only critical people's can be here:
    /// losing one certification takes away less than leaving.
    pub relied_on: Vec<(i64, String)>,
}
