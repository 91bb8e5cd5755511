//! A membership's term: the latest purchase that decides its state and dates (the states
//! and dates themselves, shared with designations, are [`crate::domain::terms`]').
//!
//! Invariant: the latest purchase recorded at or before the instant decides.

use super::*;

/// A new term's anniversary, refused when it falls past the last storable year (an
/// upgrade `--now 9999-12-31` would end in 10000).
pub(super) fn storable_anniversary(anniversary: NaiveDate) -> Result<NaiveDate> {
    crate::support::clock::in_range(anniversary).map_err(|e| {
        crate::error::bad_input(format!("the new term would end on {e}; nothing was bought"))
    })
}

/// The organization's membership: its latest purchase and what follows from it.
#[derive(Debug, Clone)]
pub struct Membership {
    /// The latest purchase.
    pub current: PurchaseRow,
    /// The purchase before it, if any.
    pub previous: Option<PurchaseRow>,
    /// The latest purchase's dates.
    pub dates: Dates,
    /// The state at the instant asked about.
    pub state: State,
}

impl Membership {
    /// The level held (or last held, when lapsed).
    pub fn level(&self) -> Level {
        self.current.level
    }

    /// The terms whose attainments the profile displays at `at`: the latest purchase's,
    /// and while a renewal bought early has not started, the term it extends. Empty once
    /// lapsed.
    pub fn display_terms(&self, at: DateTime<Utc>) -> Vec<i64> {
        if !self.state.is_held() {
            return Vec::new();
        }
        let mut terms = vec![self.current.id];
        if self.current.is_renewal()
            && at < start_of(self.current.term_start)
            && let Some(prev) = &self.previous
        {
            terms.push(prev.id);
        }
        terms
    }

    /// When the term whose attainments the profile displays at `at` began: the latest
    /// purchase's term start, or while a renewal bought early has not started, the start of
    /// the term it extends. `None` once lapsed.
    pub fn display_from(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if !self.state.is_held() {
            return None;
        }
        let mut from = self.current.term_start;
        if self.current.is_renewal()
            && at < start_of(self.current.term_start)
            && let Some(prev) = &self.previous
        {
            from = prev.term_start;
        }
        Some(start_of(from))
    }
}

/// The organization's membership at `at`, if it ever bought one.
pub fn membership(
    db: &Db,
    org: &Org,
    program: &Program,
    at: DateTime<Utc>,
) -> Result<Option<Membership>> {
    // Purchases recorded after `at` do not exist yet at `at`: before the first one the
    // state is `none`.
    let mut latest = db
        .purchases(org.id)?
        .into_iter()
        .filter(|p| p.purchased_at <= at)
        .rev();
    let Some(current) = latest.next() else {
        return Ok(None);
    };
    let dates = Dates::new(current.anniversary, program);
    Ok(Some(Membership {
        state: dates.state_at(at),
        previous: latest.next(),
        current,
        dates,
    }))
}
