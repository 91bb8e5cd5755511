//! The SQLite side of `users import` (see `store/import/users.rs`): the page cache and
//! memory map the import runs with.

use anyhow::Result;
use rusqlite::OptionalExtension;

/// The page cache of a users import, in KiB: its rows are written in index order, so the
/// B-trees need little more than their right edges in memory.
pub const USERS_IMPORT_CACHE_KIB: i64 = 24 * 1024;

/// The settings [`tune`] replaced (SQLite's own encodings), for [`restore`].
#[derive(Debug, Default, Clone, Copy)]
pub struct Tuning {
    cache: Option<i64>,
    mmap: Option<i64>,
}

/// Sets the page cache of a users import and turns the memory map off (a re-import reads
/// every account: through mmap that would be the whole file resident); returns what was
/// there before.
pub fn tune(c: &rusqlite::Connection) -> Result<Tuning> {
    let cache: i64 = c.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    c.pragma_update(None, "cache_size", -USERS_IMPORT_CACHE_KIB)?;
    // An in-memory database has no memory map to report.
    let mmap: Option<i64> = c
        .pragma_query_value(None, "mmap_size", |r| r.get(0))
        .optional()?;
    if mmap.is_some() {
        c.pragma_update(None, "mmap_size", 0)?;
    }
    Ok(Tuning {
        cache: Some(cache),
        mmap,
    })
}

/// Puts back what [`tune`] changed.
pub fn restore(c: &rusqlite::Connection, t: Tuning) -> Result<()> {
    if let Some(mmap) = t.mmap {
        c.pragma_update(None, "mmap_size", mmap)?;
    }
    if let Some(cache) = t.cache {
        c.pragma_update(None, "cache_size", cache)?;
    }
    Ok(())
}
