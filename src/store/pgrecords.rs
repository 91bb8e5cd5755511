//! The achievements imports on PostgreSQL (issue 14): the validated rows are streamed by
//! binary COPY, a batch at a time (memory stays flat), into an unindexed TEMP table, with
//! the rows held as invalid into another; then a few set-based statements decide them all,
//! inside the command's one transaction:
//! 1. rows whose MSA is associated with another organization's account are moved to the
//!    held rows (only when such associations exist at all, as on SQLite);
//! 2. every occurrence of a key after its first in the file is moved to the held rows, with
//!    the expiry its first occurrence records (a window over the staged rows);
//! 3. `UPDATE … FROM` the records whose expiry differs or that were removed (`updated`);
//! 4. `INSERT … SELECT … ON CONFLICT DO NOTHING` in file order (`added`, ids in file order
//!    as on SQLite); the rest is `unchanged`.
//!
//! The counts are the statements' own (`RETURNING`), and the held rows are read back in
//! file order through a cursor, with the caller's mark of each refused row (the Trainings
//! import takes back the CorpEmail a refused row gave), so the summary, rejects file and
//! audit are SQLite's. Every
//! statement is a constant string; values travel as typed parameters or binary fields.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;

use super::pgstaging::{INVALID, Staging, StagingSql, count};
use super::sql::Pg;
use super::stage::{Decided, Decision, Held, HeldWhy};

const DDL: &str = "DROP TABLE IF EXISTS import_records, import_records_held;
     CREATE TEMP TABLE import_records (line BIGINT, span_start BIGINT, span_end BIGINT,
        msa TEXT COLLATE \"C\", code TEXT COLLATE \"C\", earned TEXT COLLATE \"C\",
        expires TEXT COLLATE \"C\", mark BOOLEAN);
     CREATE TEMP TABLE import_records_held (line BIGINT, span_start BIGINT, span_end BIGINT,
        kind SMALLINT, message TEXT, msa TEXT, code TEXT, earned TEXT, value TEXT,
        mark BOOLEAN);";

/// The TEMP tables, their COPYs and the cursor over the held rows (see `pgstaging`).
const STAGING: StagingSql = StagingSql {
    ddl: DDL,
    drop: "DROP TABLE IF EXISTS import_records, import_records_held",
    copy_rows: "COPY import_records
     (line, span_start, span_end, msa, code, earned, expires, mark) FROM STDIN (FORMAT binary)",
    row_types: &[
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::BOOL,
    ],
    copy_held: "COPY import_records_held (line, span_start, span_end, kind, message)
     FROM STDIN (FORMAT binary)",
    open_held: "DECLARE import_records_held_by_line NO SCROLL CURSOR FOR
     SELECT line, span_start, span_end, kind, message, msa, code, earned, value, mark
     FROM import_records_held ORDER BY line",
    fetch_held: "FETCH FORWARD 4096 FROM import_records_held_by_line",
    close_held: "CLOSE import_records_held_by_line",
};

/// Held kinds of refused rows (invalid ones are `pgstaging::INVALID`).
const REPEATED: i16 = 1;
const FOREIGN: i16 = 2;

/// 1. Rows of MSAs associated with another organization's account ($1: this one).
const FOREIGN_ROWS: &str = "WITH f AS (
       DELETE FROM import_records s USING msa_links l, orgs o
       WHERE l.msa = s.msa AND l.ended_at IS NULL AND l.org_id <> $1 AND o.id = l.org_id
       RETURNING s.line, s.span_start, s.span_end, s.msa, s.code, s.earned, o.name, s.mark)
     INSERT INTO import_records_held
        (line, span_start, span_end, kind, msa, code, earned, value, mark)
     SELECT line, span_start, span_end, 2, msa, code, earned, name, mark FROM f";

/// 2. Every occurrence of a key after its first, with the first one's expiry.
const REPEATED_ROWS: &str = "INSERT INTO import_records_held
        (line, span_start, span_end, kind, msa, code, earned, value, mark)
     SELECT line, span_start, span_end, 1, msa, code, earned, first_expires, mark FROM (
       SELECT line, span_start, span_end, msa, code, earned, mark,
              row_number() OVER w AS n, first_value(expires) OVER w AS first_expires
       FROM import_records WINDOW w AS (PARTITION BY msa, code, earned ORDER BY line)) r
     WHERE n > 1";

