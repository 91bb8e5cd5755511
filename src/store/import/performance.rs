//! The write side of the performance import, one algorithm on both backends (issue 27),
//! shaped as the achievements imports' (`records`): the rows are staged (`staging`), then
//! these statements decide them all, set-based, inside the command's one transaction:
//! 1. every occurrence of a key (metric, scope, track, association, date) after its first
//!    in the file is refused, naming the value the first gives, which is the value then
//!    recorded for the key (the repeated keys grouped aside): a key this file already gave
//!    is invalid whatever the database holds (SPEC §6);
//! 2. `INSERT … SELECT … ON CONFLICT DO NOTHING` in file order (`added`, ids in file
//!    order): the first occurrence of a new key gives its record, so step 1 runs only when
//!    some row was not added;
//! 3. `UPDATE … FROM` the organization's records whose value differs (`updated`: the value
//!    and its time replaced); the rest of the rows taken are `unchanged`.
//!
//! The counts are the statements' own, and the refused rows come back in file order with
//! the invalid ones ([`PerformanceStage::decide`]).

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};

use super::staging::{INVALID, Kind, Place, Stage, Table};
use crate::rules::Metric;
use crate::store::Db;
use crate::store::sql::{Value, params};

/// The staging table of the performance import.
static TABLE: Table = Table {
    kinds: &[
        Kind::Int,
        Kind::Int,
        Kind::Int,
        Kind::Int,
        Kind::Text,
        Kind::Text,
        Kind::Text,
        Kind::Text,
        Kind::Text,
        Kind::Text,
        Kind::Real,
    ],
    create: "CREATE TEMP TABLE import_performance (line INTEGER PRIMARY KEY,
        span_start INTEGER, span_end INTEGER, verdict INTEGER, detail TEXT, metric TEXT,
        scope TEXT, track TEXT, association TEXT, date TEXT, value REAL)",
    insert: "INSERT INTO temp.import_performance
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    copy: "COPY import_performance (line, span_start, span_end, verdict, detail, metric,
        scope, track, association, date, value) FROM STDIN (FORMAT binary)",
    count_taken: "SELECT count(*) FROM temp.import_performance WHERE verdict IS NULL",
    refused: "SELECT line, span_start, span_end, verdict, detail, metric, scope, track,
            association, date, value
     FROM temp.import_performance WHERE verdict IS NOT NULL ORDER BY line",
    drop: "DROP TABLE IF EXISTS temp.import_performance",
    repeats: Some((
        "CREATE TEMP TABLE import_performance_repeats (metric TEXT, scope TEXT, track TEXT,
            association TEXT, date TEXT, first_line INTEGER, value REAL,
            UNIQUE (metric, scope, track, association, date))",
        "DROP TABLE IF EXISTS temp.import_performance_repeats",
    )),
};

/// The verdict of a refused repeat (invalid rows are `staging::INVALID`).
const REPEATED: i64 = 1;

/// 1. The keys the file gives more than once, with their first line (a GROUP BY, as the
///    achievements imports': a third of the time of a window on SQLite)…
const REPEATED_KEYS: &str = "INSERT INTO temp.import_performance_repeats
       (metric, scope, track, association, date, first_line)
     SELECT metric, scope, track, association, date, min(line) FROM temp.import_performance
     WHERE verdict IS NULL GROUP BY metric, scope, track, association, date
     HAVING count(*) > 1";

/// … the value their first line gives …
const REPEATED_KEPT: &str = "UPDATE temp.import_performance_repeats SET value = s.value
     FROM temp.import_performance AS s WHERE s.line = import_performance_repeats.first_line";

/// … and every later occurrence refused, naming it (in `value`: a refused row's own value
/// is never used again).
const REPEATED_ROWS: &str = "UPDATE temp.import_performance SET verdict = 1, value = r.value
     FROM temp.import_performance_repeats AS r
     WHERE import_performance.verdict IS NULL AND import_performance.metric = r.metric
       AND import_performance.scope = r.scope AND import_performance.track = r.track
       AND import_performance.association = r.association
       AND import_performance.date = r.date AND import_performance.line > r.first_line";

/// 3. Records whose value changes (?1: the organization, ?2: when).
const UPDATE_ROWS: &str = "UPDATE performance SET value = s.value, recorded_at = ?2
     FROM temp.import_performance AS s
     WHERE s.verdict IS NULL AND performance.org_id = ?1 AND performance.metric = s.metric
       AND performance.scope = s.scope AND performance.track = s.track
       AND performance.association = s.association AND performance.date = s.date
       AND performance.value <> s.value";

