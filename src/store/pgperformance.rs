//! The performance import on PostgreSQL (issue 14), shaped as the achievements imports'
//! (`pgrecords`): the validated rows are streamed by binary COPY, a batch at a time (memory
//! stays flat), into an unindexed TEMP table, with the rows held as invalid into another;
//! then a few set-based statements decide them all, inside the command's one transaction,
//! in the order SQLite's row-by-row upsert takes its decisions:
//! 1. every occurrence of a key (metric, scope, track, association, date) after its first
//!    in the file is moved
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
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;

use super::perfstage::{PerformanceHeld, PerformanceHeldWhy};
use super::pgstaging::{INVALID, Staging, StagingSql, count};
use super::sql::Pg;
use super::stage::Decided;
use crate::rules::Metric;

const DDL: &str = "DROP TABLE IF EXISTS import_performance, import_performance_held;
     CREATE TEMP TABLE import_performance (line BIGINT, span_start BIGINT, span_end BIGINT,
        metric TEXT COLLATE \"C\", scope TEXT COLLATE \"C\", date TEXT COLLATE \"C\",
        value DOUBLE PRECISION, track TEXT COLLATE \"C\", association TEXT COLLATE \"C\");
     CREATE TEMP TABLE import_performance_held (line BIGINT, span_start BIGINT,
        span_end BIGINT, kind SMALLINT, message TEXT, metric TEXT COLLATE \"C\",
        scope TEXT COLLATE \"C\", date TEXT COLLATE \"C\", value DOUBLE PRECISION,
        track TEXT COLLATE \"C\", association TEXT COLLATE \"C\");";

/// The TEMP tables, their COPYs and the cursor over the held rows (see `pgstaging`).
const STAGING: StagingSql = StagingSql {
    ddl: DDL,
    drop: "DROP TABLE IF EXISTS import_performance, import_performance_held",
    copy_rows: "COPY import_performance
     (line, span_start, span_end, metric, scope, date, value, track, association)
     FROM STDIN (FORMAT binary)",
    row_types: &[
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::FLOAT8,
        Type::TEXT,
        Type::TEXT,
    ],
    copy_held: "COPY import_performance_held
     (line, span_start, span_end, kind, message) FROM STDIN (FORMAT binary)",
    open_held: "DECLARE import_performance_held_by_line NO SCROLL CURSOR FOR
     SELECT line, span_start, span_end, kind, message, metric, scope, date, value, track,
            association
     FROM import_performance_held ORDER BY line",
    fetch_held: "FETCH FORWARD 4096 FROM import_performance_held_by_line",
    close_held: "CLOSE import_performance_held_by_line",
};

/// The held kind of a refused repeat (invalid rows are `pgstaging::INVALID`).
const REPEATED: i16 = 1;

/// 1. Every occurrence of a key after its first.
const REPEATED_ROWS: &str = "INSERT INTO import_performance_held
        (line, span_start, span_end, kind, metric, scope, date, track, association)
     SELECT line, span_start, span_end, 1, metric, scope, date, track, association FROM (
       SELECT line, span_start, span_end, metric, scope, date, track, association,
              row_number() OVER (PARTITION BY metric, scope, track, association, date
                                 ORDER BY line) AS n
       FROM import_performance) r
     WHERE n > 1";

const DROP_REPEATED: &str = "DELETE FROM import_performance WHERE line IN
     (SELECT line FROM import_performance_held WHERE kind = 1)";

/// 2. Records whose value changes ($1: the organization, $2: when).
const UPDATE_ROWS: &str = "WITH u AS (
       UPDATE performance p SET value = s.value, recorded_at = $2::BIGINT
       FROM import_performance s
       WHERE p.org_id = $1::BIGINT AND p.metric = s.metric AND p.scope = s.scope
         AND p.track = s.track AND p.association = s.association
         AND p.date = s.date AND p.value <> s.value
       RETURNING 1)
     SELECT count(*) FROM u";

/// 3. New records, in file order ($1: the organization, $2: when).
const INSERT_ROWS: &str = "WITH i AS (
       INSERT INTO performance
         (org_id, metric, scope, track, association, value, date, recorded_at)
       SELECT $1::BIGINT, metric, scope, track, association, value, date, $2::BIGINT
       FROM import_performance ORDER BY line
       ON CONFLICT (org_id, metric, scope, track, association, date) DO NOTHING
       RETURNING 1)
     SELECT count(*) FROM i";

/// 4. The value recorded now for each refused repeat's key ($1: the organization).
const REPEATED_VALUES: &str = "UPDATE import_performance_held h SET value = p.value
     FROM performance p
     WHERE h.kind = 1 AND p.org_id = $1::BIGINT AND p.metric = h.metric
       AND p.scope = h.scope AND p.track = h.track AND p.association = h.association
       AND p.date = h.date";

const COUNT_STAGED: &str = "SELECT count(*) FROM import_performance";

/// A staged row: line, span, metric, scope, date, value, track, association.
type Row = (
    i64,
    i64,
    i64,
    &'static str,
    String,
    String,
    f64,
    String,
    String,
);

/// One row into the COPY of [`STAGING`].
fn write_row(r: &Row, w: &mut BinaryCopyInWriter<'_>) -> Result<(), postgres::Error> {
    let (line, s, e, metric, scope, date, value, track, association) = r;
    w.write(&[line, s, e, metric, scope, date, value, track, association])
}

/// What a performance import buffers on PostgreSQL before sending it with COPY.
pub struct PgPerformance(Staging<Row>);

impl PgPerformance {
    /// Creates the TEMP tables (inside the transaction: a rollback removes them too).
    pub fn begin(pg: &Pg) -> Result<Self> {
        Ok(PgPerformance(Staging::begin(pg, &STAGING, write_row)?))
    }

    /// Buffers a validated row.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        pg: &Pg,
        line: u64,
        span: (u64, u64),
        metric: Metric,
        key: (&str, &str, &str),
        value: f64,
        date: NaiveDate,
    ) -> Result<()> {
        self.0.add(
            pg,
            (
                line as i64,
                span.0 as i64,
                span.1 as i64,
                metric.as_str(),
                key.0.to_owned(),
                date.to_string(),
                value,
                key.1.to_owned(),
                key.2.to_owned(),
            ),
        )
    }

    /// Buffers an invalid row.
    pub fn hold(&mut self, pg: &Pg, line: u64, span: (u64, u64), message: &str) -> Result<()> {
        self.0.hold(pg, line, span, message)
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
        self.0.flush(pg)?;
        pg.query_typed(REPEATED_ROWS, &[])?;
        pg.query_typed(DROP_REPEATED, &[])?;
        let at = at.timestamp();
        let staged = count(pg, COUNT_STAGED, &[])?;
        let updated = count(pg, UPDATE_ROWS, &[&org_id, &at])?;
        let added = count(pg, INSERT_ROWS, &[&org_id, &at])?;
        pg.query_typed(REPEATED_VALUES, &[&org_id])?;
        let decided = Decided {
            added,
            updated,
            unchanged: staged - added - updated,
        };
        self.0.read_held(pg, |line, span, kind, r| {
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
                        track: r.get(9),
                        association: r.get(10),
                        date: NaiveDate::parse_from_str(&date, "%Y-%m-%d")?,
                        value: r.get::<_, Option<f64>>(8).ok_or_else(|| {
                            anyhow::anyhow!("line {line}: a repeated key with no record")
                        })?,
                    }
                }
                other => anyhow::bail!("unknown held kind {other}"),
            };
            held(PerformanceHeld { line, span, why })
        })?;
        Ok(decided)
    }
}
