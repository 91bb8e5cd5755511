//! The rulebook: serde types for the TOML of SPEC §5, parsing and validation.
//!
//! Invariants once a [`Rulebook`] has been returned by [`Rulebook::parse`]: every code used
//! by a requirement is in the catalogue, catalogue codes are unique, every count is from 1
//! to [`MAX_COUNT`], every competency has an option at Silver or Gold (one level may be
//! absent: meeting Gold meets Silver), no option is without requirements, option names are
//! unique within a level, every people requirement names codes, every `developing`
//! threshold has an `at_least`, thresholds are finite and not negative, and the program's
//! periods are sensible. Unknown keys are rejected. Errors name the file, the line and the
//! key (see [`RulebookError`]); the checks live in [`super::validate`].

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use super::designations::{Designation, MetricItem, SkillPeople, SkillingItem, Track};
use super::validate;
pub use super::validate::{MAX_COUNT, RulebookError, nearest_codes};

/// The default rulebook, modelling the real program (see `data/rulebook.toml`).
pub const DEFAULT_RULEBOOK: &str = include_str!("../../data/rulebook.toml");

/// The Solutions Partner rulebook (SPEC §9): the six designations with the 2023 values.
pub const SOLUTIONS_PARTNER_RULEBOOK: &str = include_str!("../../data/solutions-partner.toml");

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
    #[serde(default, skip_serializing_if = "Option::is_none", with = "toml_date")]
    pub retired: Option<NaiveDate>,
    /// Validity in days from the day earned, unless the record has its own expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_days: Option<u32>,
    /// Other titles Partner Center reports use for this entry (former names, "Exam CODE:
    /// title" forms); matched like the title, ignoring case and runs of spaces.
    #[serde(default)]
    pub aliases: Vec<String>,
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
    /// Designations: net customer adds (may be negative); the latest record counts.
    NetCustomerAdds,
    /// Designations: usage growth (may be negative); the latest record counts.
    UsageGrowth,
    /// Designations: deployments (may be negative); the latest record counts.
    Deployments,
}

impl Metric {
    /// Every metric, in display order.
    pub const ALL: [Metric; 7] = [
        Metric::Revenue,
        Metric::ActiveUsage,
        Metric::DeployedSeats,
        Metric::NewCustomers,
        Metric::NetCustomerAdds,
        Metric::UsageGrowth,
        Metric::Deployments,
    ];

