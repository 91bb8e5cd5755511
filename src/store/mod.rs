//! The store: the only module that speaks SQL.
//!
//! Its layout: this file holds the one `Store` type (opening, transactions, maintenance) and
//! `Db`, the view of a database inside a transaction on which every query lives; `sql` is
//! the one interface to the backends (the `Conn` enum, one match per operation); `queries/`
//! the backend-neutral queries by area, written once; `schema/` the migrations; `sqlite/`
//! and `postgres/` what only one backend does (only `postgres/` names the `postgres`
//! crate); `import/` the set-based import protocol.
//!
//! It keeps these invariants:
//! - only [`Store::create`] (`init`, `demo`) creates the file, with mode 0600, and its
//!   missing folders, with mode 0700; [`Store::open`] refuses a missing file (`no database
//!   at PATH`, creating nothing) and another application's SQLite file (unchanged);
//! - the file and its WAL and shared-memory files are never opened or changed through a
//!   symbolic link; a laxer mode on the side files is tightened through their descriptor;
//! - every connection runs with WAL, `synchronous=NORMAL`, `foreign_keys=ON` and an explicit
//!   busy timeout;
//! - the schema is the list of [`schema::MIGRATIONS`], applied in order under
//!   `PRAGMA user_version` inside one exclusive transaction, and only ever appended to; a
//!   database from a newer binary is refused;
//! - every write happens inside [`Store::write`], one `BEGIN IMMEDIATE` transaction per
//!   command: either all of a command's changes land, or none;
//! - every statement binds its parameters; no value is ever spliced into SQL text.

pub mod import;
pub mod postgres;
mod queries;
pub mod schema;
pub mod sql;
mod sqlite;
pub mod trainees;

pub use queries::copy;
pub use queries::{
    AlertRow, AttainmentRow, AuditRow, ClassificationRow, DesignationAlertRow, EnrolmentRow,
    MsaLink, NewAchievement, NewEnrolment, NewOrg, NewPurchase, NewUser, Org, PerformanceRow,
    PurchaseRow, Recorded, UserRow, hash_bytes, hash_text,
};
pub use sqlite::{explain, is_damage};

/// The PostgreSQL side under the name the command layer knows it by (`store::pg::is_url`,
/// `refuse_password`, `outcome_unknown`…).
pub use self::postgres as pg;

/// Kept at its old path for the import files being rewritten (issue 27: `pgusers.rs`,
/// `trainees.rs`, `import/`… reach `super::users::…`); remove with them.
use queries::users;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use sql::Conn;

/// How long a statement waits for another process's lock before SQLite answers BUSY.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// An open database.
pub struct Store {
    conn: Conn,
    path: Option<PathBuf>,
    /// The PostgreSQL URL, without password.
    url: Option<String>,
    /// PostgreSQL: this opening created the schema in an empty database (`init`, the target
    /// of `copy`), which [`Store::remove_created_schema`] may take back.
    created_schema: bool,
}

/// A view of the database inside a transaction: every query lives on this type, in the
/// submodules by area.
pub struct Db<'a> {
    conn: &'a Conn,
}

