//! The PostgreSQL side of the bulk imports (issue 14): on PostgreSQL every statement is a
//! round trip, so an import must not send one per row. Staged rows are buffered and sent in
//! batches with `COPY … FROM STDIN (FORMAT binary)` (typed binary fields, never SQL text)
//! into the import's TEMP tables; the staged rows are read back through a cursor a chunk at
//! a time; for each chunk the facts its rows will ask about (active accounts by e-mail, open
//! MSA associations, user names and e-mails in use) are fetched with one set-based query
//! each (`pgusers`); new accounts are buffered with ids reserved from the table's sequence
//! and written by one COPY per chunk.
//!
//! That is the path of a file small against the table. A file large against it (a quarter
//! of the accounts or more, [`BULK_RATIO`]) goes in bulk mode: what its rows may ask about
//! is loaded once, and new accounts and links go by COPY straight into `users` and
//! `msa_links` with their secondary indexes and foreign keys dropped and rebuilt in the same
//! transaction ([`SUSPEND`], [`RESTORE`]); its rows stay in the client (`pgmem`) unless they
//! are too many for memory, and are decided inside the COPY of the accounts.
//!
//! Observable behaviour is the SQLite path's: the same decisions in the same order (e-mail
//! order in byte order, `COLLATE "C"`), inside the one transaction of the command.

use std::cell::RefCell;
use std::rc::Rc;

use postgres::types::Type;

use super::import::StagedUser;
use super::pgmem::MemStage;
pub use super::pgusers::{BULK_RATIO, COPY_USERS, PgUsers, USER_TYPES};
use super::sql::{Pg, Result};

/// Rows buffered before a COPY.
pub const COPY_BATCH: usize = 4096;

