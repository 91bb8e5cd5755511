//! A command's transaction on SQLite (`BEGIN IMMEDIATE` for a write, so a writer waits at
//! its start rather than failing half-way; the start retried while SQLite answers BUSY),
//! and what the store asks of a whole SQLite database: its version, its integrity, its
//! foreign keys, an online backup.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, ErrorCode, TransactionBehavior};

use crate::store::BUSY_TIMEOUT;

/// Runs `f` in one `BEGIN IMMEDIATE` transaction; commits when it answers `true`, rolls back
/// when `false` or on an error (as the transaction drops).
pub fn write<T>(c: &Connection, f: impl FnOnce() -> Result<(T, bool)>) -> Result<T> {
    let tx = begin_retrying(c, TransactionBehavior::Immediate)?;
    let (out, commit) = f()?;
    if commit {
        // A Ctrl-C during a long job (`progress::arm`): the transaction rolls back as `tx`
        // drops.
        crate::support::interrupt::check()?;
        tx.commit().context("cannot commit the transaction")?;
    } else {
        tx.rollback().context("cannot roll back the transaction")?;
    }
    Ok(out)
}

/// Runs `f` in a deferred (read) transaction: one consistent view.
pub fn read<T>(c: &Connection, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let tx = begin_retrying(c, TransactionBehavior::Deferred)?;
    let out = f()?;
    tx.commit()?;
    Ok(out)
}

/// The schema version (`PRAGMA user_version`).
pub fn schema_version(c: &Connection) -> Result<i64> {
    Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

/// SQLite's `integrity_check`: `["ok"]` when sound.
pub fn integrity_check(c: &Connection) -> Result<Vec<String>> {
    Ok(c.prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// How many rows point at rows that do not exist (`foreign_key_check`).
pub fn foreign_key_violations(c: &Connection) -> Result<i64> {
    Ok(
        c.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get::<_, i64>(0)
        })?,
    )
}

/// Copies the whole database into a new file at `dest` (SQLite's online backup, in small
/// steps so other processes keep writing), and checks the copy.
pub fn backup_to(src: &Connection, dest: &Path) -> Result<()> {
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

pub(crate) fn begin_retrying(
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
pub(crate) fn retry_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
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