const DROP_REPEATED: &str = "DELETE FROM import_records WHERE line IN
     (SELECT line FROM import_records_held WHERE kind = 1)";

/// 3. Records whose expiry changes, or that come back.
const UPDATE_ROWS: &str = "WITH u AS (
       UPDATE achievements a SET expires = s.expires, removed_at = NULL FROM import_records s
       WHERE a.msa = s.msa AND a.code = s.code AND a.earned = s.earned
         AND (a.expires IS DISTINCT FROM s.expires OR a.removed_at IS NOT NULL)
       RETURNING 1)
     SELECT count(*) FROM u";

/// 4. New records, in file order ($1: when).
const INSERT_ROWS: &str = "WITH i AS (
       INSERT INTO achievements (msa, code, earned, expires, added_at)
       SELECT msa, code, earned, expires, $1::BIGINT FROM import_records ORDER BY line
       ON CONFLICT (msa, code, earned) DO NOTHING
       RETURNING 1)
     SELECT count(*) FROM i";

const COUNT_STAGED: &str = "SELECT count(*) FROM import_records";

/// A staged row: line, span, MSA, code, earned, expires, mark.
type Row = (i64, i64, i64, String, String, String, Option<String>, bool);

/// One row into the COPY of [`STAGING`].
fn write_row(r: &Row, w: &mut BinaryCopyInWriter<'_>) -> Result<(), postgres::Error> {
    let (line, s, e, msa, code, earned, expires, mark) = r;
    w.write(&[line, s, e, msa, code, earned, expires, mark])
}

/// What an achievements import buffers on PostgreSQL before sending it with COPY.
pub struct PgAchievements(Staging<Row>);

impl PgAchievements {
    /// Creates the TEMP tables (inside the transaction: a rollback removes them too).
    pub fn begin(pg: &Pg) -> Result<Self> {
        Ok(PgAchievements(Staging::begin(pg, &STAGING, write_row)?))
    }

    /// Buffers a validated row.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        pg: &Pg,
        line: u64,
        span: (u64, u64),
        msa: &str,
        code: &str,
        earned: NaiveDate,
        expires: Option<NaiveDate>,
        mark: bool,
    ) -> Result<()> {
        self.0.add(
            pg,
            (
                line as i64,
                span.0 as i64,
                span.1 as i64,
                msa.to_owned(),
                code.to_owned(),
                earned.to_string(),
                expires.map(|d| d.to_string()),
                mark,
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
        check_owner: bool,
        at: DateTime<Utc>,
        mut held: impl FnMut(Held) -> Result<()>,
    ) -> Result<Decided> {
        self.0.flush(pg)?;
        if check_owner {
            pg.query_typed(FOREIGN_ROWS, &[&org_id])?;
        }
        pg.query_typed(REPEATED_ROWS, &[])?;
        pg.query_typed(DROP_REPEATED, &[])?;
        let staged = count(pg, COUNT_STAGED, &[])?;
        let updated = count(pg, UPDATE_ROWS, &[])?;
        let added = count(pg, INSERT_ROWS, &[&at.timestamp()])?;
        let decided = Decided {
            added,
            updated,
            unchanged: staged - added - updated,
        };
        self.0.read_held(pg, |line, span, kind, r| {
            let why = if kind == INVALID {
                HeldWhy::Invalid(r.get(4))
            } else {
                let earned: String = r.get(7);
                HeldWhy::Refused {
                    msa: r.get(5),
                    code: r.get(6),
                    earned: NaiveDate::parse_from_str(&earned, "%Y-%m-%d")?,
                    decision: match kind {
                        REPEATED => Decision::Repeated(r.get(8)),
                        FOREIGN => Decision::Foreign(r.get(8)),
                        other => anyhow::bail!("unknown held kind {other}"),
                    },
                    mark: r.get::<_, Option<bool>>(9).unwrap_or(false),
                }
            };
            held(Held { line, span, why })
        })?;
        Ok(decided)
    }
}
