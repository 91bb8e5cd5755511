//! Bulk imports: statements prepared once and held for the whole file, so the per-row cost
//! is binding and stepping, nothing else. The record imports (achievements, Trainings
//! report, performance) stage their rows and decide them set-based, the same statements on
//! both backends: [`staging`], [`records`], [`performance`].
//!
//! The import module decides what each row means; this module only runs the SQL. Every
//! statement here is used inside the single transaction of one import.

pub mod performance;
pub mod records;
pub mod staging;
#[cfg(test)]
mod tests;

use super::sql::params;
use anyhow::Result;

use super::Db;

mod users;
pub use users::{BulkUser, CHUNK_ROWS, ExistingUser, OpenLink, UserStatements};

/// The page cache an import runs with, in KiB: large enough that the indexes being filled
/// stay in memory for a few hundred thousand rows, small enough to keep the process well
/// under 100 MiB (with a chunk of rows being sorted beside it).
pub const IMPORT_CACHE_KIB: i64 = 40 * 1024;

impl<'a> Db<'a> {
    /// Sets the page cache size (KiB) for this connection (SQLite's; PostgreSQL's memory is
    /// the server's); returns the previous setting for [`Db::restore_cache`].
    pub fn set_cache_kib(&self, kib: i64) -> Result<i64> {
        self.conn().set_cache_kib(kib)
    }

    /// Whether an MSA has an open association with an account of another organization.
    pub fn has_open_links_elsewhere(&self, org_id: i64) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM msa_links WHERE ended_at IS NULL AND org_id != ?1)",
            [org_id],
            |r| r.get(0),
        )?)
    }

    /// Restores a cache size returned by [`Db::set_cache_kib`].
    pub fn restore_cache(&self, setting: i64) -> Result<()> {
        self.conn().restore_cache(setting)
    }

    /// The id the next row of `table` will get (rows with ids from it were added by the
    /// current import). `table` is one of this module's own names, never user input.
    pub fn next_id(&self, table: BulkTable) -> Result<i64> {
        let sql = match table {
            BulkTable::Users => "SELECT coalesce(max(id), 0) + 1 FROM users",
            BulkTable::Achievements => "SELECT coalesce(max(id), 0) + 1 FROM achievements",
            BulkTable::Performance => "SELECT coalesce(max(id), 0) + 1 FROM performance",
        };
        Ok(self.conn().query_row(sql, params![], |r| r.get(0))?)
    }
}

/// The tables imports fill.
#[derive(Debug, Clone, Copy)]
pub enum BulkTable {
    /// `users`.
    Users,
    /// `achievements`.
    Achievements,
    /// `performance`.
    Performance,
}