impl Store {
    /// Opens the existing database at `path` and brings its schema up to date. A missing
    /// (or empty) file is `no database at PATH`, and nothing is created; a SQLite file of
    /// another application is refused unchanged.
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_with(path, false)
    }

    /// Opens the database at `path`, creating it (mode 0600, missing folders mode 0700)
    /// when it does not exist: for `init` and `demo` only.
    pub fn create(path: &Path) -> Result<Store> {
        Self::open_with(path, true)
    }

    fn open_with(path: &Path, create: bool) -> Result<Store> {
        if let Some(url) = path.to_str().filter(|p| pg::is_url(p)) {
            let (conn, created_schema) = pg::open(url, create)?;
            return Ok(Store {
                conn,
                path: None,
                url: Some(pg::shown(url)),
                created_schema,
            });
        }
        let conn = sqlite::open(path, create).map_err(|e| explain(e, path))?;
        Ok(Store {
            conn,
            path: Some(path.to_path_buf()),
            url: None,
            created_schema: false,
        })
    }

    /// An in-memory database (unit tests).
    pub fn open_in_memory() -> Result<Store> {
        Ok(Store {
            conn: sqlite::open_in_memory()?,
            path: None,
            url: None,
            created_schema: false,
        })
    }

    /// The file, if on disk.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The PostgreSQL URL (without password), if this is PostgreSQL.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// Removes the schema this opening created in an empty PostgreSQL database (every table
    /// of the current schema: there were none before), when the command it was created for
    /// failed: a failed `copy` leaves the database as empty as it found it. Does nothing on
    /// SQLite (the caller removes a file it created) or when the schema was there before.
    pub fn remove_created_schema(&mut self) -> Result<()> {
        if !self.created_schema {
            return Ok(());
        }
        self.conn.drop_created_schema()?;
        self.created_schema = false;
        Ok(())
    }

    /// Whether this is a PostgreSQL database (the only kind opened from a URL).
    pub fn is_postgres(&self) -> bool {
        self.url.is_some()
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        self.conn.schema_version()
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction and commits if it returns `Ok`; any
    /// error rolls everything back. Taking the write lock up front means a writer never
    /// fails half-way with "database is locked": it waits (busy timeout) at the start, and
    /// the start is retried while SQLite answers BUSY. On PostgreSQL the same: one write lock
    /// taken first (see [`postgres`]).
    pub fn write<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        self.write_or_rollback(|db| f(db).map(|t| (t, true)))
    }

    /// A read-only folder or a full disk named as such (see [`explain`]).
    fn explained(&self, e: anyhow::Error) -> anyhow::Error {
        match &self.path {
            Some(p) => explain(e, p),
            None => e,
        }
    }

    /// Like [`Store::write`], but `f` also decides whether to commit: with `false` (a dry
    /// run, or an all-or-nothing import that found bad rows) everything it did is rolled
    /// back and its value is still returned.
    pub fn write_or_rollback<T>(&mut self, f: impl FnOnce(&Db) -> Result<(T, bool)>) -> Result<T> {
        let db = Db { conn: &self.conn };
        self.conn.write(|| f(&db)).map_err(|e| self.explained(e))
    }

    /// Runs `f` in a read transaction: one consistent view of the database.
    pub fn read<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let db = Db { conn: &self.conn };
        self.conn.read(|| f(&db))
    }

    /// The database's own consistency check: `["ok"]` when sound, else what is wrong.
    /// (SQLite's `integrity_check`; PostgreSQL checks its pages itself, and here every
    /// constraint must be validated.)
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        self.conn.integrity_check()
    }

    /// How many rows point at rows that do not exist (SQLite's `foreign_key_check`;
    /// PostgreSQL enforces its foreign keys on every write: 0 unless one is disabled).
    pub fn foreign_key_violations(&self) -> Result<i64> {
        self.conn.foreign_key_violations()
    }

    /// Whether the connection to the server is encrypted (PostgreSQL; `None` for SQLite).
    pub fn tls_in_use(&self) -> Result<Option<bool>> {
        self.conn.tls_in_use()
    }

    /// Copies the whole database into a new SQLite file at `dest` (SQLite's online backup,
    /// in small steps so other processes keep writing), and checks the copy.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        self.conn.backup_to(dest)
    }
}

/// `no database at PATH` (SPEC §2).
pub fn no_database(path: &Path) -> anyhow::Error {
    match path.to_str().filter(|p| pg::is_url(p)) {
        Some(url) => no_database_named(&pg::shown(url)),
        None => no_database_named(&path.display().to_string()),
    }
}

/// A database location as every message prints it: a file's path, or a PostgreSQL URL
/// redacted ([`pg::shown`]: no password in any form, no parameter that could hold one).
pub fn shown_location(location: &Path) -> String {
    let text = location.to_string_lossy();
    if pg::is_url(&text) {
        pg::shown(&text)
    } else {
        location.display().to_string()
    }
}

/// `no database at WHERE` (SPEC §2).
pub fn no_database_named(place: &str) -> anyhow::Error {
    crate::error::not_found(format!(
        "no database at {place}: create one with `competency init`"
    ))
}

impl<'a> Db<'a> {
    /// The connection (for submodules).
    fn conn(&self) -> &'a Conn {
        self.conn
    }
}
