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
//!
//! Longer than ~400 lines on purpose: the one `Store` type's opening, creation, transactions
//! and maintenance, whose invariants (listed above) are read together.

mod achievements;
mod audit;
pub mod copy;
mod designations;
pub mod import;
mod membership;
mod orgs;
mod performance;
pub mod pg;
mod pgbulk;
mod pgmem;
mod pgusers;
mod pgwait;
mod postgres;
pub mod schema;
mod snapshot;
pub mod sql;
mod sqlite;
pub mod trainees;
mod users;

pub use achievements::{NewAchievement, Recorded};
pub use audit::AuditRow;
pub use designations::{ClassificationRow, DesignationAlertRow, EnrolmentRow, NewEnrolment};
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
            conn: Conn::Lite(conn),
            path: Some(path.to_path_buf()),
            url: None,
            created_schema: false,
        };
        store
            .configure()
            .with_context(|| format!("cannot use the database {}", path.display()))?;
        Ok(store)
    }

    /// An in-memory database (unit tests).
    pub fn open_in_memory() -> Result<Store> {
        let mut store = Store {
            conn: Conn::Lite(Connection::open_in_memory()?),
            path: None,
            url: None,
            created_schema: false,
        };
        store.configure()?;
        Ok(store)
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
        let Conn::Pg(p) = &self.conn else {
            return Ok(());
        };
        if !self.created_schema {
            return Ok(());
        }
        pg::begin(p, true)?;
        let r = pg::drop_all_tables(&self.conn);
        match r {
            Ok(()) => pg::commit(p)?,
            Err(e) => {
                let _ = pg::rollback(p);
                return Err(e);
            }
        }
        self.created_schema = false;
        Ok(())
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.conn.is_pg()
    }

    fn configure(&mut self) -> Result<()> {
        let on_disk = self.path.is_some();
        let Conn::Lite(conn) = &mut self.conn else {
            return Ok(());
        };
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::refuse_newer(conn)?;
        if on_disk {
            // Switching a new file to WAL needs it to itself for a moment, and SQLite answers
            // BUSY at once (without the busy handler) when another process is opening the
            // same new file: wait and retry, as the busy handler would.
            let mode: String = retry_busy(|| {
                conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            })
            .context("cannot switch the database to WAL journaling")?;
            if !mode.eq_ignore_ascii_case("wal") {
                bail!("cannot switch to WAL journaling (got {mode})");
            }
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.set_prepared_statement_cache_capacity(64);
        schema::migrate(conn)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        match &self.conn {
            Conn::Lite(c) => Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?),
            Conn::Pg(_) => pg::schema_version(&self.conn),
        }
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction and commits if it returns `Ok`; any
    /// error rolls everything back. Taking the write lock up front means a writer never
    /// fails half-way with "database is locked": it waits (busy timeout) at the start, and
    /// the start is retried while SQLite answers BUSY. On PostgreSQL the same: one write lock
    /// taken first (see [`pg`]).
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
        let r = match &self.conn {
            Conn::Lite(c) => (|| {
                let tx = begin_retrying(c, TransactionBehavior::Immediate)?;
                let (out, commit) = f(&db)?;
                if commit {
                    // A Ctrl-C during a long job (`progress::arm`): the transaction rolls
                    // back as `tx` drops.
                    crate::support::interrupt::check()?;
                    tx.commit().context("cannot commit the transaction")?;
                } else {
                    tx.rollback().context("cannot roll back the transaction")?;
                }
                Ok(out)
            })(),
            Conn::Pg(p) => (|| {
                pg::begin(p, true)?;
                let r = f(&db).and_then(|(out, commit)| {
                    if commit {
                        crate::support::interrupt::check()?;
                        pg::commit(p)?;
                    } else {
                        pg::rollback(p)?;
                    }
                    Ok(out)
                });
                if r.as_ref().is_err_and(|e| !pg::outcome_unknown(e)) {
                    let _ = pg::rollback(p);
                }
                r.map_err(|e| pg::busy(pg::named(p, e)))
            })(),
        };
        r.map_err(|e| self.explained(e))
    }

    /// Runs `f` in a read transaction: one consistent view of the database.
    pub fn read<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let db = Db { conn: &self.conn };
        match &self.conn {
            Conn::Lite(c) => {
                let tx = begin_retrying(c, TransactionBehavior::Deferred)?;
                let out = f(&db)?;
                tx.commit()?;
                Ok(out)
            }
            Conn::Pg(p) => {
                pg::begin(p, false)?;
                let r = f(&db);
                let end = pg::rollback(p);
                let out = r.map_err(|e| pg::named(p, e))?;
                end?;
                Ok(out)
            }
        }
    }

    /// The database's own consistency check: `["ok"]` when sound, else what is wrong.
    /// (SQLite's `integrity_check`; PostgreSQL checks its pages itself, and here every
    /// constraint must be validated.)
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        match &self.conn {
            Conn::Lite(c) => Ok(c
                .prepare("PRAGMA integrity_check")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?),
            Conn::Pg(_) => {
                let n: i64 = self.conn.query_row(
                    "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                     WHERE n.nspname = current_schema() AND NOT c.convalidated",
                    sql::params![],
                    |r| r.get(0),
                )?;
                Ok(if n == 0 {
                    vec!["ok".to_owned()]
                } else {
                    vec![format!("{n} constraints are not validated")]
                })
            }
        }
    }

    /// How many rows point at rows that do not exist (SQLite's `foreign_key_check`;
    /// PostgreSQL enforces its foreign keys on every write: 0 unless one is disabled).
    pub fn foreign_key_violations(&self) -> Result<i64> {
        match &self.conn {
            Conn::Lite(c) => Ok(c.query_row(
                "SELECT count(*) FROM pragma_foreign_key_check",
                [],
                |r| r.get::<_, i64>(0),
            )?),
            Conn::Pg(_) => Ok(self.conn.query_row(
                "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                 WHERE n.nspname = current_schema() AND c.contype = 'f' AND NOT c.convalidated",
                sql::params![],
                |r| r.get(0),
            )?),
        }
    }

    /// Whether the connection to the server is encrypted (PostgreSQL; `None` for SQLite).
    pub fn tls_in_use(&self) -> Result<Option<bool>> {
        match &self.conn {
            Conn::Lite(_) => Ok(None),
            Conn::Pg(_) => pg::tls_in_use(&self.conn).map(Some),
        }
    }

    /// Copies the whole database into a new SQLite file at `dest` (SQLite's online backup,
    /// in small steps so other processes keep writing), and checks the copy.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let Conn::Lite(src) = &self.conn else {
            bail!("backup of a PostgreSQL database is not available yet: use pg_dump");
        };
        let mut dst = Connection::open(dest)?;
        let backup = rusqlite::backup::Backup::new(src, &mut dst)?;
        backup
            .run_to_completion(256, Duration::from_millis(5), None)
            .context("the backup did not complete")?;
        drop(backup);
        let ok: String = dst.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if ok != "ok" {
            bail!("the copy failed its integrity check: {ok}");
        }
        Ok(())
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

