//! The rulebook: serde types for the TOML of SPEC §5, parsing and validation.
//!
//! Invariants once a [`Rulebook`] has been returned by [`Rulebook::parse`]: every code used
//! by a requirement is in the catalogue, catalogue codes are unique, every count is from 1
//! to [`MAX_COUNT`], every competency has an option at Silver or Gold (one level may be
//! absent: meeting Gold meets Silver), no option is without requirements, option names are
//! unique within a level, every people requirement names codes, every `developing`
//! threshold has an `at_least`, thresholds are finite and not negative, and the program's
//! periods are sensible. Unknown keys are rejected. Errors name the file, the line and the
//! key (see [`RulebookError`]); the checks live in `check*`.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{
    Competency, Designation, Level, RulebookError, nearest_codes, parse_all, parse_validated,
};

/// The default rulebook, modelling the real program (see `data/rulebook.toml`).
pub const DEFAULT_RULEBOOK: &str = include_str!("../../../data/rulebook.toml");

/// The Solutions Partner rulebook (SPEC §9): the six designations with the 2023 values.
pub const SOLUTIONS_PARTNER_RULEBOOK: &str = include_str!("../../../data/solutions-partner.toml");

/// The embedded rulebooks a command may name instead of a file.
pub const EMBEDDED_RULEBOOKS: [(&str, &str); 2] = [
    ("default", DEFAULT_RULEBOOK),
    ("solutions-partner", SOLUTIONS_PARTNER_RULEBOOK),
];

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
    /// The Solutions Partner designations, by id (SPEC §9).
    #[serde(default)]
    pub designations: BTreeMap<String, Designation>,
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
    /// Designations: the points a track needs to qualify.
    #[serde(default = "default_designation_threshold")]
    pub designation_threshold: f64,
    /// Designations: the qualification window, in months (the current month and the full
    /// months before it).
    #[serde(default = "default_qualification_window")]
    pub qualification_window_months: u32,
    /// Which edition of the program the rulebook models (`YYYY-MM`): tells a stored
    /// rulebook from a newer embedded one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    /// Designations: what "every required metric has points" means (PROGRAM-FACTS §10
    /// ambiguity 1).
    #[serde(default, skip_serializing_if = "RequiredPoints::is_default")]
    pub required_item_points: RequiredPoints,
}

/// The least a required designation item must score for its track to qualify.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequiredPoints {
    /// More than 0 points (0.3 passes).
    #[default]
    AboveZero,
    /// At least one whole point (0.3 fails).
    AtLeastOne,
}

impl RequiredPoints {
    fn is_default(&self) -> bool {
        *self == RequiredPoints::AboveZero
    }
}

fn default_designation_threshold() -> f64 {
    70.0
}
fn default_qualification_window() -> u32 {
    6
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
    /// The yearly Solutions Partner fee, however many designations.
    #[serde(default)]
    pub designation: u64,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
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
        self.into()
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
    #[serde(default, skip_serializing_if = "Option::is_none", with = "toml_date")]
    pub retired: Option<NaiveDate>,
    /// Validity in days from the day earned, unless the record has its own expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_days: Option<u32>,
    /// Other titles Partner Center reports use for this entry (former names, "Exam CODE:
    /// title" forms); matched like the title, ignoring case and runs of spaces.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// How many days before its expiry Microsoft opens the free online renewal of a held
    /// certification (SPEC §9b) [default: [`DEFAULT_RENEWAL_OPENS_DAYS`]].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_opens_days: Option<u32>,
    /// The catalogue code of the certification that replaces this one once it is retired:
    /// what `achievements renewals` proposes instead of a renewal that is no longer possible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
}

/// Microsoft opens the renewal of a role-based certification six months before it expires.
pub const DEFAULT_RENEWAL_OPENS_DAYS: u32 = 180;

