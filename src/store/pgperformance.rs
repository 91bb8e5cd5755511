//! The performance import on PostgreSQL (issue 14), shaped as the achievements imports'
//! (`pgrecords`): the validated rows are streamed by binary COPY, a batch at a time (memory
//! stays flat), into an unindexed TEMP table, with the rows held as invalid into another;
//! then a few set-based statements decide them all, inside the command's one transaction,
//! in the order SQLite's row-by-row upsert takes its decisions:
//! 1. every occurrence of a key (metric, scope, date) after its first in the file is moved
//!    to the held rows (a window over the staged rows): SQLite refuses it whatever the
//!    database holds, since its first occurrence was added, updated or met unchanged;
//! 2. `UPDATE … FROM` the organization's records whose value differs (`updated`: the value
//!    and its time replaced);
//! 3. `INSERT … SELECT … ON CONFLICT DO NOTHING` in file order (`added`, ids in file order
//!    as on SQLite); the rest is `unchanged`;
//! 4. each refused repeat gets the value now recorded for its key, the one SQLite names.
//!
//! The counts are the statements' own (`RETURNING`), and the held rows are read back in
//! file order through a cursor, so the summary, rejects file and audit are SQLite's. Every
//! statement is a constant string; values travel as typed parameters or binary fields.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use postgres::types::Type;

use super::perfstage::{PerformanceHeld, PerformanceHeldWhy};
use super::sql::Pg;
use super::stage::Decided;
use crate::rules::Metric;

const DDL: &str = "DROP TABLE IF EXISTS import_performance, import_performance_held;
     CREATE TEMP TABLE import_performance (line BIGINT, span_start BIGINT, span_end BIGINT,
        metric TEXT COLLATE \"C\", scope TEXT COLLATE \"C\", date TEXT COLLATE \"C\",
        value DOUBLE PRECISION);
     CREATE TEMP TABLE import_performance_held (line BIGINT, span_start BIGINT,
        span_end BIGINT, kind SMALLINT, message TEXT, metric TEXT COLLATE \"C\",
        scope TEXT COLLATE \"C\", date TEXT COLLATE \"C\", value DOUBLE PRECISION);";

const DROP: &str = "DROP TABLE IF EXISTS import_performance, import_performance_held";

const COPY_ROWS: &str = "COPY import_performance
     (line, span_start, span_end, metric, scope, date, value) FROM STDIN (FORMAT binary)";

const COPY_HELD: &str = "COPY import_performance_held
     (line, span_start, span_end, kind, message) FROM STDIN (FORMAT binary)";

/// Rows buffered before a COPY.
const COPY_BATCH: usize = 4096;

/// Held kinds.
const INVALID: i16 = 0;
const REPEATED: i16 = 1;

/// 1. Every occurrence of a key after its first.
const REPEATED_ROWS: &str = "INSERT INTO import_performance_held
        (line, span_start, span_end, kind, metric, scope, date)
     SELECT line, span_start, span_end, 1, metric, scope, date FROM (
       SELECT line, span_start, span_end, metric, scope, date,
              row_number() OVER (PARTITION BY metric, scope, date ORDER BY line) AS n
       FROM import_performance) r
     WHERE n > 1";

const DROP_REPEATED: &str = "DELETE FROM import_performance WHERE line IN
     (SELECT line FROM import_performance_held WHERE kind = 1)";

/// 2. Records whose value changes ($1: the organization, $2: when).
const UPDATE_ROWS: &str = "WITH u AS (
       UPDATE performance p SET value = s.value, recorded_at = $2::BIGINT
       FROM import_performance s
       WHERE p.org_id = $1::BIGINT AND p.metric = s.metric AND p.scope = s.scope
         AND p.date = s.date AND p.value <> s.value
       RETURNING 1)
     SELECT count(*) FROM u";

/// 3. New records, in file order ($1: the organization, $2: when).
const INSERT_ROWS: &str = "WITH i AS (
       INSERT INTO performance (org_id, metric, scope, value, date, recorded_at)
       SELECT $1::BIGINT, metric, scope, value, date, $2::BIGINT
       FROM import_performance ORDER BY line
       ON CONFLICT (org_id, metric, scope, date) DO NOTHING
       RETURNING 1)
     SELECT count(*) FROM i";

/// 4. The value recorded now for each refused repeat's key ($1: the organization).
const REPEATED_VALUES: &str = "UPDATE import_performance_held h SET value = p.value
     FROM performance p
     WHERE h.kind = 1 AND p.org_id = $1::BIGINT AND p.metric = h.metric
       AND p.scope = h.scope AND p.date = h.date";

const COUNT_STAGED: &str = "SELECT count(*) FROM import_performance";

const OPEN_HELD: &str = "DECLARE import_performance_held_by_line NO SCROLL CURSOR FOR
     SELECT line, span_start, span_end, kind, message, metric, scope, date, value
     FROM import_performance_held ORDER BY line";
const FETCH_HELD: &str = "FETCH FORWARD 4096 FROM import_performance_held_by_line";
const CLOSE_HELD: &str = "CLOSE import_performance_held_by_line";

