//! The renewal timeline of the page: for the 12 months ahead, exactly the relied-on
//! certifications of `achievements renewals` (SPEC §9b, §11) — competency levels and
//! designations alike — one row per person.
//!
//! Invariant: the rows are [`crate::domain::renewals::from_judged`] over the same
//! evaluation, so the page and the command agree to the day; that is one criticality pass
//! over the organization, never one re-evaluation per person or certification.

use chrono::{DateTime, Months, Utc};

use super::*;

/// The relied-on certifications that stop counting after today and within 12 months,
/// grouped by person, earliest first.
pub(super) fn build(
    judged: Judged,
    designations: Option<&crate::rules::Snapshot>,
    at: DateTime<Utc>,
) -> Timeline {
    let from = at.date_naive();
    // Never past the program's last day (a report dated late in 9999).
    let to = crate::support::clock::capped(
        from.checked_add_months(Months::new(12))
            .unwrap_or(chrono::NaiveDate::MAX),
    );
    let days = u32::try_from((to - from).num_days()).unwrap_or(0);
    let renewals =
        crate::domain::renewals::from_judged(&judged, designations, at, days, None, false);
    let mut rows: Vec<TimelineRow> = Vec::new();
    for r in renewals {
        let bar = TimelineBar {
            code: r.code,
            stops: r.expires,
            breaks: r.carries,
        };
        match rows.iter_mut().find(|row| row.username == r.username) {
            Some(row) => row.bars.push(bar),
            None => rows.push(TimelineRow {
                username: r.username,
                bars: vec![bar],
            }),
        }
    }
    for r in &mut rows {
        r.bars
            .sort_by(|a, b| a.stops.cmp(&b.stops).then(a.code.cmp(&b.code)));
    }
    rows.sort_by(|a, b| {
        a.bars[0]
            .stops
            .cmp(&b.bars[0].stops)
            .then(a.username.cmp(&b.username))
    });
    judge::discard(judged);
    Timeline { from, to, rows }
}