    /// The name used on the command line, in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Revenue => "revenue",
            Metric::ActiveUsage => "active-usage",
            Metric::DeployedSeats => "deployed-seats",
            Metric::NewCustomers => "new-customers",
            Metric::NetCustomerAdds => "net-customer-adds",
            Metric::UsageGrowth => "usage-growth",
            Metric::Deployments => "deployments",
        }
    }

    /// Parses a metric name, accepting `_` or spaces for `-` and any case.
    pub fn parse(s: &str) -> Option<Metric> {
        let norm: String = s
            .trim()
            .chars()
            .map(|c| {
                if c == '_' || c == ' ' {
                    '-'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        Metric::ALL.into_iter().find(|m| m.as_str() == norm)
    }

    /// Whether a value may be negative: the designations' metrics compare a month with the
    /// same month a year earlier (PROGRAM-FACTS), so they go below zero.
    pub fn allows_negative(self) -> bool {
        matches!(
            self,
            Metric::NetCustomerAdds | Metric::UsageGrowth | Metric::Deployments
        )
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
    /// Parses and validates a rulebook; `file` is only used to name it in errors.
    ///
    /// The error is the problem on the earliest line; [`Rulebook::parse_all`] gives every
    /// one.
    pub fn parse(text: &str, file: &str) -> Result<Rulebook, RulebookError> {
        Self::parse_all(text, file).map_err(|mut errors| errors.swap_remove(0))
    }

    /// Parses a rulebook that already passed [`Rulebook::parse`] (its
    /// [`validate::validated_digest`] was stored with it), without validating it again.
    pub fn parse_validated(text: &str, file: &str) -> Result<Rulebook, RulebookError> {
        validate::parse_validated(text, file)
    }

    /// Parses and validates a rulebook, reporting every semantic problem (earliest line
    /// first) rather than the first one. A TOML syntax error or a wrong type stops the
    /// reading and comes alone. The vector is never empty.
    pub fn parse_all(text: &str, file: &str) -> Result<Rulebook, Vec<RulebookError>> {
        validate::parse_all(text, file)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rulebook_has_the_18_competencies_each_with_silver_and_gold() {
        let rulebook = Rulebook::default_rulebook();
        assert_eq!(rulebook.competencies.len(), 18);
        for (id, competency) in &rulebook.competencies {
            assert!(competency.has_level(Level::Silver), "{id} has no Silver");
            assert!(competency.has_level(Level::Gold), "{id} has no Gold");
            assert!(!competency.area.is_empty(), "{id} has no area");
        }
        let areas: std::collections::BTreeSet<&str> = rulebook
            .competencies
            .values()
            .map(|c| c.area.as_str())
            .collect();
        assert_eq!(
            areas.into_iter().collect::<Vec<_>>(),
            [
                "Apps & Infrastructure",
                "Business Applications",
                "Data & AI",
                "Modern Workplace & Security"
            ]
        );
    }

    #[test]
    fn default_rulebook_carries_the_program_figures() {
        let rulebook = Rulebook::default_rulebook();
        let p = &rulebook.program;
        assert_eq!(
            (
                p.progress_delay_hours,
                p.term_months,
                p.renewal_opens_days,
                p.grace_days
            ),
            (24, 12, 30, 30)
        );
        assert_eq!((p.metric_window_days, p.retired_grace_months), (365, 12));
        assert_eq!((rulebook.fees.silver, rulebook.fees.gold), (1670, 4730));

        let cloud = rulebook.competency("cloud-platform").unwrap();
        let silver = &cloud.silver[0].metrics[0];
        assert_eq!(silver.threshold(Market::Developed), 15000.0);
        assert_eq!(silver.threshold(Market::Developing), 10000.0);
        assert_eq!(cloud.gold[0].people[0].count, 2);
        let erp = rulebook.competency("enterprise-resource-planning").unwrap();
        assert_eq!(
            erp.gold[0].metrics[0].threshold(Market::Developing),
            75000.0
        );
        assert_eq!(
            rulebook.catalog_entry("MCSA-O365").map(|e| e.kind),
            Some(Kind::Certification)
        );
        assert!(
            rulebook
                .catalog
                .iter()
                .filter(|e| e.kind == Kind::Assessment)
                .all(|e| e.valid_days == Some(730))
        );
    }

    #[test]
    fn solutions_partner_rulebook_has_six_designations_and_round_trips() {
        let rb = Rulebook::parse(SOLUTIONS_PARTNER_RULEBOOK, "solutions-partner").unwrap();
        assert_eq!(
            rb.designations.keys().collect::<Vec<_>>(),
            [
                "business-applications",
                "data-ai",
                "digital-app-innovation",
                "infrastructure",
                "modern-work",
                "security"
            ]
        );
        assert_eq!(rb.designations["modern-work"].tracks.len(), 2);
        assert_eq!(rb.designations["business-applications"].tracks.len(), 2);
        assert_eq!(rb.fees.designation, 4730);
        assert_eq!(rb.program.designation_threshold, 70.0);
        assert!(super::super::validate::warnings(&rb).is_empty());
        // Every track can reach exactly 100 points.
        for d in rb.designations.values() {
            for t in d.all_tracks() {
                let max: f64 = t.metrics.iter().map(|m| m.max_points).sum::<f64>()
                    + t.skilling.iter().map(|s| s.max_points).sum::<f64>();
                assert_eq!(max, 100.0, "{} {}", d.name, t.name);
            }
        }
        let admin = rb.catalog_entry("AZ-104").unwrap();
        assert!(
            admin
                .aliases
                .contains(&"Microsoft Certified: Azure Administrator Associate".to_string())
        );
    }

    #[test]
    fn helpers_answer_from_the_rulebook() {
        let rulebook = Rulebook::default_rulebook();
        assert!(rulebook.competency("no-such").is_none());
        assert_eq!(rulebook.nearest_codes("70-53", 1).len(), 1);

        let gold = rulebook.membership_benefits(Level::Gold);
        let silver = rulebook.membership_benefits(Level::Silver);
        assert_eq!(gold.len(), silver.len() + rulebook.benefits.gold.len());
        assert_eq!(gold[..silver.len()], silver[..]);

        let req = PeopleRequirement {
            count: 1,
            all_of: vec!["A".into()],
            any_of: vec![vec!["B".into(), "C".into()], vec!["D".into()]],
        };
        assert!(req.qualifies(|c| ["A", "D"].contains(&c)));
        assert!(req.qualifies(|c| ["A", "B", "C"].contains(&c)));
        assert!(!req.qualifies(|c| ["A", "B"].contains(&c)));
        assert!(!req.qualifies(|c| ["B", "C", "D"].contains(&c)));
        assert_eq!(req.codes().collect::<Vec<_>>(), ["A", "B", "C", "D"]);
    }
}
