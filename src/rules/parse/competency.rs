//! The rulebook types of a competency (SPEC §5): levels, options, people and metric
//! requirements, and the small vocabularies they use (levels, metrics, markets).

use serde::{Deserialize, Serialize};

use super::Benefits;

/// One competency (`[competencies.ID]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Competency {
    /// Display name, e.g. "Cloud Platform".
    pub name: String,
    /// Solution area, e.g. "Apps & Infrastructure".
    #[serde(default)]
    pub area: String,
    /// The options (paths) that meet Silver; any one suffices.
    #[serde(default)]
    pub silver: Vec<LevelOption>,
    /// The options (paths) that meet Gold; meeting Gold also meets Silver.
    #[serde(default)]
    pub gold: Vec<LevelOption>,
    /// Benefits this competency adds, per level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benefits: Option<Benefits>,
}

impl Competency {
    /// The options of one level.
    pub fn options(&self, level: Level) -> &[LevelOption] {
        match level {
            Level::Silver => &self.silver,
            Level::Gold => &self.gold,
        }
    }
}

/// One option (path) of a level: every requirement must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelOption {
    /// The option's name, unique within the level.
    pub option: String,
    /// Skill requirements: counts of distinct individuals.
    #[serde(default)]
    pub people: Vec<PeopleRequirement>,
    /// Performance requirements.
    #[serde(default)]
    pub metrics: Vec<MetricRequirement>,
}

/// `count` distinct individuals, each holding every code of `all_of` and every code of at
/// least one list of `any_of`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeopleRequirement {
    /// How many distinct individuals.
    pub count: u32,
    /// Codes every counted individual must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all_of: Vec<String>,
    /// Alternatives: an individual must hold every code of at least one list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<Vec<String>>,
}

/// A performance threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricRequirement {
    /// Which metric.
    pub metric: Metric,
    /// The threshold in developed markets.
    pub at_least: f64,
    /// The threshold in developing markets, if different.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub developing: Option<f64>,
    /// Only records with this scope count (all records of the metric without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The trailing window in days, overriding the program's `metric_window_days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<u32>,
}

/// A performance metric.
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
pub enum Metric {
    /// Revenue in USD; summed over the window.
    Revenue,
    /// Active usage (seats in use); the latest record in the window.
    ActiveUsage,
    /// Deployed seats; the latest record in the window.
    DeployedSeats,
    /// New customers added; summed over the window.
    NewCustomers,
    /// Designations: net customer adds (may be negative); the latest record counts.
    NetCustomerAdds,
    /// Designations: usage growth (may be negative); the latest record counts.
    UsageGrowth,
    /// Designations: deployments (may be negative); the latest record counts.
    Deployments,
    /// Designations: Microsoft 365 protected users, year-over-year growth (Security's second
    /// usage-growth input; may be negative); the latest record counts.
    ProtectedUsersGrowth,
}

impl Metric {
    /// Every metric, in display order.
    pub const ALL: [Metric; 8] = [
        Metric::Revenue,
        Metric::ActiveUsage,
        Metric::DeployedSeats,
        Metric::NewCustomers,
        Metric::NetCustomerAdds,
        Metric::UsageGrowth,
        Metric::Deployments,
        Metric::ProtectedUsersGrowth,
    ];

    /// The name used on the command line, in files and output.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses a metric name, accepting `_` or spaces for `-` and any case.
    pub fn parse(s: &str) -> Option<Metric> {
        kebab(s).parse().ok()
    }

    /// Whether a value may be negative: the designations' metrics compare a month with the
    /// same month a year earlier (PROGRAM-FACTS), so they go below zero.
    pub fn allows_negative(self) -> bool {
        matches!(
            self,
            Metric::NetCustomerAdds
                | Metric::UsageGrowth
                | Metric::Deployments
                | Metric::ProtectedUsersGrowth
        )
    }

    /// Whether values are summed over the window (else the latest record counts).
    pub fn is_summed(self) -> bool {
        matches!(self, Metric::Revenue | Metric::NewCustomers)
    }
}

/// A membership or competency level.
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
    strum::Display,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Level {
    /// Silver.
    Silver,
    /// Gold (counts as Silver too).
    Gold,
}

impl Level {
    /// Both levels, lowest first.
    pub const ALL: [Level; 2] = [Level::Silver, Level::Gold];

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An organization's market.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Market {
    /// Developed market: `at_least` thresholds.
    #[default]
    Developed,
    /// Developing market: `developing` thresholds where given.
    Developing,
}

impl Market {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses `developed` or `developing`.
    pub fn parse(s: &str) -> Option<Market> {
        s.parse().ok()
    }
}

impl PeopleRequirement {
    /// Every code the requirement names (`all_of` first, then each `any_of` list).
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.all_of
            .iter()
            .chain(self.any_of.iter().flatten())
            .map(String::as_str)
    }

    /// Whether an individual holding exactly the codes for which `holds` is true counts
    /// for this requirement: every `all_of` code, and every code of at least one `any_of`
    /// list (when there is an `any_of`).
    pub fn qualifies(&self, holds: impl Fn(&str) -> bool) -> bool {
        self.all_of.iter().all(|c| holds(c))
            && (self.any_of.is_empty()
                || self.any_of.iter().any(|alt| alt.iter().all(|c| holds(c))))
    }
}

impl MetricRequirement {
    /// The threshold that applies in a market: `developing` where given for developing
    /// markets, else `at_least`.
    pub fn threshold(&self, market: Market) -> f64 {
        match (market, self.developing) {
            (Market::Developing, Some(developing)) => developing,
            _ => self.at_least,
        }
    }
}

impl Competency {
    /// Whether the competency has any option at this level.
    pub fn has_level(&self, level: Level) -> bool {
        !self.options(level).is_empty()
    }
}

/// A name as typed, made kebab-case: trimmed, lower-case, `_` and spaces read as `-` (metric
/// and role names accept any of these).
pub fn kebab(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| {
            if c == '_' || c == ' ' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}
