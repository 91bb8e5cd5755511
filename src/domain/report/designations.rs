//! The report's designations (SPEC §9) as plain data: each Solutions Partner designation's
//! score, state, dates and the counting track's items, filled by [`super::gather`] from
//! `designations list` and `designations score`'s service functions. The output layer draws
//! them (`output::report::designations`).

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::membership::Dates;

/// One designation as the report shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignationView {
    /// Its id, e.g. `azure-infra`.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// The total score.
    pub score: f64,
    /// The score needed to qualify.
    pub threshold: f64,
    /// Whether it qualifies now.
    pub qualified: bool,
    /// Its state as `designations list` prints it (e.g. `enrolled`, `in-progress`), or
    /// `preview`.
    pub state: String,
    /// The counting track's name, when the designation has more than one track.
    pub track: Option<String>,
    /// The counting track's items (metric then skilling), in rulebook order.
    pub items: Vec<DesignationItemView>,
    /// The latest enrolment's first day, if it was ever enrolled.
    pub term_start: Option<NaiveDate>,
    /// The latest enrolment's anniversary, renewal window and lapse day.
    pub dates: Option<Dates>,
    /// The first instant it qualified in the current window (when not held).
    pub qualified_since: Option<DateTime<Utc>>,
}

/// One scored item of a designation.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignationItemView {
    /// Its display name, e.g. "Net customer adds".
    pub name: String,
    /// The points earned.
    pub points: f64,
    /// The most points it can give.
    pub max_points: f64,
    /// Whether 0 points blocks qualification.
    pub required: bool,
}

impl DesignationView {
    /// The names of its items that score nothing.
    pub fn zero_items(&self) -> Vec<&str> {
        self.items
            .iter()
            .filter(|i| i.points <= 0.0)
            .map(|i| i.name.as_str())
            .collect()
    }

    /// A preview: scored under the embedded Solutions Partner rulebook, with no state or
    /// dates (see [`super::View::designations_preview`]).
    pub fn is_preview(&self) -> bool {
        self.state == "preview"
    }
}