/// SQLite's error code in an error's chain, if any.
fn sqlite_code(e: &anyhow::Error) -> Option<ErrorCode> {
    e.chain().find_map(|c| {
        c.downcast_ref::<rusqlite::Error>()
            .and_then(rusqlite::Error::sqlite_error_code)
            .or_else(|| {
                c.downcast_ref::<sql::Error>()
                    .and_then(sql::Error::sqlite_code)
            })
    })
}

/// True when SQLite says the file is damaged or not a database at all.
pub fn is_damage(e: &anyhow::Error) -> bool {
    matches!(
        sqlite_code(e),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
    ) || e.chain().any(|c| {
        matches!(
            c.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::InvalidColumnType(..))
        ) || matches!(
            c.downcast_ref::<sql::Error>(),
            Some(sql::Error::Lite(rusqlite::Error::InvalidColumnType(..)) | sql::Error::Type(_))
        )
    })
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
    let code = sqlite_code(&e);
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
    fn conn(&self) -> &'a Conn {
        self.conn
    }
}

/// True when the error is a UNIQUE constraint violation.
#[cfg(test)]
pub fn is_unique_violation(e: &sql::Error) -> bool {
    match e {
        sql::Error::Lite(rusqlite::Error::SqliteFailure(f, _)) => {
            f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        }
        e => e.pg_code() == Some("23505"),
    }
}

#[cfg(test)]
mod tests;
