//! What the record imports share on PostgreSQL (issue 14; `pgrecords` for achievements and
//! Trainings reports, `pgperformance` for performance records): validated rows buffered and
//! streamed by binary COPY, a batch at a time (memory stays flat), into an unindexed TEMP
//! table; rows held back (invalid, or refused when decided) into a second one; the counts of
//! the deciding statements; and the held rows read back in file order through a cursor, the
//! TEMP tables dropped after. Each import keeps its own SQL (constant strings, in its module)
//! and its own mapping of a held row back to what the domain reports.

use anyhow::Result;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};

use super::sql::Pg;

/// Rows buffered before a COPY.
const COPY_BATCH: usize = 4096;

/// The held kind of an invalid row (each import numbers its refusals from 1).
pub const INVALID: i16 = 0;

/// The statements one kind of staged import runs besides its deciding ones.
pub struct StagingSql {
    /// Creates the two TEMP tables (dropping leftovers first).
    pub ddl: &'static str,
    /// Drops them.
    pub drop: &'static str,
    /// `COPY <rows table> (…) FROM STDIN (FORMAT binary)`.
    pub copy_rows: &'static str,
    /// The column types of `copy_rows`.
    pub row_types: &'static [Type],
    /// `COPY <held table> (line, span_start, span_end, kind, message) FROM STDIN …`.
    pub copy_held: &'static str,
    /// Opens a cursor over the held rows in line order (line, span, kind, message first).
    pub open_held: &'static str,
    /// Fetches the next chunk from it.
    pub fetch_held: &'static str,
    /// Closes it.
    pub close_held: &'static str,
}

/// Writes one buffered row into the COPY of the rows table.
pub type WriteRow<R> = fn(&R, &mut BinaryCopyInWriter<'_>) -> Result<(), postgres::Error>;

/// The rows and held rows of one import, buffered until a COPY.
pub struct Staging<R> {
    sql: &'static StagingSql,
    write: WriteRow<R>,
    rows: Vec<R>,
    held: Vec<(i64, i64, i64, i16, String)>,
}

impl<R> Staging<R> {
    /// Creates the TEMP tables (inside the transaction: a rollback removes them too).
    pub fn begin(pg: &Pg, sql: &'static StagingSql, write: WriteRow<R>) -> Result<Self> {
        pg.batch_raw(sql.ddl)?;
        Ok(Staging {
            sql,
            write,
            rows: Vec::with_capacity(COPY_BATCH),
            held: Vec::new(),
        })
    }

    /// Buffers a validated row.
    pub fn add(&mut self, pg: &Pg, row: R) -> Result<()> {
        self.rows.push(row);
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

    /// Sends everything buffered (before the deciding statements read the tables).
    pub fn flush(&mut self, pg: &Pg) -> Result<()> {
        if !self.rows.is_empty() {
            let (rows, write) = (&self.rows, self.write);
            pg.copy_in(self.sql.copy_rows, self.sql.row_types, |w| {
                for r in rows {
                    write(r, w)?;
                }
                Ok(())
            })?;
            self.rows.clear();
        }
        if !self.held.is_empty() {
            let held = std::mem::take(&mut self.held);
            pg.copy_in(
                self.sql.copy_held,
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

    /// Reads the held rows back in line order, each as (line, span, kind, the row), then
    /// drops the TEMP tables.
    pub fn read_held(
        self,
        pg: &Pg,
        mut f: impl FnMut(u64, (u64, u64), i16, &postgres::Row) -> Result<()>,
    ) -> Result<()> {
        pg.batch_raw(self.sql.open_held)?;
        loop {
            let chunk = pg.query_typed(self.sql.fetch_held, &[])?;
            if chunk.is_empty() {
                break;
            }
            for r in &chunk {
                let line = r.get::<_, i64>(0) as u64;
                let span = (r.get::<_, i64>(1) as u64, r.get::<_, i64>(2) as u64);
                f(line, span, r.get(3), r)?;
            }
        }
        pg.batch_raw(self.sql.close_held)?;
        pg.batch_raw(self.sql.drop)?;
        Ok(())
    }
}

/// The count a deciding statement returns (`SELECT count(*) FROM …RETURNING…`).
pub fn count(pg: &Pg, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
    let rows = pg.query_typed(sql, params)?;
    Ok(rows.first().map_or(0, |r| r.get::<_, i64>(0)) as u64)
}
