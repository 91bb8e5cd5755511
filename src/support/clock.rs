//! The one source of "now".
//!
//! Built once from `--now` (or `COMPETENCY_NOW`) or the system clock, and passed down to
//! every domain service: no domain code reads the system clock, so a command run with
//! `--now` acts entirely at that instant (evaluation time and every recorded timestamp).

use chrono::{DateTime, Days, NaiveDate, NaiveTime, SecondsFormat, Utc};

/// Defined with the rules, which may import nothing of ours; one definition for all.
pub use crate::rules::limits::{MAX_DAYS, capped, in_range, last_day};

/// The last instant the program works with: 9999-12-31T23:59:59Z (see [`capped`]).
pub fn last_instant() -> DateTime<Utc> {
    midnight(last_day()) + chrono::TimeDelta::seconds(86_399)
}

/// Parses a count of days for a command-line option: 0 to [`MAX_DAYS`].
pub fn parse_days(s: &str) -> Result<u32, String> {
    let t = s.trim();
    match crate::support::fields::whole_number("", t) {
        Ok(n) if n <= u64::from(MAX_DAYS) => Ok(n as u32),
        Ok(_) => Err(format!("at most {MAX_DAYS} days (100 years) are accepted")),
        Err(e) if e.ends_with(crate::support::fields::NUMBER_FIX) => Err(e),
        Err(_) => Err(format!(
            "{} is not a number of days (0 to {MAX_DAYS})",
            crate::support::fields::shown(t)
        )),
    }
}

/// `d` plus `n` days, `None` past chrono's range.
pub fn add_days(d: NaiveDate, n: u32) -> Option<NaiveDate> {
    d.checked_add_days(Days::new(u64::from(n)))
}

/// The instant a command acts at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    now: DateTime<Utc>,
}

impl Clock {
    /// A clock fixed at `now`.
    pub fn fixed(now: DateTime<Utc>) -> Self {
        Clock { now }
    }

    /// The system clock, read once. Only the command-line front end calls this.
    #[allow(clippy::disallowed_methods)]
    pub fn system() -> Self {
        // Whole seconds: everything is stored at second precision, and a command must
        // compare equal to what it just wrote.
        let now = Utc::now();
        Clock::fixed(DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now))
    }

    /// The instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Today's date in UTC.
    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }
}

/// Parses `--now`: RFC 3339 (`2026-03-01T09:00:00Z`) or a date (`2026-03-01`, midnight UTC).
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    let t = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        Some(t.with_timezone(&Utc))
    } else if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Some(midnight(d))
    } else {
        None
    };
    if let Some(t) = t {
        in_range(t.date_naive())?;
        return Ok(t);
    }
    Err(format!(
        "{} is not a time: use RFC 3339 (2026-03-01T09:00:00Z) or a date (2026-03-01)",
        crate::support::fields::shown(s)
    ))
}

/// Parses a calendar date `YYYY-MM-DD`, rejecting impossible dates such as 2026-02-30.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let t = s.trim();
    // chrono accepts "2026-3-1" and 5-digit years; the contract is exactly YYYY-MM-DD.
    let shaped = t.len() == 10
        && t.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err(format!(
            "{} is not a date (expected YYYY-MM-DD)",
            crate::support::fields::shown(t)
        ));
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map_err(|_| format!("\"{t}\" is not a valid date"))
        .and_then(in_range)
}

/// Midnight UTC at the start of a date.
pub fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

/// An instant as RFC 3339 UTC with second precision (`2026-03-01T09:00:00Z`).
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An instant from stored unix seconds.
pub fn from_unix(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The real time, to compare with file times (a leftover file's age): not the command's
/// instant, which `--now` may set anywhere. The one other read of the system clock.
#[allow(clippy::disallowed_methods)]
pub fn file_time_now() -> std::time::SystemTime {
    std::time::SystemTime::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_and_dates() {
        assert_eq!(
            rfc3339(parse_instant("2026-03-01T09:00:00+01:00").unwrap()),
            "2026-03-01T08:00:00Z"
        );
        assert_eq!(
            rfc3339(parse_instant("2026-03-01").unwrap()),
            "2026-03-01T00:00:00Z"
        );
        assert!(parse_instant("yesterday").is_err());
    }

    #[test]
    fn bounds_years_and_day_counts() {
        assert!(parse_instant("+262142-12-31T00:00:00Z").is_err());
        assert!(parse_instant("1899-12-31T23:59:59Z").is_err());
        assert!(parse_instant("9999-12-31T23:59:59Z").is_ok());
        assert!(parse_instant("1900-01-01").is_ok());
        assert!(parse_date("0001-01-01").is_err());
        assert!(parse_date("9999-12-31").is_ok());
        assert_eq!(parse_days("36500"), Ok(36_500));
        assert!(parse_days("36501").is_err());
        assert!(parse_days("4294967295").is_err());
        assert!(parse_days("-1").is_err());
        assert_eq!(add_days(NaiveDate::MAX, 1), None);
    }

    #[test]
    fn rejects_impossible_and_misshapen_dates() {
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("2026-2-3").is_err());
        assert!(parse_date("+12026-02-03").is_err());
        assert_eq!(
            parse_date(" 2024-02-29 ").unwrap().to_string(),
            "2024-02-29"
        );
    }
}
