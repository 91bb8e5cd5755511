//! The write side of the performance import, split in two as the achievements imports' is
//! (see `stage`), so that each backend decides rows its own way (issue 14):
//! - **stage** ([`PerformanceStage::add`]): a validated row is handed over in file order.
//!   SQLite decides it at once, as it always has (statements prepared once, one upsert per
//!   row); PostgreSQL buffers it for a binary COPY into a TEMP table and answers
//!   [`PerformanceVerdict::Later`].
//! - **decide** ([`PerformanceStage::finish`]): PostgreSQL decides the staged rows with a
//!   few set-based statements (see `pgperformance`); the counts come from those statements
//!   and the rows they refused come back in file order with the rows held as invalid
//!   ([`PerformanceStage::hold`]), so the summary, the rejects file and the audit are
//!   exactly SQLite's.
//!
//! The rules are the same on both: a key (organization, metric, scope, track, association,
//! date) already
//! recorded with the same value is unchanged, with another value updated (the value and
//! its time replaced); a key this file already gave is refused whatever the database holds
//! (SPEC §6), naming the value then stored for it.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};

use super::Db;
use super::import::{BulkTable, Insert, PerformanceStatements};
use super::pgperformance::PgPerformance;
use super::stage::{Decided, Seen};
use crate::rules::Metric;

/// What the database decided for a staged row.
#[derive(Debug, Clone, PartialEq)]
pub enum PerformanceDecision {
    /// A new record.
    Added,
    /// Already recorded with the same value.
    Unchanged,
    /// Recorded with another value: the value replaced.
    Updated,
    /// The file already gave this key: the value recorded for it now.
    Repeated(f64),
}

/// The answer to a staged row.
#[derive(Debug, Clone, PartialEq)]
pub enum PerformanceVerdict {
    /// Decided now.
    Now(PerformanceDecision),
    /// Decided by [`PerformanceStage::finish`].
    Later,
}

/// A row refused at the end, in file order: held as invalid, or refused by the decision.
#[derive(Debug, Clone)]
pub struct PerformanceHeld {
    /// The line it starts on.
    pub line: u64,
    /// Its span in the file.
    pub span: (u64, u64),
    /// Why.
    pub why: PerformanceHeldWhy,
}

/// Why a row was refused at the end.
#[derive(Debug, Clone)]
pub enum PerformanceHeldWhy {
    /// Invalid, with this message (see [`PerformanceStage::hold`]).
    Invalid(String),
    /// Its key was already in the file ([`PerformanceDecision::Repeated`]).
    Repeated {
        /// The metric.
        metric: Metric,
        /// The scope, empty when none.
        scope: String,
        /// The track, empty when none.
        track: String,
        /// The association, empty when none.
        association: String,
        /// The day.
        date: NaiveDate,
        /// The value recorded for the key now.
        value: f64,
    },
}

/// The write side of a performance import, inside its transaction.
pub struct PerformanceStage<'a> {
    db: &'a Db<'a>,
    org_id: i64,
    at: DateTime<Utc>,
    backend: Backend<'a>,
}

enum Backend<'a> {
    /// Each row decided as it comes: SQLite.
    Lite {
        st: Box<PerformanceStatements<'a>>,
        first_id: i64,
        seen: Seen,
    },
    Pg(PgPerformance),
}

impl<'a> Db<'a> {
    /// Starts the write side of a performance import into `org_id` at `at`.
    pub fn performance_stage(
        &'a self,
        org_id: i64,
        at: DateTime<Utc>,
    ) -> Result<PerformanceStage<'a>> {
        let backend = match self.conn().pg() {
            Some(p) => Backend::Pg(PgPerformance::begin(p)?),
            None => Backend::Lite {
                first_id: self.next_id(BulkTable::Performance)?,
                st: Box::new(self.performance_statements()?),
                seen: Seen::default(),
            },
        };
        Ok(PerformanceStage {
            db: self,
            org_id,
            at,
            backend,
        })
    }
}

impl PerformanceStage<'_> {
    /// Stages a validated row (in file order); `key` is (scope, track, association), ''
    /// for none.
    pub fn add(
        &mut self,
        line: u64,
        span: (u64, u64),
        metric: Metric,
        key: (&str, &str, &str),
        value: f64,
        date: NaiveDate,
    ) -> Result<PerformanceVerdict> {
        let (st, first_id, seen) = match &mut self.backend {
            Backend::Pg(p) => {
                let pg = self.db.conn().pg().expect("PostgreSQL");
                p.add(pg, line, span, metric, key, value, date)?;
                return Ok(PerformanceVerdict::Later);
            }
            Backend::Lite { st, first_id, seen } => (st, *first_id, seen),
        };
        let at = self.at;
        Ok(PerformanceVerdict::Now(
            match st.insert(self.org_id, metric.as_str(), key, value, date, at)? {
                Insert::Added(_) => PerformanceDecision::Added,
                // A key this file already gave (added by this import, or an existing record
                // met earlier in the file) is invalid whatever the database holds (SPEC §6),
                // so a second import of an accepted file always settles.
                Insert::Exists(id, v) if id >= first_id || !seen.insert(id) => {
                    PerformanceDecision::Repeated(v)
                }
                Insert::Exists(_, v) if v == value => PerformanceDecision::Unchanged,
                Insert::Exists(id, _) => {
                    st.update(id, value, at)?;
                    PerformanceDecision::Updated
                }
            },
        ))
    }

    /// Holds an invalid row to be reported with those refused at the end, in file order;
    /// false when the backend decides rows at once and the caller reports it now.
    pub fn hold(&mut self, line: u64, span: (u64, u64), message: &str) -> Result<bool> {
        match &mut self.backend {
            Backend::Lite { .. } => Ok(false),
            Backend::Pg(p) => {
                let pg = self.db.conn().pg().expect("PostgreSQL");
                p.hold(pg, line, span, message)?;
                Ok(true)
            }
        }
    }

    /// Decides the staged rows; then `held` gets every held or refused row in file order.
    pub fn finish(self, held: impl FnMut(PerformanceHeld) -> Result<()>) -> Result<Decided> {
        match self.backend {
            Backend::Lite { .. } => Ok(Decided::default()),
            Backend::Pg(p) => {
                let pg = self.db.conn().pg().expect("PostgreSQL");
                p.finish(pg, self.org_id, self.at, held)
            }
        }
    }
}
