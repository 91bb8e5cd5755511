//! The counting rules of SPEC §5, applied to one achievement at one instant: when an
//! association is active, when an achievement starts counting (its day at 00:00 UTC or the
//! association, whichever is later, plus the progress delay), when it stops (removal, expiry,
//! the end of its exam's retirement grace), and a metric's value over its trailing window.
//!
//! Every rule reads only the rulebook, the snapshot and the instant asked about, so the
//! windows (see [`super::window`]) can find every instant where an answer may change.

use chrono::{DateTime, Days, Months, NaiveDate, NaiveTime, TimeDelta, Utc};

use crate::rules::engine::snapshot::{Achievement, PerformanceRecord, Person, Snapshot};
use crate::rules::parse::{CatalogEntry, Market, Metric, MetricRequirement, Program, Rulebook};

/// Midnight UTC at the start of `day`: every date in the rulebook and the snapshot takes
/// effect at that instant.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// Whether the association is active at `at`: it started at or before `at` and has not
/// ended (an association ending at `at` no longer counts at `at`).
pub fn association_active(person: &Person, at: DateTime<Utc>) -> bool {
    person.associated <= at && person.ended.is_none_or(|ended| at < ended)
}

/// The first day an achievement no longer counts whatever the instant: the earlier of its
/// expiry (the record's `expires`, else `earned + valid_days` from the catalogue) and the
/// end of its exam's retirement grace. `None` when neither applies, or the code is not in
/// the catalogue (it never counts anyway).
pub fn counts_until(rb: &Rulebook, ach: &Achievement) -> Option<NaiveDate> {
    rb.catalog_entry(&ach.code)
        .and_then(|entry| CatalogRule::new(entry, &rb.program).until(ach))
}

/// The retirement day of `code` when a pass `earned` on or after it: such a pass never
/// counts (SPEC §5). `None` for a code not retired, or retired after the pass.
pub fn retired_before_earned(rb: &Rulebook, code: &str, earned: NaiveDate) -> Option<NaiveDate> {
    rb.catalog_entry(code)
        .and_then(|e| e.retired)
        .filter(|retired| earned >= *retired)
}

/// Whether one achievement of `person` counts at `at` (SPEC §5). See [`CatalogRule::counts`]
/// for the rules; codes absent from the catalogue never count.
pub fn achievement_counts(
    rb: &Rulebook,
    person: &Person,
    ach: &Achievement,
    at: DateTime<Utc>,
) -> bool {
    association_active(person, at)
        && rb.catalog_entry(&ach.code).is_some_and(|entry| {
            CatalogRule::new(entry, &rb.program).counts(
                person.associated,
                ach,
                &When::new(at, &rb.program),
            )
        })
}

/// [`achievement_counts`] with the achievement's catalogue entry already looked up, for
/// loops over many instants.
pub fn achievement_counts_in(
    rb: &Rulebook,
    entry: &CatalogEntry,
    person: &Person,
    ach: &Achievement,
    at: DateTime<Utc>,
) -> bool {
    association_active(person, at)
        && CatalogRule::new(entry, &rb.program).counts(
            person.associated,
            ach,
            &When::new(at, &rb.program),
        )
}

/// [`counts_until`] with the achievement's catalogue entry already looked up.
pub fn counts_until_in(
    rb: &Rulebook,
    entry: &CatalogEntry,
    ach: &Achievement,
) -> Option<NaiveDate> {
    CatalogRule::new(entry, &rb.program).until(ach)
}

/// The evaluation instant with what the counting rules derive from it, computed once so
/// checking 300,000 achievements is a few date comparisons each.
#[derive(Debug, Clone, Copy)]
pub(super) struct When {
    at: DateTime<Utc>,
    today: NaiveDate,
    /// `at - progress_delay_hours`: whatever happened after this is still in its delay.
    /// `None` when that instant is before chrono's range (then nothing counts yet).
    cutoff: Option<DateTime<Utc>>,
}

impl When {
    pub(super) fn new(at: DateTime<Utc>, program: &Program) -> Self {
        let delay = TimeDelta::hours(i64::from(program.progress_delay_hours));
        When {
            at,
            today: at.date_naive(),
            cutoff: at.checked_sub_signed(delay),
        }
    }
}

/// The parts of a catalogue entry that decide whether an achievement counts.
#[derive(Debug, Clone, Copy)]
pub(super) struct CatalogRule {
    valid_days: Option<u32>,
    retired: Option<NaiveDate>,
    /// `retired + retired_grace_months`: from 00:00 UTC that day a retired exam no longer
    /// counts (chrono clamps to the month's end: Jan 31 + 1 month = Feb 28/29).
    grace_end: Option<NaiveDate>,
}

impl CatalogRule {
    pub(super) fn new(entry: &CatalogEntry, program: &Program) -> Self {
        let months = Months::new(program.retired_grace_months);
        CatalogRule {
            valid_days: entry.valid_days,
            retired: entry.retired,
            grace_end: entry
                .retired
                .map(|r| r.checked_add_months(months).unwrap_or(NaiveDate::MAX)),
        }
    }