/// A staged row: line, span, metric, scope, date, value.
type Row = (i64, i64, i64, &'static str, String, String, f64);

/// What a performance import buffers on PostgreSQL before sending it with COPY.
pub struct PgPerformance {
    rows: Vec<Row>,
    held: Vec<(i64, i64, i64, i16, String)>,
}

impl PgPerformance {
    /// Creates the TEMP tables (inside the transaction: a rollback removes them too).
    pub fn begin(pg: &Pg) -> Result<Self> {
        pg.batch_raw(DDL)?;
        Ok(PgPerformance {
            rows: Vec::with_capacity(COPY_BATCH),
            held: Vec::new(),
        })
    }

    /// Buffers a validated row.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        pg: &Pg,
        line: u64,
        span: (u64, u64),
        metric: Metric,
        scope: &str,
        value: f64,
        date: NaiveDate,
    ) -> Result<()> {
        self.rows.push((
            line as i64,
            span.0 as i64,
            span.1 as i64,
            metric.as_str(),
            scope.to_owned(),
            date.to_string(),
            value,
        ));
        self.maybe_flush(pg)
    }

    /// Buffers an invalid row.
    pub fn hold(&mut self, pg: &Pg, line: u64, span: (u64, u64), message: &str) -> Result<()> {
        self.held.push((
            line as i64,
            span.0 as i64,
            span.1 as i64,
            INVALID,
            message.to_owned(),
        ));
        self.maybe_flush(pg)
    }

    fn maybe_flush(&mut self, pg: &Pg) -> Result<()> {
        if self.rows.len() + self.held.len() >= COPY_BATCH {
            self.flush(pg)?;
        }
        Ok(())
    }

    fn flush(&mut self, pg: &Pg) -> Result<()> {
        if !self.rows.is_empty() {
            let rows = &self.rows;
            pg.copy_in(
                COPY_ROWS,
                &[
                    Type::INT8,
                    Type::INT8,
                    Type::INT8,
                    Type::TEXT,
                    Type::TEXT,
                    Type::TEXT,
                    Type::FLOAT8,
                ],
                |w| {
                    for (line, s, e, metric, scope, date, value) in rows {
                        w.write(&[line, s, e, metric, scope, date, value])?;
                    }
                    Ok(())
                },
            )?;
            self.rows.clear();
        }
        if !self.held.is_empty() {
            let held = std::mem::take(&mut self.held);
            pg.copy_in(
                COPY_HELD,
                &[Type::INT8, Type::INT8, Type::INT8, Type::INT2, Type::TEXT],
                |w| {
                    for (line, s, e, kind, message) in &held {
                        w.write(&[line, s, e, kind, message])?;
                    }
                    Ok(())
                },
            )?;
        }
        Ok(())
    }

    /// Decides the staged rows (see the module); `held` then gets the held and refused
    /// rows in file order; the TEMP tables are dropped.
    pub fn finish(
        mut self,
        pg: &Pg,
        org_id: i64,
        at: DateTime<Utc>,
        mut held: impl FnMut(PerformanceHeld) -> Result<()>,
    ) -> Result<Decided> {
        self.flush(pg)?;
        pg.query_typed(REPEATED_ROWS, &[])?;
        pg.query_typed(DROP_REPEATED, &[])?;
        let count = |sql: &str, params: &[&(dyn postgres::types::ToSql + Sync)]| -> Result<u64> {
            let rows = pg.query_typed(sql, params)?;
            Ok(rows.first().map_or(0, |r| r.get::<_, i64>(0)) as u64)
        };
        let at = at.timestamp();
        let staged = count(COUNT_STAGED, &[])?;
        let updated = count(UPDATE_ROWS, &[&org_id, &at])?;
        let added = count(INSERT_ROWS, &[&org_id, &at])?;
        pg.query_typed(REPEATED_VALUES, &[&org_id])?;
        let decided = Decided {
            added,
            updated,
            unchanged: staged - added - updated,
        };
        pg.batch_raw(OPEN_HELD)?;
        loop {
            let chunk = pg.query_typed(FETCH_HELD, &[])?;
            if chunk.is_empty() {
                break;
            }
            for r in &chunk {
                let line = r.get::<_, i64>(0) as u64;
                let kind: i16 = r.get(3);
                let why = match kind {
                    INVALID => PerformanceHeldWhy::Invalid(r.get(4)),
                    REPEATED => {
                        let metric: String = r.get(5);
                        let date: String = r.get(7);
                        PerformanceHeldWhy::Repeated {
                            metric: Metric::parse(&metric).ok_or_else(|| {
                                anyhow::anyhow!("unknown metric {metric:?} in the staged rows")
                            })?,
                            scope: r.get(6),
                            date: NaiveDate::parse_from_str(&date, "%Y-%m-%d")?,
                            value: r.get::<_, Option<f64>>(8).ok_or_else(|| {
                                anyhow::anyhow!("line {}: a repeated key with no record", line)
                            })?,
                        }
                    }
                    other => anyhow::bail!("unknown held kind {other}"),
                };
                held(PerformanceHeld {
                    line,
                    span: (r.get::<_, i64>(1) as u64, r.get::<_, i64>(2) as u64),
                    why,
                })?;
            }
        }
        pg.batch_raw(CLOSE_HELD)?;
        pg.batch_raw(DROP)?;
        Ok(decided)
    }
}
