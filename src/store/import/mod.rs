//! Bulk imports: statements prepared once and held for the whole file, so the per-row cost
//! is binding and stepping, nothing else.
//!
//! The import module decides what each row means; this module only runs the SQL. Every
//! statement here is used inside the single transaction of one import.

use super::sql::{Stmt, params};
use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};

use super::Db;

mod users;
pub use users::{BulkUser, ExistingUser, OpenLink, StagedUser, UserStatements};

/// The page cache an import runs with, in KiB: large enough that the indexes being filled
/// stay in memory for a few hundred thousand rows, small enough to keep the process well
/// under 100 MiB (with a chunk of rows being sorted beside it).
pub const IMPORT_CACHE_KIB: i64 = 40 * 1024;

/// The statements of an achievements import.
pub struct AchievementStatements<'a> {
    insert: Stmt<'a>,
    find: Stmt<'a>,
    update: Stmt<'a>,
    db: &'a Db<'a>,
}

/// What inserting a keyed row found.
#[derive(Debug, Clone, PartialEq)]
pub enum Insert<T> {
    /// Inserted as a new row with this id.
    Added(i64),
    /// A row with the same key exists: its id and current value.
    Exists(i64, T),
}

impl AchievementStatements<'_> {
    /// Inserts unless (msa, code, earned) exists; else returns the existing row's id and
    /// (expires, removed).
    pub fn insert(
        &mut self,
        msa: &str,
        code: &str,
        earned: NaiveDate,
        expires: Option<NaiveDate>,
        at: DateTime<Utc>,
    ) -> Result<Insert<(Option<String>, bool)>> {
        let earned = earned.to_string();
        let expires = expires.map(|d| d.to_string());
        let n = self
            .insert
            .execute(params![msa, code, earned, expires, at.timestamp()])?;
        if n == 1 {
            return Ok(Insert::Added(self.db.conn().last_insert_rowid()?));
        }
        let (id, exp, removed) = self.find.query_row(params![msa, code, earned], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(Insert::Exists(id, (exp, removed)))
    }

    /// Sets a record's expiry and revives it if it was removed.
    pub fn update(&mut self, id: i64, expires: Option<NaiveDate>) -> Result<()> {
        self.update
            .execute(params![id, expires.map(|d| d.to_string())])?;
        Ok(())
    }
}

/// The statements of a performance import.
pub struct PerformanceStatements<'a> {
    insert: Stmt<'a>,
    find: Stmt<'a>,
    update: Stmt<'a>,
    db: &'a Db<'a>,
}

impl PerformanceStatements<'_> {
    /// Inserts unless (org, metric, scope, track, association, date) exists; else returns
    /// the existing row's id and value. `key` is (scope, track, association), '' for none.
    pub fn insert(
        &mut self,
        org_id: i64,
        metric: &str,
        key: (&str, &str, &str),
        value: f64,
        date: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<Insert<f64>> {
        let date = date.to_string();
        let (scope, track, association) = key;
        let n = self.insert.execute(params![
            org_id,
            metric,
            scope,
            value,
            date,
            at.timestamp(),
            track,
            association
        ])?;
        if n == 1 {
            return Ok(Insert::Added(self.db.conn().last_insert_rowid()?));
        }
        let (id, v) = self.find.query_row(
            params![org_id, metric, scope, date, track, association],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(Insert::Exists(id, v))
    }

    /// Replaces a record's value.
    pub fn update(&mut self, id: i64, value: f64, at: DateTime<Utc>) -> Result<()> {
        self.update.execute(params![id, value, at.timestamp()])?;
        Ok(())
    }
}

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

    /// Prepares the statements of an achievements import.
    pub fn achievement_statements(&'a self) -> Result<AchievementStatements<'a>> {
        let c = self.conn();
        Ok(AchievementStatements {
            insert: c.prepare_cached(
                "INSERT INTO achievements (msa, code, earned, expires, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (msa, code, earned) DO NOTHING",
            )?,
            find: c.prepare_cached(
                "SELECT id, expires, removed_at IS NOT NULL FROM achievements
                 WHERE msa = ?1 AND code = ?2 AND earned = ?3",
            )?,
            update: c.prepare_cached(
                "UPDATE achievements SET expires = ?2, removed_at = NULL WHERE id = ?1",
            )?,
            db: self,
        })
    }

    /// Prepares the statements of a performance import.
    pub fn performance_statements(&'a self) -> Result<PerformanceStatements<'a>> {
        let c = self.conn();
        Ok(PerformanceStatements {
            insert: c.prepare_cached(
                "INSERT INTO performance
                    (org_id, metric, scope, value, date, recorded_at, track, association)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (org_id, metric, scope, track, association, date) DO NOTHING",
            )?,
            find: c.prepare_cached(
                "SELECT id, value FROM performance
                 WHERE org_id = ?1 AND metric = ?2 AND scope = ?3 AND date = ?4
                   AND track = ?5 AND association = ?6",
            )?,
            update: c.prepare_cached(
                "UPDATE performance SET value = ?2, recorded_at = ?3 WHERE id = ?1",
            )?,
            db: self,
        })
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