/// The TEMP tables of a users import on PostgreSQL: the SQLite ones' columns, text in byte
/// order, and candidate tables without keys (a COPY appends; repeats are harmless to the
/// `IN (SELECT …)` that reads them). Dropped with the others by `STAGE_TABLES`.
pub const STAGE_DDL: &str = "CREATE TEMP TABLE import_users (line BIGINT PRIMARY KEY,
        span_start BIGINT, span_end BIGINT, email TEXT COLLATE \"C\", name TEXT,
        msa TEXT COLLATE \"C\", roles TEXT);
     CREATE TEMP TABLE import_rejects (line BIGINT PRIMARY KEY, span_start BIGINT,
        span_end BIGINT, message TEXT);
     CREATE TEMP TABLE import_cand_email (email TEXT COLLATE \"C\");
     CREATE TEMP TABLE import_cand_msa (msa TEXT COLLATE \"C\");
     CREATE TEMP TABLE import_seen_email (email TEXT COLLATE \"C\" PRIMARY KEY, line BIGINT);
     CREATE TEMP TABLE import_seen_msa (msa TEXT COLLATE \"C\" PRIMARY KEY, line BIGINT);
     CREATE TEMP TABLE import_links (msa TEXT COLLATE \"C\", user_id BIGINT);";

/// The staged rows in e-mail order (then file order), read a chunk at a time.
const OPEN_CURSOR: &str = "DECLARE import_by_email NO SCROLL CURSOR FOR
     SELECT line, span_start, span_end, email, name, msa, roles FROM import_users
     ORDER BY email, line";
const FETCH_CHUNK: &str = "FETCH FORWARD 4096 FROM import_by_email";
const CLOSE_CURSOR: &str = "CLOSE import_by_email";

/// A staged row: line, span, e-mail, name, MSA, roles.
type StagedRow = (i64, i64, i64, String, String, Option<String>, String);

/// What a users import buffers on PostgreSQL before sending it with COPY.
#[derive(Default)]
pub struct PgStage {
    users: Vec<StagedRow>,
    rejects: Vec<(i64, i64, i64, String)>,
    cand_email: Vec<String>,
    cand_msa: Vec<String>,
    links: Vec<(String, i64)>,
    /// How many links were queued in all.
    pub queued_links: u64,
    /// Shared with the import's [`super::import::UserStatements`].
    pub cache: Rc<RefCell<PgUsers>>,
    /// Memory mode (see `pgmem`): the rows stay in the client; `None` once they went to
    /// the TEMP tables.
    pub mem: Option<MemStage>,
    /// The accounts in the database when the import began.
    existing: i64,
    /// Whether phase 1 is over ([`PgStage::settle`]).
    settled: bool,
}

impl PgStage {
    /// A stage in memory mode; `existing`: the accounts in the database.
    pub fn new(existing: i64) -> PgStage {
        PgStage {
            mem: Some(MemStage::default()),
            existing,
            ..PgStage::default()
        }
    }

    /// The accounts in the database when the import began.
    pub fn existing(&self) -> i64 {
        self.existing
    }

    /// Leaves memory mode: every row kept so far goes to the TEMP tables.
    fn spill(&mut self, pg: &Pg) -> Result<()> {
        let Some(m) = self.mem.take() else {
            return Ok(());
        };
        // Only phase 1 fills a stage in memory mode, so there is nothing else to move.
        debug_assert!(m.seen_email.is_empty() && m.links.is_empty());
        for r in m.rows {
            self.users.push((
                r.line as i64,
                r.span.0 as i64,
                r.span.1 as i64,
                r.email,
                r.name,
                r.msa,
                r.roles,
            ));
            if self.users.len() >= COPY_BATCH * 16 {
                self.flush(pg)?;
            }
        }
        self.rejects = m.rejects;
        self.cand_email = m.cand_email.into_iter().collect();
        self.cand_msa = m.cand_msa.into_iter().collect();
        self.flush(pg)
    }

    /// At the end of phase 1: memory mode is kept only for a file large against the table
    /// (bulk mode, [`BULK_RATIO`]); a smaller one goes to the TEMP tables, to be decided
    /// chunk by chunk with what the server says.
    pub fn settle(&mut self, pg: &Pg) -> Result<()> {
        if self.settled {
            return Ok(());
        }
        self.settled = true;
        if let Some(m) = &self.mem
            && ((m.rows.len() as i64).saturating_mul(BULK_RATIO) < self.existing
                || m.rows.is_empty())
        {
            self.spill(pg)?;
        }
        Ok(())
    }

    fn pending(&self) -> usize {
        self.users.len()
            + self.rejects.len()
            + self.cand_email.len()
            + self.cand_msa.len()
            + self.links.len()
    }

    fn maybe_flush(&mut self, pg: &Pg) -> Result<()> {
        if self.pending() >= COPY_BATCH {
            self.flush(pg)?;
        }
        Ok(())
    }

    /// Buffers a staged row.
    pub fn add(
        &mut self,
        pg: &Pg,
        row: (i64, i64, i64, &str, &str, Option<&str>, &str),
    ) -> Result<()> {
        let (line, s, e, email, name, msa, roles) = row;
        if let Some(m) = &mut self.mem {
            let full = m.add(StagedUser {
                line: line as u64,
                span: (s as u64, e as u64),
                email: email.to_owned(),
                name: name.to_owned(),
                msa: msa.map(str::to_owned),
                roles: roles.to_owned(),
            });
            return if full { self.spill(pg) } else { Ok(()) };
        }
        self.users.push((
            line,
            s,
            e,
            email.to_owned(),
            name.to_owned(),
            msa.map(str::to_owned),
            roles.to_owned(),
        ));
        self.maybe_flush(pg)
    }

    /// Buffers a rejected row.
    pub fn reject(&mut self, pg: &Pg, line: i64, s: i64, e: i64, message: &str) -> Result<()> {
        if let Some(m) = &mut self.mem {
            let full = m.reject(line as u64, (s as u64, e as u64), message);
            // Once settled, a stage in memory mode stays there (its rows are being written).
            return if full && !self.settled {
                self.spill(pg)
            } else {
                Ok(())
            };
        }
        self.rejects.push((line, s, e, message.to_owned()));
        self.maybe_flush(pg)
    }

    /// Buffers a candidate duplicate e-mail.
    pub fn candidate_email(&mut self, pg: &Pg, email: &str) -> Result<()> {
        if let Some(m) = &mut self.mem {
            m.cand_email.insert(email.to_owned());
            return Ok(());
        }
        self.cand_email.push(email.to_owned());
        self.maybe_flush(pg)
    }

    /// Buffers a candidate duplicate MSA.
    pub fn candidate_msa(&mut self, pg: &Pg, msa: &str) -> Result<()> {
        if let Some(m) = &mut self.mem {
            m.cand_msa.insert(msa.to_owned());
            return Ok(());
        }
        self.cand_msa.push(msa.to_owned());
        self.maybe_flush(pg)
    }

    /// Buffers a link to insert at the end.
    pub fn queue_link(&mut self, pg: &Pg, msa: &str, user_id: i64) -> Result<()> {
        if let Some(m) = &mut self.mem {
            // Inside the COPY of the accounts: nothing may be sent now.
            m.links.push((msa.to_owned(), user_id));
            self.queued_links += 1;
            return Ok(());
        }
        self.links.push((msa.to_owned(), user_id));
        self.queued_links += 1;
        self.maybe_flush(pg)
    }

    /// Sends everything buffered; called before any read of the TEMP tables.
    pub fn flush(&mut self, pg: &Pg) -> Result<()> {
        if !self.users.is_empty() {
            let rows = std::mem::take(&mut self.users);
            pg.copy_in(
                "COPY import_users (line, span_start, span_end, email, name, msa, roles)
                 FROM STDIN (FORMAT binary)",
                &[
                    Type::INT8,
                    Type::INT8,
                    Type::INT8,
                    Type::TEXT,
                    Type::TEXT,
                    Type::TEXT,
                    Type::TEXT,
                ],
                |w| {
                    for (line, s, e, email, name, msa, roles) in &rows {
                        w.write(&[line, s, e, email, name, msa, roles])?;
                    }
                    Ok(())
                },
            )?;
        }
        if !self.rejects.is_empty() {
            let rows = std::mem::take(&mut self.rejects);
            pg.copy_in(
                "COPY import_rejects (line, span_start, span_end, message)
                 FROM STDIN (FORMAT binary)",
                &[Type::INT8, Type::INT8, Type::INT8, Type::TEXT],
                |w| {
                    for (line, s, e, m) in &rows {
                        w.write(&[line, s, e, m])?;
                    }
                    Ok(())
                },
            )?;
        }
        copy_texts(
            pg,
            "COPY import_cand_email (email) FROM STDIN (FORMAT binary)",
            &mut self.cand_email,
        )?;
        copy_texts(
            pg,
            "COPY import_cand_msa (msa) FROM STDIN (FORMAT binary)",
            &mut self.cand_msa,
        )?;
        if !self.links.is_empty() && self.cache.borrow().is_suspended() {
            // Bulk mode with the indexes and foreign keys dropped: straight into the table.
            let rows = std::mem::take(&mut self.links);
            let (org_id, at) = {
                let c = self.cache.borrow();
                (c.org_id, c.at)
            };
            copy_links(pg, &rows, org_id, at)?;
        }
        if !self.links.is_empty() {
            let rows = std::mem::take(&mut self.links);
            pg.copy_in(
                "COPY import_links (msa, user_id) FROM STDIN (FORMAT binary)",
                &[Type::TEXT, Type::INT8],
                |w| {
                    for (m, id) in &rows {
                        w.write(&[m, id])?;
                    }
                    Ok(())
                },
            )?;
        }
        Ok(())
    }
}

/// Opens the cursor over the staged rows in e-mail order (then file order).
pub fn open_cursor(pg: &Pg) -> Result<()> {
    pg.batch_raw(OPEN_CURSOR)
}

/// Closes it.
pub fn close_cursor(pg: &Pg) -> Result<()> {
    pg.batch_raw(CLOSE_CURSOR)
}

/// The next chunk of staged rows (empty at the end), with what its rows will ask about
/// fetched into `cache`.
pub fn next_chunk(pg: &Pg, cache: &RefCell<PgUsers>) -> Result<Vec<StagedUser>> {
    let chunk: Vec<StagedUser> = pg
        .query_typed(FETCH_CHUNK, &[])?
        .iter()
        .map(|r| StagedUser {
            line: r.get::<_, i64>(0) as u64,
            span: (r.get::<_, i64>(1) as u64, r.get::<_, i64>(2) as u64),
            email: r.get(3),
            name: r.get(4),
            msa: r.get(5),
            roles: r.get(6),
        })
        .collect();
    cache.borrow_mut().prefetch(pg, &chunk)?;
    Ok(chunk)
}

/// Writes new MSA links (MSA, account) of `org_id`, started `at`, by COPY straight into
/// `msa_links`: in bulk mode, with its indexes dropped, or after the accounts they point at.
pub fn copy_links(pg: &Pg, links: &[(String, i64)], org_id: i64, at: i64) -> Result<()> {
    if links.is_empty() {
        return Ok(());
    }
    pg.copy_in(
        "COPY msa_links (msa, user_id, org_id, started_at) FROM STDIN (FORMAT binary)",
        &[Type::TEXT, Type::INT8, Type::INT8, Type::INT8],
        |w| {
            for (m, id) in links {
                w.write(&[m, id, &org_id, &at])?;
            }
            Ok(())
        },
    )?;
    Ok(())
}

/// Sends the queued values of a one-text-column staging table through `sql` (a constant
/// `COPY … FROM STDIN (FORMAT binary)`) and empties the queue.
fn copy_texts(pg: &Pg, sql: &str, queue: &mut Vec<String>) -> Result<()> {
    if !queue.is_empty() {
        let rows = std::mem::take(queue);
        pg.copy_in(sql, &[Type::TEXT], |w| {
            for v in &rows {
                w.write(&[v])?;
            }
            Ok(())
        })?;
    }
    Ok(())
}
