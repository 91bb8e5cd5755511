//! The rulebook types of `[designations.ID]` (SPEC §9): a designation has tracks (or items
//! written directly under it, the implicit track "main"), chosen by `track_choice`; a track
//! has metric items and skilling items, each worth points up to its `max_points`. A metric
//! item reads one input, the best of several (`best_of`), or a capped sum (`sum_of`); a
//! skilling item may have gates (`prerequisites`) that score on their own. How they score
//! lives in [`crate::rules::engine::designations`]; their checks in `check_designations`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Metric, PeopleRequirement};

/// How a designation's track is chosen (SPEC §9, PROGRAM-FACTS §2).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum TrackChoice {
    /// Every track is scored and the higher total counts (Modern Work, Security).
    #[default]
    Best,
    /// Microsoft classifies the partner into one track (Azure, Business Applications); with
    /// no classification recorded, every track must qualify.
    Classified,
}

impl TrackChoice {
    /// The name as written.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The customer association a figure is counted for (PROGRAM-FACTS §4, §5).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Association {
    /// Claiming Partner of Record.
    Cpor,
    /// Digital (or Direct) Partner of Record.
    Dpor,
    /// Cloud Solution Provider, tier 1 or 2.
    Csp,
}

impl Association {
    /// Every association, in display order.
    pub const ALL: [Association; 3] = [Association::Cpor, Association::Dpor, Association::Csp];

    /// The name as written.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses `cpor|dpor|csp`, any case.
    pub fn parse(s: &str) -> Option<Association> {
        s.trim().to_ascii_lowercase().parse().ok()
    }
}

/// When a certification earns points for one designation (`eligibility` of a designation):
/// from `from` (a certification that joined the list later) through `until` (the last day,
/// "eligible through"). Certifications not listed are eligible whenever the catalogue lets
/// them count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// The catalogue code.
    pub code: String,
    /// The first day it earns points.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::rulebook::toml_date"
    )]
    pub from: Option<NaiveDate>,
    /// The last day it earns points.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::rulebook::toml_date"
    )]
    pub until: Option<NaiveDate>,
}

/// One designation (`[designations.ID]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Designation {
    /// Display name, e.g. "Solutions Partner for Infrastructure (Azure)".
    pub name: String,
    /// The solution area, e.g. "Azure".
    #[serde(default)]
    pub area: String,
    /// How the track that counts is chosen.
    #[serde(default, skip_serializing_if = "is_best")]
    pub track_choice: TrackChoice,
    /// Whether figures are recorded per track (`performance record --track`): the tracks
    /// count different customer tenants and Partner Center shows each.
    #[serde(default, skip_serializing_if = "is_false")]
    pub inputs_by_track: bool,
    /// Whether, once enrolled, the classified track stays as it was at enrolment for the
    /// term (`smb` if classified `smb` at any instant of the qualification window): Azure.
    #[serde(default, skip_serializing_if = "is_false")]
    pub term_track_fixed: bool,
    /// Certifications that earn points for this designation only between dates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eligibility: Vec<Eligibility>,
    /// Tracks (e.g. Enterprise and SMB).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracks: Vec<Track>,
    /// Metric items of a designation written without tracks (one implicit track "main").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricItem>,
    /// Skilling items of a designation written without tracks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skilling: Vec<SkillingItem>,
}

/// One track of a designation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Track {
    /// The track's name, unique within the designation.
    pub track: String,
    /// Points from performance and customer-success figures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricItem>,
    /// Points from certified people.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skilling: Vec<SkillingItem>,
}

/// A metric item, written as the program states it: `max_points` reached at `full_at`
/// units, `min(max_points, max_points × value / full_at)` exactly, never below 0. The older
/// `points_per_unit` (`min(max_points, value × points_per_unit)`, the decimal as written) is
/// still read: rulebooks stored before 2026 use it. With `best_of` the item is the best of
/// several inputs, each with its own `full_at`; with `sum_of`, the inputs' points added, then
/// capped at `max_points`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricItem {
    /// Which metric (the inputs' metric unless they name their own).
    pub metric: Metric,
    /// Only records with this scope count (all records of the metric without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The item's name in output; the metric's name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Points per unit of the value (the pre-2026 syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_per_unit: Option<f64>,
    /// The value that earns `max_points` (proportional below it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_at: Option<f64>,
    /// The item's cap.
    pub max_points: f64,
    /// Options scored separately, the best counts (e.g. CPOR or DPOR figures).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub best_of: Vec<MetricInput>,
    /// Inputs whose points add up, capped at `max_points` together.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sum_of: Vec<MetricInput>,
    /// Whether 0 points on this item blocks qualification (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub required: bool,
}

