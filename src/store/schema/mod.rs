//! The schema, as an append-only list of migrations applied under `PRAGMA user_version`
//! (PostgreSQL: the `schema_version` table), in cargo's `basic_migration` style: a step is
//! SQL, or code run inside the migration's transaction.
//!
//! Never edit a migration that has shipped: add a new one. Each starts with a comment
//! saying why it exists. Instants are stored as INTEGER unix seconds (UTC); calendar dates
//! as TEXT `YYYY-MM-DD` (checked), which sorts and compares correctly.
//!
//! The only DDL run outside a migration lives here too: an import's suspension and rebuild
//! of the achievements evaluation index, from the one statement that creates it.
//!
//! Its files: this one holds the step type, the runner (SQLite's, under `PRAGMA
//! user_version` in one exclusive transaction; PostgreSQL's runs in `store/postgres/open.rs`)
//! and the index an import rebuilds; `migrations.rs` the list itself; `user_names.rs`
//! migration 10, a code step with each backend's SQL.

use anyhow::{Context, Result, bail};
use rusqlite::Connection;
use rusqlite::OptionalExtension as _;

use super::Db;
use super::sql::{Conn, params};

/// One step of the schema's history.
pub enum Migration {
    /// SQL in SQLite's dialect; PostgreSQL runs its translation (`postgres::pg_ddl`: identity
    /// keys, BIGINT, DOUBLE PRECISION, byte-ordered text).
    Sql(&'static str),
    /// A step the translation cannot express (SQLite rebuilds what PostgreSQL alters in
    /// place): each backend's own text.
    PerBackend {
        /// For SQLite.
        sqlite: &'static str,
        /// For PostgreSQL, run as written.
        postgres: &'static str,
    },
    /// A step that runs code, inside the migration's transaction, on either backend (a
    /// conversion that SQL alone says badly). Its SQL stays constant text, as everywhere.
    Code(fn(&Conn) -> Result<()>),
}

impl Migration {
    /// The SQLite text (empty for a [`Migration::Code`] step).
    pub fn sqlite(&self) -> &'static str {
        match self {
            Migration::Sql(s) | Migration::PerBackend { sqlite: s, .. } => s,
            Migration::Code(_) => "",
        }
    }

    /// Runs the step on `conn`, inside the caller's transaction.
    pub fn run(&self, conn: &Conn) -> Result<()> {
        match (self, conn) {
            (Migration::Code(f), _) => f(conn),
            (_, Conn::Lite(c)) => {
                let sql = self.sqlite();
                Ok(c.execute_batch(sql)?)
            }
            (Migration::Sql(sql), Conn::Pg(p)) => Ok(p.batch_raw(&super::postgres::pg_ddl(sql))?),
            (Migration::PerBackend { postgres, .. }, Conn::Pg(p)) => Ok(p.batch_raw(postgres)?),
        }
    }
}

/// The statement of the achievements evaluation index: one text for migration 3, which
/// creates it, and for the imports that rebuild it ([`ACHIEVEMENTS_BY_MSA`]).
macro_rules! achievements_by_msa {
    () => {
        "CREATE INDEX achievements_by_msa ON achievements(msa, code, earned, expires, removed_at)"
    };
}

/// The covering index evaluations read achievements through, exactly as migration 3
/// creates it.
pub const ACHIEVEMENTS_BY_MSA: &str = achievements_by_msa!();

mod migrations;
mod user_names;

#[cfg(test)]
mod tests;

pub use migrations::MIGRATIONS;

/// The schema version this binary writes.
pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the schema up to date in one exclusive transaction; refuses a newer database.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, MIGRATIONS.len())
}

/// Refuses a database written by a newer binary. Called before anything else touches the
/// file (even switching it to WAL), so a refused database is left exactly as it was.
pub fn refuse_newer(conn: &Connection) -> Result<i64> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > current_version() {
        bail!(
            "the database has schema version {version}, newer than this competency binary \
             understands ({}): upgrade competency to open it",
            current_version()
        );
    }
    Ok(version)
}