/// 2. New records, in file order (?1: the organization, ?2: when).
const INSERT_ROWS: &str = "INSERT INTO performance
       (org_id, metric, scope, track, association, value, date, recorded_at)
     SELECT CAST(?1 AS INTEGER), metric, scope, track, association, value, date,
            CAST(?2 AS INTEGER)
     FROM temp.import_performance WHERE verdict IS NULL ORDER BY line
     ON CONFLICT (org_id, metric, scope, track, association, date) DO NOTHING";

/// Why a row was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum PerformanceRefusal {
    /// Invalid, with this message.
    Invalid(String),
    /// Its key was already in the file.
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
        /// The value recorded for the key.
        value: f64,
    },
}

/// The counts of the deciding statements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PerformanceDecided {
    /// Rows added.
    pub added: u64,
    /// Rows that changed a record.
    pub updated: u64,
    /// Rows already recorded.
    pub unchanged: u64,
}

/// The write side of a performance import, inside its transaction.
pub struct PerformanceStage<'a> {
    stage: Stage<'a>,
    org_id: i64,
    at: DateTime<Utc>,
}

impl<'a> Db<'a> {
    /// Starts the write side of a performance import into `org_id` at `at`.
    pub fn performance_stage(
        &'a self,
        org_id: i64,
        at: DateTime<Utc>,
    ) -> Result<PerformanceStage<'a>> {
        Ok(PerformanceStage {
            stage: Stage::begin(self, &TABLE)?,
            org_id,
            at,
        })
    }
}

impl PerformanceStage<'_> {
    /// Stages a valid row (in file order); `key` is (scope, track, association), '' for
    /// none.
    pub fn add(
        &mut self,
        line: u64,
        span: (u64, u64),
        metric: Metric,
        key: (&str, &str, &str),
        value: f64,
        date: NaiveDate,
    ) -> Result<()> {
        let date = date.to_string();
        self.stage.add(
            line,
            span,
            &[
                Value::Text(metric.as_str()),
                Value::Text(key.0),
                Value::Text(key.1),
                Value::Text(key.2),
                Value::Text(&date),
                Value::Real(value),
            ],
        )
    }

    /// Stages an invalid row, reported in file order with the refused ones.
    pub fn invalid(&mut self, line: u64, span: (u64, u64), message: &str) -> Result<()> {
        self.stage.invalid(line, span, message)
    }

    /// Decides the staged rows (see the module); `refused` gets every invalid or refused
    /// row in file order.
    pub fn decide(
        mut self,
        mut refused: impl FnMut(Place, PerformanceRefusal) -> Result<()>,
    ) -> Result<PerformanceDecided> {
        let staged = self.stage.count_taken()?;
        let at = self.at.timestamp();
        // New keys first, in file order: the first occurrence of each gives the record. A
        // file all of whose rows were added repeats no key and needs no grouping (see
        // `records`); otherwise the repeats are refused now, before any record is updated.
        let added = self.stage.run(INSERT_ROWS, params![self.org_id, at])?;
        let taken = if added == staged {
            staged
        } else {
            if self.stage.run(REPEATED_KEYS, params![])? > 0 {
                self.stage.run(REPEATED_KEPT, params![])?;
                self.stage.run(REPEATED_ROWS, params![])?;
            }
            self.stage.count_taken()?
        };
        // The records just added hold their only row's value: this changes none of them.
        let updated = self.stage.run(UPDATE_ROWS, params![self.org_id, at])?;
        self.stage.for_each_refused(|place, r| {
            let why = match place.verdict {
                INVALID => {
                    PerformanceRefusal::Invalid(r.get::<_, Option<String>>(4)?.unwrap_or_default())
                }
                REPEATED => {
                    let metric: String = r.get(5)?;
                    let date: String = r.get(9)?;
                    PerformanceRefusal::Repeated {
                        metric: Metric::parse(&metric).ok_or_else(|| {
                            anyhow::anyhow!("unknown metric {metric:?} in the staged rows")
                        })?,
                        scope: r.get(6)?,
                        track: r.get(7)?,
                        association: r.get(8)?,
                        date: NaiveDate::parse_from_str(&date, "%Y-%m-%d")?,
                        value: r.get(10)?,
                    }
                }
                other => anyhow::bail!("internal error: unknown verdict {other}"),
            };
            refused(place, why)
        })?;
        self.stage.close();
        Ok(PerformanceDecided {
            added,
            updated,
            unchanged: taken - added - updated,
        })
    }
}
