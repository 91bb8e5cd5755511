//! Opening a SQLite database file safely: only `init`/`demo` create it (mode 0600, missing
//! folders 0700); a missing or empty file is `no database at PATH`; another application's
//! SQLite file is refused unchanged; the file and its `-wal`/`-shm` side files are never
//! opened or changed through a symbolic link, and a laxer mode on a side file is tightened
//! through its descriptor. Every connection runs with WAL, `synchronous=NORMAL`,
//! `foreign_keys=ON` and the busy timeout, and its schema brought up to date.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OpenFlags};

use super::transaction::retry_busy;
use crate::store::sql::Conn;
use crate::store::{BUSY_TIMEOUT, no_database, schema};

/// Opens the database file at `path` (creating it first with `create`), checked and
/// configured.
pub fn open(path: &Path, create: bool) -> Result<Conn> {
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
            return Err(e).with_context(|| format!("cannot open the database {}", path.display()));
        }
    };
    if size == 0 && !create {
        return Err(no_database(path));
    }
    let sides = ["-wal", "-shm"].map(|suffix| PathBuf::from(format!("{}{suffix}", path.display())));
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
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open the database {}", path.display()))?;
    configure(&mut conn, true)
        .with_context(|| format!("cannot use the database {}", path.display()))?;
    Ok(Conn::Lite(conn))
}

/// An in-memory database (unit tests).
pub fn open_in_memory() -> Result<Conn> {
    let mut conn = Connection::open_in_memory()?;
    configure(&mut conn, false)?;
    Ok(Conn::Lite(conn))
}

/// The connection's settings (busy timeout, foreign keys, WAL on disk, synchronous), then
/// its schema brought up to date.
fn configure(conn: &mut Connection, on_disk: bool) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    schema::refuse_newer(conn)?;
    if on_disk {
        // Switching a new file to WAL needs it to itself for a moment, and SQLite answers
        // BUSY at once (without the busy handler) when another process is opening the
        // same new file: wait and retry, as the busy handler would.
        let mode: String =
            retry_busy(|| conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)))
                .context("cannot switch the database to WAL journaling")?;
        if !mode.eq_ignore_ascii_case("wal") {
            bail!("cannot switch to WAL journaling (got {mode})");
        }
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.set_prepared_statement_cache_capacity(64);
    schema::migrate(conn)
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

/// Sets the page cache size (KiB) of the main schema; returns the previous setting
/// (SQLite's own encoding: negative = KiB, positive = pages).
pub fn set_cache_kib(c: &rusqlite::Connection, kib: i64) -> Result<i64> {
    let prev: i64 = c.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    c.pragma_update(None, "cache_size", -kib)?;
    Ok(prev)
}

/// Restores a setting [`set_cache_kib`] returned.
pub fn restore_cache(c: &rusqlite::Connection, setting: i64) -> Result<()> {
    c.pragma_update(None, "cache_size", setting)?;
    Ok(())
}
