//! The plain data the engine evaluates: who was associated with the organization when,
//! what they achieved, and the organization's performance records.
//!
//! The store builds a [`Snapshot`] in a handful of queries; the engine never touches the
//! database. Everything carries its own history (association start and end, achievement
//! removal), so one snapshot answers for any instant.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::rules::parse::{Association, Market, Metric};

/// Everything the engine needs to evaluate one organization.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The organization's market: decides whether `developing` thresholds apply.
    pub market: Market,
    /// One entry per MSA association interval of the organization (an account that changed
    /// its MSA, or an MSA that came back, appears once per interval).
    pub people: Vec<Person>,
    /// The organization's performance records, in any order.
    pub performance: Vec<PerformanceRecord>,
    /// The designation tracks Partner Center classified the organization into, with their
    /// history (`designations track`), in any order.
    pub classifications: Vec<Classification>,
}

/// One classification of the organization for a designation, in force from `since` until
/// the next one of the same designation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// The designation id.
    pub designation: String,
    /// The track, e.g. `smb`.
    pub track: String,
    /// From when.
    pub since: DateTime<Utc>,
}

impl Snapshot {
    /// The track `designation` is classified into at `at`: the latest classification in
    /// force (of two with one `since`, the later recorded, i.e. the later in the list).
    pub fn classification(&self, designation: &str, at: DateTime<Utc>) -> Option<&str> {
        self.classifications
            .iter()
            .enumerate()
            .filter(|(_, c)| c.designation == designation && c.since <= at)
            .max_by_key(|(i, c)| (c.since, *i))
            .map(|(_, c)| c.track.as_str())
    }
}

/// One association of an MSA with a user account of the organization, with the
/// achievements of that MSA.
#[derive(Debug, Clone)]
pub struct Person {
    /// The account's database id (stable across snapshots).
    pub user_id: i64,
    /// The account's user name, for explanations.
    pub username: String,
    /// The Microsoft account, lower case.
    pub msa: String,
    /// When the association started (the link time).
    pub associated: DateTime<Utc>,
    /// When the association ended: the MSA was severed or linked elsewhere, or the
    /// account was removed, whichever came first. `None` while it lasts.
    pub ended: Option<DateTime<Utc>>,
    /// The MSA's achievements (all of them, including removed and expired ones: the
    /// engine decides what counts at the instant it evaluates).
    pub achievements: Vec<Achievement>,
}

/// One achievement (exam passed, certification held, assessment passed) of an MSA.
#[derive(Debug, Clone)]
pub struct Achievement {
    /// The catalogue code, e.g. `70-533`: shared, since a few dozen codes repeat across
    /// hundreds of thousands of records.
    pub code: Arc<str>,
    /// The day it was earned (counts from midnight UTC of that day).
    pub earned: NaiveDate,
    /// The record's own expiry date, if it has one (expired from midnight UTC of that day).
    /// Without it, the catalogue's `valid_days` decides.
    pub expires: Option<NaiveDate>,
    /// When an administrator removed the record; it does not count from then on.
    pub removed: Option<DateTime<Utc>>,
}

/// One performance record of the organization.
#[derive(Debug, Clone)]
pub struct PerformanceRecord {
    /// Which metric.
    pub metric: Metric,
    /// The scope (e.g. `azure`); empty when the record has none.
    pub scope: String,
    /// The value: USD for revenue, a count otherwise.
    pub value: f64,
    /// The day the value is for.
    pub date: NaiveDate,
    /// The designation track the figure is for (`None`: every track).
    pub track: Option<String>,
    /// The customer association the figure is for (`None`: not split by association).
    pub association: Option<Association>,
}
