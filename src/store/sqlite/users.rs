//! The SQLite side of `users import` (see `store/import/users.rs`): its TEMP tables, filled
//! by prepared inserts (in-process, no round trip to save), and the page caches and memory
//! map the import runs with.

use anyhow::Result;
use rusqlite::OptionalExtension;

use crate::store::sql::{Conn, Stmt, params};

/// The page cache of a users import, in KiB: its rows are written in index order, so the
/// B-trees need little more than their right edges in memory; SQLite's sorter takes as much
/// again, and the whole stays well under 100 MiB.
pub const USERS_IMPORT_CACHE_KIB: i64 = 24 * 1024;

/// The page cache of the TEMP schema during a users import, in KiB: enough to append to
/// the staged rows and probe the small candidate tables; the sorts use their own bounded
/// memory.
pub const STAGE_CACHE_KIB: i64 = 4 * 1024;

/// The settings [`tune`] replaced (SQLite's own encodings), for [`restore`].
#[derive(Debug, Default, Clone, Copy)]
pub struct Tuning {
    cache: Option<i64>,
    mmap: Option<i64>,
}

/// Sets the page caches of a users import and turns the memory map off (a re-import reads
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
    c.pragma_update(Some("temp"), "cache_size", -STAGE_CACHE_KIB)?;
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

/// The TEMP tables of a users import on SQLite and the inserts that fill them.
pub struct LiteStage<'a> {
    add: Stmt<'a>,
    reject: Stmt<'a>,
    cand_email: Stmt<'a>,
    cand_msa: Stmt<'a>,
    link: Stmt<'a>,
}

impl<'a> LiteStage<'a> {
    /// Creates the TEMP tables (dropped beforehand by the caller) and prepares the inserts.
    pub fn create(c: &'a Conn) -> Result<LiteStage<'a>> {
        c.execute_batch(
            "CREATE TEMP TABLE import_users (line INTEGER PRIMARY KEY, span_start INTEGER,
                span_end INTEGER, email TEXT, name TEXT, msa TEXT, roles TEXT);
             CREATE TEMP TABLE import_rejects (line INTEGER PRIMARY KEY, span_start INTEGER,
                span_end INTEGER, message TEXT);
             CREATE TEMP TABLE import_cand_email (email TEXT PRIMARY KEY) WITHOUT ROWID;
             CREATE TEMP TABLE import_cand_msa (msa TEXT PRIMARY KEY) WITHOUT ROWID;
             CREATE TEMP TABLE import_links (msa TEXT, user_id INTEGER);",
        )?;
        Ok(LiteStage {
            add: c.prepare_cached(
                "INSERT INTO temp.import_users VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
            reject: c.prepare_cached("INSERT INTO temp.import_rejects VALUES (?1, ?2, ?3, ?4)")?,
            cand_email: c
                .prepare_cached("INSERT OR IGNORE INTO temp.import_cand_email VALUES (?1)")?,
            cand_msa: c.prepare_cached("INSERT OR IGNORE INTO temp.import_cand_msa VALUES (?1)")?,
            link: c.prepare_cached("INSERT INTO temp.import_links VALUES (?1, ?2)")?,
        })
    }

    /// Stages a valid row.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        line: i64,
        s: i64,
        e: i64,
        email: &str,
        name: &str,
        msa: Option<&str>,
        roles: &str,
    ) -> Result<()> {
        self.add
            .execute(params![line, s, e, email, name, msa, roles])?;
        Ok(())
    }

    /// Records a rejected row.
    pub fn reject(&mut self, line: i64, s: i64, e: i64, message: &str) -> Result<()> {
        self.reject.execute(params![line, s, e, message])?;
        Ok(())
    }

    /// Notes an e-mail that may repeat.
    pub fn candidate_email(&mut self, email: &str) -> Result<()> {
        self.cand_email.execute([email])?;
        Ok(())
    }

    /// Notes an MSA that may repeat.
    pub fn candidate_msa(&mut self, msa: &str) -> Result<()> {
        self.cand_msa.execute([msa])?;
        Ok(())
    }

    /// Queues a link to insert at the end.
    pub fn queue_link(&mut self, msa: &str, user_id: i64) -> Result<()> {
        self.link.execute(params![msa, user_id])?;
        Ok(())
    }
}
