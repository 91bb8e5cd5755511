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
pub use users::{BulkUser, ExistingUser, OpenLink, StagedUser, UserStatements};

/// The page cache an import runs with, in KiB: large enough that the indexes being filled
/// stay in memory for a few hundred thousand rows, small enough to keep the process well
/// under 100 MiB (with a chunk of rows being sorted beside it).
pub const IMPORT_CACHE_KIB: i64 = 40 * 1024;

impl<'a> Db<'a> {
    /// Sets the page cache size (KiB) for this connection; returns the previous setting
    /// (SQLite's own encoding: negative = KiB, positive = pages).
    pub fn set_cache_kib(&self, kib: i64) -> Result<i64> {
        // SQLite's page cache; PostgreSQL's memory is the server's to manage.
        let Some(c) = self.conn().lite() else {
            return Ok(0);
        };
        let prev: i64 = c.pragma_query_value(None, "cache_size", |r| r.get(0))?;
        c.pragma_update(None, "cache_size", -kib)?;
        Ok(prev)
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
        if let Some(c) = self.conn().lite() {
            c.pragma_update(None, "cache_size", setting)?;
        }
        Ok(())
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