impl CatalogEntry {
    /// The days before expiry the renewal opens (SPEC §9b).
    pub fn renewal_opens_days(&self) -> u32 {
        self.renewal_opens_days
            .unwrap_or(DEFAULT_RENEWAL_OPENS_DAYS)
    }
}

/// A training title as compared with the catalogue: lower case, every run of white space
/// one space, none at either end.
pub fn normalize_title(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    for word in title.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

impl Rulebook {
    /// Parses and validates a rulebook; `file` is only used to name it in errors.
    ///
    /// The error is the problem on the earliest line; [`Rulebook::parse_all`] gives every
    /// one.
    pub fn parse(text: &str, file: &str) -> Result<Rulebook, RulebookError> {
        Self::parse_all(text, file).map_err(|mut errors| errors.swap_remove(0))
    }

    /// Parses a rulebook that already passed [`Rulebook::parse`] (its
    /// [`super::validated_digest`] was stored with it), without validating it again.
    pub fn parse_validated(text: &str, file: &str) -> Result<Rulebook, RulebookError> {
        parse_validated(text, file)
    }

    /// Parses and validates a rulebook, reporting every semantic problem (earliest line
    /// first) rather than the first one. A TOML syntax error or a wrong type stops the
    /// reading and comes alone. The vector is never empty.
    pub fn parse_all(text: &str, file: &str) -> Result<Rulebook, Vec<RulebookError>> {
        parse_all(text, file)
    }

    /// The embedded default rulebook ([`DEFAULT_RULEBOOK`]), modelling the real program.
    ///
    /// # Panics
    /// If the embedded file is invalid, which a unit test rules out.
    pub fn default_rulebook() -> Rulebook {
        match Self::parse(DEFAULT_RULEBOOK, "data/rulebook.toml") {
            Ok(rulebook) => rulebook,
            Err(e) => panic!("the embedded default rulebook is invalid: {e}"),
        }
    }

    /// A map from every catalogue title and alias, normalized by [`normalize_title`], to the
    /// entry's code. Validation keeps aliases distinct from every other entry's title and
    /// aliases; two entries with the same title map it to the first.
    pub fn title_index(&self) -> HashMap<String, String> {
        let mut index = HashMap::new();
        for e in &self.catalog {
            for t in std::iter::once(&e.title).chain(&e.aliases) {
                index
                    .entry(normalize_title(t))
                    .or_insert_with(|| e.code.clone());
            }
        }
        index
    }

    /// The catalogue entry for a code.
    pub fn catalog_entry(&self, code: &str) -> Option<&CatalogEntry> {
        self.catalog.iter().find(|c| c.code == code)
    }

    /// The codes of the catalogue nearest to `code`, closest first (see [`nearest_codes`]).
    pub fn nearest_codes(&self, code: &str, n: usize) -> Vec<String> {
        nearest_codes(&self.catalog, code, n)
    }

    /// The competency with this id.
    pub fn competency(&self, id: &str) -> Option<&Competency> {
        self.competencies.get(id)
    }

    /// The benefits a membership at `level` gives: for Gold, the Silver ones and then the
    /// Gold ones.
    pub fn membership_benefits(&self, level: Level) -> Vec<&str> {
        self.benefits.up_to(level)
    }
}

impl Benefits {
    /// The benefits listed for exactly this level.
    pub fn at(&self, level: Level) -> &[String] {
        match level {
            Level::Silver => &self.silver,
            Level::Gold => &self.gold,
        }
    }

    /// The benefits of this level and the levels below it (Gold includes Silver), in order.
    pub fn up_to(&self, level: Level) -> Vec<&str> {
        Level::ALL
            .into_iter()
            .filter(|l| *l <= level)
            .flat_map(|l| self.at(l).iter().map(String::as_str))
            .collect()
    }
}

/// TOML dates (`retired = 2019-06-30`) to and from [`NaiveDate`]: TOML's own date type is
/// not a string, so chrono's serde support cannot read it directly.
pub(super) mod toml_date {
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

#[cfg(test)]
#[path = "rulebook_tests.rs"]
mod tests;
