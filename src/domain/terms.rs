//! Terms: the state of a term at an instant (`none`, `active`, `renewal-due`, `lapsed`), its
//! dates (anniversary, renewal window, lapse) and how a term's anniversary is computed. A
//! leaf both the membership and the designations use (a designation's enrolment has terms
//! of the same program): neither needs the other for its dates.
//!
//! Invariants: dates take effect at midnight UTC; anniversaries keep the day of the month
//! of the original purchase.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::Serialize;

use crate::rules::engine::start_of;
use crate::rules::rulebook::Program;

/// A membership's state at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum State {
    /// Never bought.
    None,
    /// Before the anniversary.
    Active,
    /// From the anniversary until the grace period ends: still shown, still renewable.
    RenewalDue,
    /// After the grace period.
    Lapsed,
}

impl State {
    /// The name as printed (`none`, `active`, `renewal-due`, `lapsed`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether the membership is held (active or renewal-due).
    pub fn is_held(self) -> bool {
        matches!(self, State::Active | State::RenewalDue)
    }
}

/// The days that matter for one term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dates {
    /// The anniversary: the term's end.
    pub anniversary: NaiveDate,
    /// The first day renewal is allowed (anniversary − `renewal_opens_days`).
    pub renewal_opens: NaiveDate,
    /// The first day the membership is lapsed (anniversary + `grace_days`); the renewal
    /// window closes at the end of the day before.
    pub lapses: NaiveDate,
}

impl Dates {
    /// The days of a term ending on `anniversary` under the program's periods.
    pub fn new(anniversary: NaiveDate, program: &Program) -> Dates {
        let days = |n: u32| chrono::Days::new(u64::from(n));
        Dates {
            anniversary,
            renewal_opens: anniversary
                .checked_sub_days(days(program.renewal_opens_days))
                .unwrap_or(NaiveDate::MIN),
            // Never past the program's last day (an anniversary late in 9999).
            lapses: crate::support::clock::capped(
                anniversary
                    .checked_add_days(days(program.grace_days))
                    .unwrap_or(NaiveDate::MAX),
            ),
        }
    }

    /// The state at `at`.
    pub fn state_at(&self, at: DateTime<Utc>) -> State {
        if at < start_of(self.anniversary) {
            State::Active
        } else if at < start_of(self.lapses) {
            State::RenewalDue
        } else {
            State::Lapsed
        }
    }

    /// Whether renewal is allowed at `at`.
    pub fn window_open(&self, at: DateTime<Utc>) -> bool {
        start_of(self.renewal_opens) <= at && at < start_of(self.lapses)
    }

    /// The last day renewal is allowed.
    pub fn window_closes(&self) -> NaiveDate {
        self.lapses.pred_opt().unwrap_or(self.lapses)
    }
}

/// `from` plus `months`, on the anchor day of the month where the month has it (else its
/// last day): a term bought on Jan 31 ends on Jan 31, and one whose anniversary was clamped
/// to Feb 28 comes back to the 31st where it can.
pub fn add_term(from: NaiveDate, months: u32, anchor_day: u32) -> NaiveDate {
    let d = from
        .checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX);
    let last = last_day_of_month(d);
    d.with_day(anchor_day.clamp(1, last)).unwrap_or(d)
}

fn last_day_of_month(d: NaiveDate) -> u32 {
    let first = d.with_day(1).unwrap_or(d);
    first
        .checked_add_months(Months::new(1))
        .and_then(|n| n.pred_opt())
        .map_or(31, |l| l.day())
}
