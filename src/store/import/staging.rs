//! The staging every record import shares, the same on both backends (issue 27): the rows
//! of a file go, in file order, into an unindexed TEMP table, valid ones with their fields,
//! invalid ones with their message; then the import's own set-based statements (one text,
//! in the store's dialect: `sql::pg_sql` translates it for PostgreSQL) decide the valid
//! ones, marking those they refuse; the refused and invalid rows are then read back in file
//! order. How a backend fills the table is its own business (`sqlite::staging`: one
//! prepared INSERT per row; `postgres::staging`: binary COPY a batch at a time); what the
//! rows mean is decided once, here and in the imports beside it (`records`,
//! `performance`).
//!
//! Every staging table starts with the same five columns: `line` (the row's first line, its
//! key; on SQLite the rowid, so reading back in file order costs no sort), `span_start`,
//! `span_end` (its bytes in the file, for the rejects file), `verdict` (NULL while the row
//! is taken; [`INVALID`] for an invalid row; each import numbers its refusals from 1) and
//! `detail` (an invalid row's message, or what a refusal names). Invariants: memory stays
//! flat whatever the file size (a bounded batch at most); the table lives on the command's
//! connection ([`Stage::close`]).

use anyhow::Result;

use crate::store::Db;
use crate::store::sql::{Fill, Param, Row, Value};

/// The type of a staged column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An integer.
    Int,
    /// A floating-point number.
    Real,
    /// Text.
    Text,
}

/// A staging table: its statements, constants of the store (never built from input).
/// Its columns are the five shared ones, then the import's.
#[derive(Debug)]
pub struct Table {
    /// The type of each column, in order (for PostgreSQL's binary COPY).
    pub kinds: &'static [Kind],
    /// `CREATE TEMP TABLE <name> (line INTEGER PRIMARY KEY, span_start INTEGER, …)`, in the
    /// store's dialect: SQLite runs it as it is (the line is the rowid); PostgreSQL without
    /// the key and with byte-ordered text (`postgres::staging`).
    pub create: &'static str,
    /// `INSERT INTO temp.<name> VALUES (?1, …)`: SQLite's fill.
    pub insert: &'static str,
    /// `COPY <name> (line, …) FROM STDIN (FORMAT binary)`: PostgreSQL's fill.
    pub copy: &'static str,
    /// `SELECT count(*) FROM temp.<name> WHERE verdict IS NULL`: the rows taken.
    pub count_taken: &'static str,
    /// `SELECT line, span_start, span_end, verdict, detail, <columns> FROM temp.<name>
    /// WHERE verdict IS NOT NULL ORDER BY line`: the refused and invalid rows in file order.
    pub refused: &'static str,
    /// `DROP TABLE IF EXISTS temp.<name>`.
    pub drop: &'static str,
    /// A small TEMP table beside it, for the keys the file repeats (`CREATE TEMP TABLE …`,
    /// its key `UNIQUE`, in the store's dialect), and its `DROP TABLE IF EXISTS`.
    pub repeats: Option<(&'static str, &'static str)>,
}

/// The kinds of the shared columns: line, span_start, span_end, verdict, detail.
pub const SHARED: [Kind; 5] = [Kind::Int, Kind::Int, Kind::Int, Kind::Int, Kind::Text];

/// The verdict of an invalid row (each import numbers its refusals from 1).
pub const INVALID: i64 = 0;

/// A row read back by [`Stage::for_each_refused`]: its place in the file and its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// The line it starts on.
    pub line: u64,
    /// Its bytes in the file.
    pub span: (u64, u64),
    /// Its verdict: [`INVALID`] or the import's refusal.
    pub verdict: i64,
}

/// A staging table being filled, then decided, inside the command's transaction.
pub struct Stage<'a> {
    db: &'a Db<'a>,
    table: &'static Table,
    fill: Fill<'a>,
    /// How many rows were staged valid, and invalid.
    staged: (u64, u64),
}