    /// The record's own expiry, else `earned + valid_days`: a record may carry the date
    /// printed on the certificate, which wins over the catalogue's rule of thumb.
    pub(super) fn expiry(&self, ach: &Achievement) -> Option<NaiveDate> {
        ach.expires.or_else(|| {
            self.valid_days.map(|d| {
                ach.earned
                    .checked_add_days(Days::new(u64::from(d)))
                    .unwrap_or(NaiveDate::MAX)
            })
        })
    }

    pub(super) fn until(&self, ach: &Achievement) -> Option<NaiveDate> {
        match (self.expiry(ach), self.grace_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the achievement counts at `at` for an association that started at
    /// `associated` and is active at `at` (checked by the caller, once per person):
    /// - **delay**: `at >= max(earned at 00:00 UTC, associated) + progress_delay_hours` —
    ///   progress shows a fixed time after the later of passing and linking the MSA; exactly
    ///   the delay counts, a second less does not;
    /// - **removed**: an administrator's removal takes effect at its instant;
    /// - **expired**: from 00:00 UTC of the effective expiry day it no longer counts;
    /// - **retired**: only if earned strictly before the retirement day, and only until
    ///   00:00 UTC of `retired + retired_grace_months`.
    pub(super) fn counts(&self, associated: DateTime<Utc>, ach: &Achievement, when: &When) -> bool {
        if ach.removed.is_some_and(|removed| when.at >= removed) {
            return false;
        }
        // at >= max(midnight(earned), associated) + delay  <=>  both are <= at - delay, and
        // midnight(earned) <= cutoff  <=>  earned <= cutoff's day.
        let Some(cutoff) = when.cutoff else {
            return false;
        };
        if associated > cutoff || ach.earned > cutoff.date_naive() {
            return false;
        }
        if self.expiry(ach).is_some_and(|expiry| when.today >= expiry) {
            return false;
        }
        match (self.retired, self.grace_end) {
            (Some(retired), Some(grace_end)) => ach.earned < retired && when.today < grace_end,
            _ => true,
        }
    }
}

/// The threshold for the organization's market: `developing` in developing markets when the
/// rulebook gives one, else `at_least`.
pub(super) fn threshold(req: &MetricRequirement, market: Market) -> f64 {
    match (market, req.developing) {
        (Market::Developing, Some(developing)) => developing,
        _ => req.at_least,
    }
}

/// A metric's value at `at`: records of the metric dated in the trailing window
/// (`today - window_days < date <= today`, so a 365-day window holds 365 days and ends on
/// the evaluation day, future-dated records excluded) and, when the requirement has a
/// scope, with that scope (ignoring ASCII case). `revenue` and `new-customers` are summed;
/// `active-usage` and `deployed-seats` are levels, not flows, so the latest record counts
/// (on the same day, the larger value: two reports of one day are not added up).
/// Returns the value and the first day of the window.
pub(super) fn metric_value(
    snap: &Snapshot,
    req: &MetricRequirement,
    window_days: u32,
    at: DateTime<Utc>,
) -> (f64, NaiveDate) {
    let today = at.date_naive();
    let before = day_before_window(today, window_days);
    let window_start = before.succ_opt().unwrap_or(NaiveDate::MAX);
    let records = records_in_window(snap, req.metric, req.scope.as_deref(), before, today);
    let value = if req.metric.is_summed() {
        records.map(|r| r.value).sum()
    } else {
        latest_value(records)
    };
    (value, window_start)
}

/// The day before the trailing window of `window_days` days that ends on `today`.
pub(super) fn day_before_window(today: NaiveDate, window_days: u32) -> NaiveDate {
    today
        .checked_sub_days(Days::new(u64::from(window_days)))
        .unwrap_or(NaiveDate::MIN)
}

/// The records of `metric` dated after `before` and on or before `today` and, when there is
/// a `scope`, with that scope (ignoring ASCII case).
pub(super) fn records_in_window<'a>(
    snap: &'a Snapshot,
    metric: Metric,
    scope: Option<&'a str>,
    before: NaiveDate,
    today: NaiveDate,
) -> impl Iterator<Item = &'a PerformanceRecord> {
    snap.performance.iter().filter(move |r| {
        r.metric == metric
            && r.date > before
            && r.date <= today
            && scope.is_none_or(|scope| r.scope.eq_ignore_ascii_case(scope))
    })
}

/// The value of the latest of `records` (of two on one day, the larger); 0 with none.
pub(super) fn latest_value<'a>(records: impl Iterator<Item = &'a PerformanceRecord>) -> f64 {
    records
        .max_by(|a, b| a.date.cmp(&b.date).then(a.value.total_cmp(&b.value)))
        .map_or(0.0, |r| r.value)
}
