//! The rulebook: serde types for the TOML of SPEC §5, parsing and validation.
//!
//! Invariants once a [`Rulebook`] has been returned by [`Rulebook::parse`]: every code used
//! by a requirement is in the catalogue, every count is at least 1, no level is empty,
//! option names are unique within a level, and every `developing` threshold has an
//! `at_least`. Unknown keys are rejected. Errors name the file, the line and the key.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The default rulebook, modelling the real program (see `data/rulebook.toml`).
pub const DEFAULT_RULEBOOK: &str = include_str!("../../data/rulebook.toml");

/// A whole rulebook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rulebook {
    /// Program-wide parameters.
    pub program: Program,
    /// Membership fees in USD.
    #[serde(default)]
    pub fees: Fees,
    /// Benefits of each membership level.
    #[serde(default)]
    pub benefits: Benefits,
    /// Every exam, certification and assessment a requirement may name.
    #[serde(default)]
    pub catalog: Vec<CatalogEntry>,
    /// The competencies, by id (e.g. `cloud-platform`).
    #[serde(default)]
    pub competencies: BTreeMap<String, Competency>,
}

/// Program-wide parameters (`[program]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// The program's name.
    pub name: String,
    /// Achievements and MSA associations count this many hours after they happen.
    #[serde(default = "default_delay")]
    pub progress_delay_hours: u32,
    /// Membership term: anniversary = purchase + this many months.
    #[serde(default = "default_term")]
    pub term_months: u32,
    /// Renewal is allowed from anniversary minus this many days.
    #[serde(default = "default_30")]
    pub renewal_opens_days: u32,
    /// After the anniversary, still shown and renewable for this many days; then lapsed.
    #[serde(default = "default_30")]
    pub grace_days: u32,
    /// Performance goals count the trailing window of this many days.
    #[serde(default = "default_window")]
    pub metric_window_days: u32,
    /// A retired exam passed before retirement counts this many months after retirement.
    #[serde(default = "default_term")]
    pub retired_grace_months: u32,
}

fn default_delay() -> u32 {
    24
}
fn default_term() -> u32 {
    12
}
fn default_30() -> u32 {
    30
}
fn default_window() -> u32 {
    365
}

/// Membership fees in USD (`[fees]`), informational.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fees {
    /// The Silver membership fee.
    #[serde(default)]
    pub silver: u64,
    /// The Gold membership fee.
    #[serde(default)]
    pub gold: u64,
}

/// Benefits per level: `[benefits]` for the membership, `[competencies.ID.benefits]` for a
/// competency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Benefits {
    /// What Silver gives.
    #[serde(default)]
    pub silver: Vec<String>,
    /// What Gold gives (a Gold holder also gets the Silver benefits).
    #[serde(default)]
    pub gold: Vec<String>,
}

/// The kind of a catalogue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A proctored exam (e.g. `70-533`).
    Exam,
    /// A certification (e.g. MCSA: Office 365).
    Certification,
    /// An online assessment.
    Assessment,
}

impl Kind {
    /// The lower-case name used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Exam => "exam",
            Kind::Certification => "certification",
            Kind::Assessment => "assessment",
        }
    }
}

/// One `[[catalog]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    /// The code achievements are recorded under.
    pub code: String,
    /// The human title.
    pub title: String,
    /// Exam, certification or assessment.
    pub kind: Kind,
    /// The day the exam was retired, if it was.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "toml_date"
    )]
    pub retired: Option<NaiveDate>,
    /// Validity in days from the day earned, unless the record has its own expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_days: Option<u32>,
}

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Revenue in USD; summed over the window.
    Revenue,
    /// Active usage (seats in use); the latest record in the window.
    ActiveUsage,
    /// Deployed seats; the latest record in the window.
    DeployedSeats,
    /// New customers added; summed over the window.
    NewCustomers,
}

impl Metric {
    /// Every metric, in display order.
    pub const ALL: [Metric; 4] = [
        Metric::Revenue,
        Metric::ActiveUsage,
        Metric::DeployedSeats,
        Metric::NewCustomers,
    ];

    /// The name used on the command line, in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Revenue => "revenue",
            Metric::ActiveUsage => "active-usage",
            Metric::DeployedSeats => "deployed-seats",
            Metric::NewCustomers => "new-customers",
        }
    }

    /// Parses a metric name, accepting `_` or spaces for `-` and any case.
    pub fn parse(s: &str) -> Option<Metric> {
        let norm: String = s
            .trim()
            .chars()
            .map(|c| if c == '_' || c == ' ' { '-' } else { c.to_ascii_lowercase() })
            .collect();
        Metric::ALL.into_iter().find(|m| m.as_str() == norm)
    }

    /// Whether values are summed over the window (else the latest record counts).
    pub fn is_summed(self) -> bool {
        matches!(self, Metric::Revenue | Metric::NewCustomers)
    }
}

/// A membership or competency level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
        match self {
            Level::Silver => "silver",
            Level::Gold => "gold",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An organization's market.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
        match self {
            Market::Developed => "developed",
            Market::Developing => "developing",
        }
    }

    /// Parses `developed` or `developing`.
    pub fn parse(s: &str) -> Option<Market> {
        match s {
            "developed" => Some(Market::Developed),
            "developing" => Some(Market::Developing),
            _ => None,
        }
    }
}

impl Rulebook {
    /// The catalogue entry for a code.
    pub fn catalog_entry(&self, code: &str) -> Option<&CatalogEntry> {
        self.catalog.iter().find(|c| c.code == code)
    }
}

/// TOML dates (`retired = 2019-06-30`) to and from [`NaiveDate`]: TOML's own date type is
/// not a string, so chrono's serde support cannot read it directly.
mod toml_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use toml::value::{Date, Datetime};

    pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        use chrono::Datelike;
        match d {
            Some(d) => {
                let dt = Datetime {
                    date: Some(Date {
                        year: d.year() as u16,
                        month: d.month() as u8,
                        day: d.day() as u8,
                    }),
                    time: None,
                    offset: None,
                };
                serde::Serialize::serialize(&dt, s)
            }
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        let dt = Datetime::deserialize(d)?;
        match (dt.date, dt.time, dt.offset) {
            (Some(date), None, None) => NaiveDate::from_ymd_opt(
                i32::from(date.year),
                u32::from(date.month),
                u32::from(date.day),
            )
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("{dt} is not a valid date"))),
            _ => Err(D::Error::custom(format!(
                "expected a date like 2019-06-30, found {dt}"
            ))),
        }
    }
}