impl<'a> Stage<'a> {
    /// Creates the (empty) staging table, dropping a leftover first.
    pub fn begin(db: &'a Db<'a>, table: &'static Table) -> Result<Self> {
        let fill = db.conn().begin_fill(table)?;
        Ok(Stage {
            db,
            table,
            fill,
            staged: (0, 0),
        })
    }

    /// The database, for the import's statements.
    pub fn db(&self) -> &'a Db<'a> {
        self.db
    }

    /// Stages a valid row: `values` are the import's columns, in order.
    pub fn add(&mut self, line: u64, span: (u64, u64), values: &[Value<'_>]) -> Result<()> {
        self.staged.0 += 1;
        self.put(line, span, Value::Null, Value::Null, values)
    }

    /// Stages an invalid row with its message, to be read back in file order with the
    /// rows the decision refuses.
    pub fn invalid(&mut self, line: u64, span: (u64, u64), message: &str) -> Result<()> {
        let nulls = [Value::Null; 16];
        let n = self.table.kinds.len() - SHARED.len();
        anyhow::ensure!(n <= nulls.len(), "internal error: a staging table too wide");
        self.staged.1 += 1;
        self.put(
            line,
            span,
            Value::Int(INVALID),
            Value::Text(message),
            &nulls[..n],
        )
    }

    fn put(
        &mut self,
        line: u64,
        span: (u64, u64),
        verdict: Value<'_>,
        detail: Value<'_>,
        values: &[Value<'_>],
    ) -> Result<()> {
        debug_assert_eq!(values.len() + SHARED.len(), self.table.kinds.len());
        let shared = [
            Value::Int(line as i64),
            Value::Int(span.0 as i64),
            Value::Int(span.1 as i64),
            verdict,
            detail,
        ];
        self.fill.add(&shared, values)
    }

    /// How many rows were staged: valid ones ([`Stage::add`]) and invalid ones.
    pub fn staged(&self) -> (u64, u64) {
        self.staged
    }

    /// Sends what the backend still buffers: done before the first deciding statement.
    pub fn flush(&mut self) -> Result<()> {
        self.fill.flush()
    }

    /// Runs one of the import's deciding statements; the number of rows it changed.
    pub fn run(&mut self, sql: &'static str, params: &[&dyn Param]) -> Result<u64> {
        self.flush()?;
        Ok(self.db.conn().execute(sql, params)? as u64)
    }

    /// The rows taken (not invalid, not refused).
    pub fn count_taken(&mut self) -> Result<u64> {
        self.flush()?;
        let sql: &'static str = self.table.count_taken;
        let n: i64 = self
            .db
            .conn()
            .query_row(sql, &[] as &[&dyn Param], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Calls `f` for each invalid or refused row, in file order, with the row (its
    /// columns: the five shared ones, then the import's). `f` must not use the connection
    /// (PostgreSQL streams the rows meanwhile).
    pub fn for_each_refused(
        &mut self,
        mut f: impl FnMut(Place, &Row<'_>) -> Result<()>,
    ) -> Result<()> {
        self.flush()?;
        let sql: &'static str = self.table.refused;
        let mut st = self.db.conn().prepare_cached(sql)?;
        let mut failed = None;
        st.for_each(&[] as &[&dyn Param], |r| {
            let place = Place {
                line: r.get::<_, i64>(0)? as u64,
                span: (r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64),
                verdict: r.get(3)?,
            };
            match f(place, r) {
                Ok(()) => Ok(true),
                Err(e) => {
                    failed = Some(e);
                    Ok(false)
                }
            }
        })?;
        match failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Ends the stage. The tables are left to the end of the connection (the command's
    /// end; a rollback removes them too) rather than dropped: dropping 1,000,000 staged
    /// rows costs SQLite 0.45 s of a 6 s import. The next [`Stage::begin`] of the same
    /// table drops a leftover.
    pub fn close(self) {}
}
