//! The rulebook types of `[designations.ID]` (SPEC §9): a designation has tracks (or items
//! written directly under it, the implicit track "main"); a track has metric items and
//! skilling items, each worth points up to its `max_points`. How they score lives in
//! [`crate::rules::engine::designations`]; their checks in `check_designations`.

use serde::{Deserialize, Serialize};

use super::{Metric, PeopleRequirement};

/// One designation (`[designations.ID]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Designation {
    /// Display name, e.g. "Solutions Partner for Infrastructure (Azure)".
    pub name: String,
    /// The solution area, e.g. "Azure".
    #[serde(default)]
    pub area: String,
    /// Tracks (e.g. Enterprise and SMB): the best total counts.
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

/// A metric item: `min(max_points, value × points_per_unit)`, or with `full_at`
/// `min(max_points, value / full_at × max_points)`; never below 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricItem {
    /// Which metric.
    pub metric: Metric,
    /// Only records with this scope count (all records of the metric without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The item's name in output; the metric's name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Points per unit of the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_per_unit: Option<f64>,
    /// The value that earns `max_points` (proportional below it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_at: Option<f64>,
    /// The item's cap.
    pub max_points: f64,
    /// Whether 0 points on this item blocks qualification (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub required: bool,
}

/// A skilling item: `min(max_points, persons × points_per_person)` once every prerequisite
/// is met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillingItem {
    /// The item's name, e.g. "intermediate".
    pub name: String,
    /// Points per counted person.
    pub points_per_person: f64,
    /// The item's cap.
    pub max_points: f64,
    /// Steps that give no points but gate the item's points.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prerequisites: Vec<PeopleRequirement>,
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
}
