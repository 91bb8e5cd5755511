//! The store: the only module that speaks SQL.
//!
//! It owns the SQLite file and keeps these invariants:
//! - the file (and its WAL and shared-memory files) is created with mode 0600, in a parent
//!   folder created on demand;
//! - every connection runs with WAL, `synchronous=NORMAL`, `foreign_keys=ON` and an explicit
//!   busy timeout;
//! - the schema is the list of [`schema::MIGRATIONS`], applied in order under
//!   `PRAGMA user_version` inside one exclusive transaction, and only ever appended to; a
//!   database from a newer binary is refused;
//! - every write happens inside [`Store::write`], one `BEGIN IMMEDIATE` transaction per
//!   command: either all of a command's changes land, or none;
//! - every statement binds its parameters; no value is ever spliced into SQL text.

mod achievements;
mod audit;
mod designations;
pub mod import;
mod membership;
mod orgs;
mod performance;
pub mod schema;
mod snapshot;
mod users;

pub use achievements::{AchievementRow, NewAchievement, Recorded};
pub use audit::AuditRow;
pub use designations::{DesignationAlertRow, EnrolmentRow, NewEnrolment};
pub use membership::{AlertRow, AttainmentRow, NewPurchase, PurchaseRow};
pub use orgs::{NewOrg, Org};
pub use performance::PerformanceRow;
pub use users::{MsaLink, NewUser, UserRow};

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

/// How long a statement waits for another process's lock before SQLite answers BUSY.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// An open database.
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
}

/// A view of the database inside a transaction: every query lives on this type, in the
/// submodules by area.
pub struct Db<'a> {
    conn: &'a Connection,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the folder {}", parent.display()))?;
        }
        create_private(path)?;
        for suffix in ["-wal", "-shm"] {
            // SQLite creates these with the main file's mode; a stale one from an older,
            // laxer run is tightened here.
            let side = PathBuf::from(format!("{}{suffix}", path.display()));
            if side.exists() {
                let _ = fs::set_permissions(&side, fs::Permissions::from_mode(0o600));
            }
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open the database {}", path.display()))?;
        let mut store = Store {
            conn,
            path: Some(path.to_path_buf()),
        };
        store
            .configure()
            .with_context(|| format!("cannot use the database {}", path.display()))?;
        Ok(store)
    }

    /// An in-memory database (unit tests).
    pub fn open_in_memory() -> Result<Store> {
        let mut store = Store {
            conn: Connection::open_in_memory()?,
            path: None,
        };
        store.configure()?;
        Ok(store)
    }

    /// The file, if on disk.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn configure(&mut self) -> Result<()> {
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::refuse_newer(&self.conn)?;
        if self.path.is_some() {
            // Switching a new file to WAL needs it to itself for a moment, and SQLite answers
            // BUSY at once (without the busy handler) when another process is opening the
            // same new file: wait and retry, as the busy handler would.
            let mode: String = retry_busy(|| {
                self.conn
                    .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            })
            .context("cannot switch the database to WAL journaling")?;
            if !mode.eq_ignore_ascii_case("wal") {
                bail!("cannot switch to WAL journaling (got {mode})");
            }
        }
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.set_prepared_statement_cache_capacity(64);
        schema::migrate(&mut self.conn)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction and commits if it returns `Ok`; any
    /// error rolls everything back. Taking the write lock up front means a writer never
    /// fails half-way with "database is locked": it waits (busy timeout) at the start, and
    /// the start is retried while SQLite answers BUSY.
    pub fn write<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let tx = begin_retrying(&self.conn, TransactionBehavior::Immediate)?;
        let out = f(&Db { conn: &tx })?;
        tx.commit().context("cannot commit the transaction")?;
        Ok(out)
    }

    /// Like [`Store::write`], but `f` also decides whether to commit: with `false` (a dry
    /// run, or an all-or-nothing import that found bad rows) everything it did is rolled
    /// back and its value is still returned.
    pub fn write_or_rollback<T>(&mut self, f: impl FnOnce(&Db) -> Result<(T, bool)>) -> Result<T> {
        let tx = begin_retrying(&self.conn, TransactionBehavior::Immediate)?;
        let (out, commit) = f(&Db { conn: &tx })?;
        if commit {
            tx.commit().context("cannot commit the transaction")?;
        } else {
            tx.rollback().context("cannot roll back the transaction")?;
        }
        Ok(out)
    }

    /// Runs `f` in a read transaction: one consistent view of the database.
    pub fn read<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let tx = begin_retrying(&self.conn, TransactionBehavior::Deferred)?;
        let out = f(&Db { conn: &tx })?;
        tx.commit()?;
        Ok(out)
    }

    /// The raw connection, for the few whole-database operations (backup, integrity check).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

fn begin_retrying(
    conn: &Connection,
    behavior: TransactionBehavior,
) -> Result<rusqlite::Transaction<'_>> {
    // The busy handler already waits BUSY_TIMEOUT; a few extra rounds cover the rare case
    // where SQLite answers BUSY without invoking it (e.g. a WAL recovery in progress).
    let mut attempts = 0;
    loop {
        match rusqlite::Transaction::new_unchecked(conn, behavior) {
            Ok(tx) => return Ok(tx),
            Err(e) if is_busy(&e) && attempts < 5 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(50 * attempts));
            }
            Err(e) => {
                return Err(e).context("the database is busy: another competency command holds it");
            }
        }
    }
}

/// Runs `f` until SQLite stops answering BUSY, for at most [`BUSY_TIMEOUT`]: for the few
/// operations for which SQLite does not call the busy handler itself.
fn retry_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    loop {
        match f() {
            Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Creates the database file with mode 0600 if it does not exist, so that SQLite never
/// creates it with the process umask.
fn create_private(path: &Path) -> Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create the database {}", path.display())),
    }
}

impl<'a> Db<'a> {
    /// The connection (for submodules).
    fn conn(&self) -> &'a Connection {
        self.conn
    }
}

/// True when the error is a UNIQUE constraint violation.
pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

#[cfg(test)]
mod tests;