/// One input of a `best_of` or `sum_of` item: the records of a metric (the item's unless
/// named) for one association (none unless named), scored against its own `full_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricInput {
    /// The metric, when not the item's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<Metric>,
    /// Only records for this association.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association: Option<Association>,
    /// The value that earns the item's `max_points`.
    pub full_at: f64,
}

/// A gating step of a skilling item: `count` distinct people holding the codes; on some
/// tracks it also earns `points` of its own once met (Azure and Security SMB: 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// How many distinct individuals.
    pub count: u32,
    /// Codes every counted individual must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all_of: Vec<String>,
    /// Alternatives: an individual must hold every code of at least one list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<Vec<String>>,
    /// The points the step earns once met (0 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<f64>,
}

impl Gate {
    /// The step as a plain people requirement.
    pub fn requirement(&self) -> PeopleRequirement {
        PeopleRequirement {
            count: self.count,
            all_of: self.all_of.clone(),
            any_of: self.any_of.clone(),
        }
    }
}

/// A skilling item: once every gate is met, `max_points` reached at `full_at` persons (or
/// `points_per_person` each), plus the met gates' own points, capped at `max_points`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillingItem {
    /// The item's name, e.g. "intermediate".
    pub name: String,
    /// Points per counted person (the decimal as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_per_person: Option<f64>,
    /// The persons that earn `max_points` (proportional below).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_at: Option<f64>,
    /// The item's cap.
    pub max_points: f64,
    /// Gating steps: until each has its people the persons give no points.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prerequisites: Vec<Gate>,
    /// Who counts for the item.
    pub people: SkillPeople,
    /// Whether 0 points on this item blocks qualification (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub required: bool,
}

/// Who counts for a skilling item: every code of `all_of` and every code of one list of
/// `any_of`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillPeople {
    /// Codes every counted person must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all_of: Vec<String>,
    /// Alternatives: a person must hold every code of at least one list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<Vec<String>>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_best(c: &TrackChoice) -> bool {
    *c == TrackChoice::Best
}

/// A track as the scorer sees it, whether written under `tracks` or directly.
#[derive(Debug, Clone, Copy)]
pub struct TrackRef<'a> {
    /// The track's name ("main" for a designation written without tracks).
    pub name: &'a str,
    /// Its metric items.
    pub metrics: &'a [MetricItem],
    /// Its skilling items.
    pub skilling: &'a [SkillingItem],
}

impl Designation {
    /// Every track: the `tracks` written, then the implicit "main" track of items written
    /// directly under the designation (when there are any).
    pub fn all_tracks(&self) -> Vec<TrackRef<'_>> {
        let mut out: Vec<TrackRef<'_>> = self
            .tracks
            .iter()
            .map(|t| TrackRef {
                name: &t.track,
                metrics: &t.metrics,
                skilling: &t.skilling,
            })
            .collect();
        if !self.metrics.is_empty() || !self.skilling.is_empty() {
            out.push(TrackRef {
                name: "main",
                metrics: &self.metrics,
                skilling: &self.skilling,
            });
        }
        out
    }
}

impl MetricItem {
    /// The item's name: its own, else the metric's.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(self.metric.as_str())
    }

    /// The inputs the item reads, as (metric, association): one for a plain item.
    pub fn inputs(&self) -> Vec<(Metric, Option<Association>)> {
        let list = if self.best_of.is_empty() {
            &self.sum_of
        } else {
            &self.best_of
        };
        if list.is_empty() {
            return vec![(self.metric, None)];
        }
        list.iter()
            .map(|i| (i.metric.unwrap_or(self.metric), i.association))
            .collect()
    }
}

impl Designation {
    /// The eligibility dates of `code` for this designation, if any are written.
    pub fn eligibility_of(&self, code: &str) -> Option<&Eligibility> {
        self.eligibility.iter().find(|e| e.code == code)
    }

    /// Whether `code` earns points for this designation on `day`.
    pub fn eligible_on(&self, code: &str, day: NaiveDate) -> bool {
        self.eligibility_of(code)
            .is_none_or(|e| e.from.is_none_or(|f| day >= f) && e.until.is_none_or(|u| day <= u))
    }

    /// The index of the track named `name`.
    pub fn track_index(&self, name: &str) -> Option<usize> {
        self.all_tracks().iter().position(|t| t.name == name)
    }
}
