//! Filling a staging table on SQLite (see `import::staging`): one prepared INSERT per row,
//! bound and stepped, into a TEMP table whose rowid is the row's line, so the rows are
//! appended in file order and read back in it without a sort. Memory: none per row.

use anyhow::Result;

use crate::store::import::staging::Table;
use crate::store::sql::Value;

/// The page cache of the TEMP schema during a record import, in KiB: the staged rows are
/// appended, then read in one sort (the repeated keys) and one scan per deciding statement.
const STAGE_CACHE_KIB: i64 = 4 * 1024;

/// Creates a TEMP table from its DDL (a leftover dropped first): SQLite runs the store's
/// dialect as it is.
pub fn create(c: &rusqlite::Connection, drop: &'static str, create: &'static str) -> Result<()> {
    c.execute_batch(drop)?;
    c.execute_batch(create)?;
    Ok(())
}

/// The prepared insert of one staging table.
pub struct Fill<'c> {
    insert: rusqlite::CachedStatement<'c>,
}

impl<'c> Fill<'c> {
    /// Creates the table and its table of repeated keys (leftovers dropped first) and
    /// prepares its insert.
    pub fn begin(c: &'c rusqlite::Connection, table: &Table) -> Result<Self> {
        c.pragma_update(Some("temp"), "cache_size", -STAGE_CACHE_KIB)?;
        if let Some((create_repeats, drop)) = table.repeats {
            create(c, drop, create_repeats)?;
        }
        let insert: &'static str = table.insert;
        create(c, table.drop, table.create)?;
        Ok(Fill {
            insert: c.prepare_cached(insert)?,
        })
    }

    /// Inserts one row: the shared columns, then the import's.
    pub fn add(&mut self, shared: &[Value<'_>], values: &[Value<'_>]) -> Result<()> {
        for (i, v) in shared.iter().chain(values).enumerate() {
            self.insert.raw_bind_parameter(i + 1, v)?;
        }
        self.insert.raw_execute()?;
        Ok(())
    }
}