/// Applies the first `target` migrations (tests build old databases with it), in one
/// exclusive transaction.
pub fn migrate_to(conn: &mut Connection, target: usize) -> Result<()> {
    migrate_steps(conn, MIGRATIONS, target)
}

/// Applies the first `target` of `steps` (the unit tests run lists of their own).
pub(crate) fn migrate_steps(
    conn: &mut Connection,
    steps: &[Migration],
    target: usize,
) -> Result<()> {
    let version = refuse_newer(conn)?;
    if version as usize >= target {
        return Ok(());
    }
    // A code step takes the store's connection type: the connection is lent to one for the
    // migration and taken back whatever happens.
    let lent = Conn::Lite(std::mem::replace(conn, Connection::open_in_memory()?));
    let result = migrate_lent(&lent, steps, target);
    let Conn::Lite(back) = lent else {
        unreachable!("lent as SQLite")
    };
    *conn = back;
    result
}

fn migrate_lent(conn: &Conn, steps: &[Migration], target: usize) -> Result<()> {
    let lite = conn.lite().expect("SQLite");
    // Rebuilding a table that others reference (migration 10 rebuilds `users`) needs foreign
    // keys off, which SQLite only allows outside a transaction: they are off while the
    // migrations run and checked, all of them, before the commit (SQLite's documented way).
    let keys: i64 = lite.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
    lite.pragma_update(None, "foreign_keys", "OFF")?;
    let result = migrate_locked(conn, lite, steps, target);
    lite.pragma_update(None, "foreign_keys", keys)?;
    result
}

fn migrate_locked(
    conn: &Conn,
    lite: &Connection,
    steps: &[Migration],
    target: usize,
) -> Result<()> {
    lite.execute_batch("BEGIN EXCLUSIVE")
        .context("cannot lock the database to update its schema")?;
    let run = || -> Result<()> {
        // Another process may have migrated while we waited for the lock.
        let version: i64 = lite.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, step) in steps.iter().enumerate().take(target).skip(version as usize) {
            step.run(conn)
                .with_context(|| format!("schema migration {} failed", i + 1))?;
            lite.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        let broken: Option<String> = lite
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()?;
        if let Some(table) = broken {
            bail!("schema migration left a row of {table} pointing at a missing row");
        }
        Ok(())
    };
    match run() {
        Ok(()) => Ok(lite.execute_batch("COMMIT")?),
        Err(e) => {
            let _ = lite.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

impl Db<'_> {
    /// Drops the evaluations' covering index of achievements ([`ACHIEVEMENTS_BY_MSA`])
    /// before a load that is large against the table: building it once, sorted, at the end
    /// is far cheaper than keeping it up to date row by row in random MSA order. Returns
    /// whether [`Db::restore_achievements_index`] must rebuild it (in the same transaction,
    /// so the index is never missing for anyone else).
    pub fn suspend_achievements_index(&self, expected_rows: u64) -> Result<bool> {
        let existing: i64 =
            self.conn()
                .query_row("SELECT count(*) FROM achievements", params![], |r| r.get(0))?;
        if expected_rows.saturating_mul(4) < existing as u64 {
            return Ok(false);
        }
        self.conn()
            .execute_batch("DROP INDEX IF EXISTS achievements_by_msa")?;
        Ok(true)
    }

    /// Rebuilds the index [`Db::suspend_achievements_index`] dropped.
    pub fn restore_achievements_index(&self) -> Result<()> {
        // SQLite's sorter takes as much memory as the page cache allows: a smaller cache
        // for the build keeps a multi-million-row import well inside its memory budget
        // (the sort spills to temporary files instead).
        let cache = self.set_cache_kib(16 * 1024)?;
        self.conn().execute_batch(ACHIEVEMENTS_BY_MSA)?;
        self.restore_cache(cache)?;
        Ok(())
    }
}
