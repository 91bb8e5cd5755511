//! The store: the only module that speaks SQL.
//!
//! It owns the SQLite file and keeps these invariants:
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

mod achievements;
mod audit;
pub mod copy;
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
pub use users::{MsaLink, NewUser, UserRow, hash_bytes, hash_text};

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
        Self::open_inner(path, create).map_err(|e| explain(e, path))
    }

    fn open_inner(path: &Path, create: bool) -> Result<Store> {
        if create {
            crate::support::files::create_private_dirs(&crate::support::files::folder_of(path))?;
            create_private(path)?;
        }
        // The file itself, never through a link.
        let size = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
        {
            Ok(f) => {
                let meta = f
                    .metadata()
                    .with_context(|| format!("cannot read {}", path.display()))?;
                if !meta.is_file() {
                    return Err(crate::error::refused(format!(
                        "{} is not a regular file, not a competency database",
                        path.display()
                    )));
                }
                meta.len()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(no_database(path));
            }
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(crate::error::refused(format!(
                    "the database {} is a symbolic link: give the path of the file itself",
                    path.display()
                )));
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot open the database {}", path.display()));
            }
        };
        if size == 0 && !create {
            return Err(no_database(path));
        }
        let sides =
            ["-wal", "-shm"].map(|suffix| PathBuf::from(format!("{}{suffix}", path.display())));
        for side in &sides {
            if side
                .symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
            {
                return Err(side_link(side));
            }
        }
        if size > 0 {
            recognize(path, create)?;
        }
        for side in &sides {
            // SQLite creates these with the main file's mode; a stale one from an older,
            // laxer run is tightened here — never through a link.
            tighten(side)?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
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
        let r = (|| {
            let tx = begin_retrying(&self.conn, TransactionBehavior::Immediate)?;
            let out = f(&Db { conn: &tx })?;
            // A Ctrl-C during a long job (`progress::arm`): the transaction rolls back as
            // `tx` drops.
            crate::domain::progress::check()?;
            tx.commit().context("cannot commit the transaction")?;
            Ok(out)
        })();
        r.map_err(|e| self.explained(e))
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
        let r = (|| {
            let tx = begin_retrying(&self.conn, TransactionBehavior::Immediate)?;
            let (out, commit) = f(&Db { conn: &tx })?;
            if commit {
                crate::domain::progress::check()?;
                tx.commit().context("cannot commit the transaction")?;
            } else {
                tx.rollback().context("cannot roll back the transaction")?;
            }
            Ok(out)
        })();
        r.map_err(|e| self.explained(e))
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

/// `no database at PATH` (SPEC §2).
pub fn no_database(path: &Path) -> anyhow::Error {
    crate::error::not_found(format!(
        "no database at {}: create one with `competency init`",
        path.display()
    ))
}

/// Checks, without changing anything, that a non-empty file is a competency database (or
/// an empty SQLite database `init` may fill): a SQLite file of another application (tables
/// but not ours) is refused.
fn recognize(path: &Path, create: bool) -> Result<()> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open the database {}", path.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The version and the tables are read in one read transaction (one snapshot): read
    // apart, another process's first migration could commit in between, and a database it
    // just created would look like tables without a version — another application's.
    let snapshot = conn
        .unchecked_transaction()
        .with_context(|| format!("cannot read the database {}", path.display()))?;
    let version = schema::refuse_newer(&snapshot)
        .with_context(|| format!("cannot use the database {}", path.display()))?;
    let (tables, ours): (i64, i64) = retry_busy(|| {
        snapshot.query_row(
            "SELECT count(*), count(*) FILTER (WHERE name IN ('orgs', 'users', 'audit')) \
             FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    })
    .with_context(|| format!("cannot use the database {}", path.display()))?;
    drop(snapshot);
    drop(conn);
    if tables == 0 && version == 0 {
        return if create {
            Ok(())
        } else {
            Err(no_database(path))
        };
    }
    if version == 0 || ours < 3 {
        return Err(crate::error::refused(format!(
            "{} is a SQLite database of another application, not a competency database: it was \
             left unchanged; give another --db",
            path.display()
        )));
    }
    Ok(())
}

fn side_link(side: &Path) -> anyhow::Error {
    crate::error::refused(format!(
        "{} is a symbolic link: a database's side files must be plain files; remove the link \
         (nothing was changed)",
        side.display()
    ))
}

/// Sets mode 0600 on an existing `-wal`/`-shm` file, never through a link: the file is
/// opened with `O_NOFOLLOW` and changed through its descriptor; a link is refused.
fn tighten(side: &Path) -> Result<()> {
    match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(side)
    {
        Ok(f) => {
            let meta = f.metadata()?;
            if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
                f.set_permissions(fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("cannot set mode 0600 on {}", side.display()))?;
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Err(side_link(side)),
        Err(e) => Err(e).with_context(|| format!("cannot open {}", side.display())),
    }
}

/// Replaces SQLite's "attempt to write a readonly database" and "database or disk is full"
/// with what the administrator can act on: the folder or the file, and why.
pub fn explain(e: anyhow::Error, path: &Path) -> anyhow::Error {
    explain_with(e, path, |p: &Path| {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else {
            return true;
        };
        // SAFETY: a valid NUL-terminated path; access only reads it.
        unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
    })
}

/// [`explain`] with the question "can this process write there?" answered by `writable`.
fn explain_with(e: anyhow::Error, path: &Path, writable: impl Fn(&Path) -> bool) -> anyhow::Error {
    let code = e.chain().find_map(|c| {
        c.downcast_ref::<rusqlite::Error>()
            .and_then(rusqlite::Error::sqlite_error_code)
    });
    let dir = crate::support::files::folder_of(path);
    match code {
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen) if !writable(&dir) => anyhow::anyhow!(
            "cannot write in {}: read-only folder (the database needs to create its -wal and \
             -shm files there)",
            dir.display()
        ),
        Some(ErrorCode::ReadOnly) if !writable(path) => {
            anyhow::anyhow!("cannot write {}: read-only file", path.display())
        }
        Some(ErrorCode::ReadOnly) => anyhow::anyhow!(
            "cannot write the database {} (in {}): read-only",
            path.display(),
            dir.display()
        ),
        Some(ErrorCode::DiskFull) => anyhow::anyhow!(
            "cannot write the database {}: the disk is full",
            path.display()
        ),
        _ => e,
    }
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
