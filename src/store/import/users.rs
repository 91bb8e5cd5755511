//! The store side of `users import`: the staged rows and the statements that write them,
//! backend-neutral. There are two execution paths, one per backend, and they decide alike:
//!
//! - the rows are staged in file order in TEMP tables (prepared inserts on SQLite,
//!   `sqlite/users.rs`; binary `COPY` on PostgreSQL, `postgres/users.rs`), the rejected
//!   rows beside them;
//! - the rows whose e-mail or MSA may repeat are read back in file order (one statement)
//!   and the second occurrences rejected, from memory;
//! - the remaining rows are read back in e-mail order and decided one after the other. On
//!   SQLite every question (the active account of an e-mail, the open association of an
//!   MSA, whether a user name is free) is an in-process index lookup; on PostgreSQL, where
//!   each would be a round trip, the rows come 4,096 at a time through a cursor and what
//!   they ask about is fetched for the whole chunk with one set-based query each, against
//!   the staged rows, before any of them is decided; the chunk's new accounts are written
//!   by one `COPY` after it. No statement is ever sent while a `COPY` is open: every
//!   `COPY` is complete (written and closed) inside one call.
//!
//! Invariants: every answer is what the database would give at that point of the import
//! (the accounts buffered for the chunk's `COPY` included), so both paths decide every row
//! the same way; the TEMP tables are created inside the import's transaction, so a
//! rollback removes them; the backend's tuning for the import (SQLite's page caches and
//! memory map) is set by [`Db::user_stage`] and restored by [`UserStage::drop_tables`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::store::Db;
use crate::store::postgres::users::{self as pg, PgStage, PgUsers};
use crate::store::sql::params;
use crate::store::sqlite::users::{self as lite, LiteStage, Tuning};

/// An active account found by e-mail.
#[derive(Debug, Clone)]
pub struct ExistingUser {
    /// Database id.
    pub id: i64,
    /// User name.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Roles, `;`-joined as stored.
    pub roles: String,
    /// The open MSA link: (link id, MSA).
    pub link: Option<(i64, String)>,
}

/// The open association of an MSA, wherever it is.
#[derive(Debug, Clone)]
pub struct OpenLink {
    /// Link id.
    pub id: i64,
    /// The account.
    pub user_id: i64,
    /// Its user name.
    pub username: String,
    /// Its organization.
    pub org_id: i64,
    /// That organization's name.
    pub org_name: String,
}

/// An account an import inserts: the row `users add` inserts, its password hash already in
/// the form the database stores (`store::hash_bytes`: a generated secret's 32-byte digest).
#[derive(Debug, Clone, Copy)]
pub struct BulkUser<'a> {
    /// Organization.
    pub org_id: i64,
    /// User name, `<local>@<domain>`.
    pub username: &'a str,
    /// Display name.
    pub name: &'a str,
    /// E-mail.
    pub email: &'a str,
    /// Roles, `;`-joined.
    pub roles: &'a str,
    /// The stored password hash.
    pub password_hash: &'a [u8],
    /// When the temporary password expires.
    pub expires_at: DateTime<Utc>,
}

pub use statements::UserStatements;
mod statements;
use statements::{END_LINK, FIND_EMAIL, FIND_LINK, INSERT_USER};

/// A staged row, read back in e-mail order.
pub struct StagedUser {
    /// The line it starts on.
    pub line: u64,
    /// Its span in the file.
    pub span: (u64, u64),
    /// E-mail, lower case.
    pub email: String,
    /// Display name.
    pub name: String,
    /// MSA.
    pub msa: Option<String>,
    /// Roles, `;`-joined.
    pub roles: String,
}

/// A rejected row, read back in file order.
pub struct StagedReject {
    /// The line it starts on.
    pub line: u64,
    /// Its span in the file.
    pub span: (u64, u64),
    /// Why.
    pub message: String,
}

/// The TEMP tables of a users import (the same names and columns on both backends).
pub(crate) const STAGE_TABLES: &[&str] = &[
    "import_users",
    "import_rejects",
    "import_cand_email",
    "import_cand_msa",
    "import_links",
];

/// How the staged rows reach their TEMP tables.
enum Fill<'a> {
    /// Prepared inserts (boxed: five statements against the other's few vectors).
    Lite(Box<LiteStage<'a>>),
    /// Buffered, then sent by binary `COPY`.
    Pg(PgStage),
}

/// The temporary tables of a users import, in the connection's TEMP schema, and what the
/// duplicate check remembers.
///
/// The rows are staged first, in file order (appends, page by page), so that they can then
/// be read back sorted by e-mail — the database's external sort, memory bounded whatever
/// the file size — and inserted into `users` in the order of its e-mail and user-name
/// indexes, and their MSA links into `msa_links` in MSA order: every B-tree then fills
/// page by page instead of at random.
pub struct UserStage<'a> {
    fill: Fill<'a>,
    db: &'a Db<'a>,
    /// The line that took each candidate e-mail / MSA (only rows whose key may repeat).
    seen_email: HashMap<String, u64>,
    seen_msa: HashMap<String, u64>,
    /// PostgreSQL: shared with the import's [`UserStatements`].
    cache: Option<Rc<RefCell<PgUsers>>>,
    /// What [`Db::user_stage`] changed, put back by [`UserStage::drop_tables`].
    tuning: Tuning,
    /// How many rows were staged.
    staged: u64,
    /// PostgreSQL: whether the foreign keys are dropped for a large import (see
    /// `postgres::users_keys::LARGE_RATIO`), to be added back before the import ends.
    keys_suspended: bool,
}

impl<'a> UserStage<'a> {
    /// Stages a valid row (in file order).
    pub fn add(
        &mut self,
        line: u64,
        span: (u64, u64),
        email: &str,
        name: &str,
        msa: Option<&str>,
        roles: &str,
    ) -> Result<()> {
        let (l, s, e) = (line as i64, span.0 as i64, span.1 as i64);
        self.staged += 1;
        match &mut self.fill {
            Fill::Lite(st) => st.add(l, s, e, email, name, msa, roles),
            Fill::Pg(st) => Ok(st.add(pg_of(self.db), (l, s, e, email, name, msa, roles))?),
        }
    }

    /// Records a rejected row.
    pub fn reject(&mut self, line: u64, span: (u64, u64), message: &str) -> Result<()> {
        let (l, s, e) = (line as i64, span.0 as i64, span.1 as i64);
        match &mut self.fill {
            Fill::Lite(st) => st.reject(l, s, e, message),
            Fill::Pg(st) => Ok(st.reject(pg_of(self.db), l, s, e, message)?),
        }
    }

    /// Notes an e-mail that may occur more than once in the file.
    pub fn candidate_email(&mut self, email: &str) -> Result<()> {
        match &mut self.fill {
            Fill::Lite(st) => st.candidate_email(email),
            Fill::Pg(st) => Ok(st.candidate_email(pg_of(self.db), email)?),
        }
    }

    /// Notes an MSA that may occur more than once in the file.
    pub fn candidate_msa(&mut self, msa: &str) -> Result<()> {
        match &mut self.fill {
            Fill::Lite(st) => st.candidate_msa(msa),
            Fill::Pg(st) => Ok(st.candidate_msa(pg_of(self.db), msa)?),
        }
    }

    /// Calls `f` for each staged row whose e-mail or MSA is a candidate duplicate, in file
    /// order, with (line, span, email, msa). One pass over the staged rows, no sort.
    pub fn for_each_candidate(
        &mut self,
        mut f: impl FnMut(&mut Self, u64, (u64, u64), &str, Option<&str>) -> Result<()>,
    ) -> Result<()> {
        self.flush()?;
        let db = self.db;
        let mut st = db.conn().prepare(
            "SELECT line, span_start, span_end, email, msa FROM temp.import_users
             WHERE email IN (SELECT email FROM temp.import_cand_email)
                OR msa IN (SELECT msa FROM temp.import_cand_msa)
             ORDER BY line",
        )?;
        let mut rows = st.query(params![])?;
        while let Some(r) = rows.next()? {
            f(
                self,
                r.get::<_, i64>(0)? as u64,
                (r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64),
                r.get_ref(3)?.as_str()?,
                r.get_ref(4)?.as_str_or_null()?,
            )?;
        }
        Ok(())
    }

    /// The line that already took an e-mail (see [`UserStage::take`]).
    pub fn email_taken(&mut self, email: &str) -> Result<Option<u64>> {
        Ok(self.seen_email.get(email).copied())
    }

    /// The line that already took an MSA (see [`UserStage::take`]).
    pub fn msa_taken(&mut self, msa: &str) -> Result<Option<u64>> {
        Ok(self.seen_msa.get(msa).copied())
    }

    /// Records that `line`, accepted, takes its e-mail and MSA.
    pub fn take(&mut self, email: &str, msa: Option<&str>, line: u64) -> Result<()> {
        self.seen_email.insert(email.to_owned(), line);
        if let Some(m) = msa {
            self.seen_msa.insert(m.to_owned(), line);
        }
        Ok(())
    }

    /// Removes the rows rejected so far from the staged rows.
    pub fn drop_rejected(&mut self) -> Result<()> {
        self.flush()?;
        self.seen_email = HashMap::new();
        self.seen_msa = HashMap::new();
        self.db.conn().execute(
            "DELETE FROM temp.import_users WHERE line IN (SELECT line FROM temp.import_rejects)",
            params![],
        )?;
        Ok(())
    }

    /// Calls `f` for each staged row in e-mail order (then file order).
    pub fn for_each_by_email(
        &mut self,
        mut f: impl FnMut(&mut Self, StagedUser) -> Result<()>,
    ) -> Result<()> {
        self.flush()?;
        self.seen_email = HashMap::new();
        self.seen_msa = HashMap::new();
        if let (Some(cache), Some(p)) = (self.cache.clone(), self.db.conn().pg()) {
            let accounts = self.accounts()?;
            self.keys_suspended = pg::suspend_keys(p, self.staged as i64, accounts)?;
            // A chunk at a time: what its rows will ask about is fetched set-based before
            // them; the accounts they added are written after them.
            pg::open_cursor(p)?;
            loop {
                let chunk = pg::next_chunk(p, &cache)?;
                if chunk.is_empty() {
                    break;
                }
                for row in chunk {
                    f(self, row)?;
                }
                cache.borrow_mut().write_new(p, true)?;
            }
            pg::close_cursor(p)?;
            return Ok(());
        }
        let db = self.db;
        let mut st = db.conn().prepare(
            "SELECT line, span_start, span_end, email, name, msa, roles FROM temp.import_users
             ORDER BY email, line",
        )?;
        let mut rows = st.query(params![])?;
        while let Some(r) = rows.next()? {
            f(
                self,
                StagedUser {
                    line: r.get::<_, i64>(0)? as u64,
                    span: (r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64),
                    email: r.get(3)?,
                    name: r.get(4)?,
                    msa: r.get(5)?,
                    roles: r.get(6)?,
                },
            )?;
        }
        Ok(())
    }

    /// Queues an MSA link to insert with [`UserStage::insert_links`].
    pub fn queue_link(&mut self, msa: &str, user_id: i64) -> Result<()> {
        match &mut self.fill {
            Fill::Lite(st) => st.queue_link(msa, user_id),
            Fill::Pg(st) => {
                st.queue_link(msa, user_id);
                Ok(())
            }
        }
    }

    /// Inserts the queued links in MSA order (the order of two of the three indexes of
    /// `msa_links`; the third, by user, is small). On PostgreSQL each chunk wrote its own
    /// by `COPY` already.
    pub fn insert_links(&mut self, org_id: i64, at: DateTime<Utc>) -> Result<()> {
        self.flush()?;
        if self.cache.is_none() {
            self.db.conn().execute(
                "INSERT INTO msa_links (msa, user_id, org_id, started_at)
             SELECT msa, user_id, ?1, ?2 FROM temp.import_links ORDER BY msa",
                params![org_id, at.timestamp()],
            )?;
        }
        self.restore_keys()
    }

    /// PostgreSQL: adds back the foreign keys a large import wrote without (once every
    /// row is written).
    fn restore_keys(&mut self) -> Result<()> {
        if self.keys_suspended {
            pg::restore_keys(pg_of(self.db))?;
            self.keys_suspended = false;
        }
        Ok(())
    }

    /// An upper bound of the accounts in the database (the largest id: no scan).
    fn accounts(&self) -> Result<i64> {
        Ok(self
            .db
            .conn()
            .query_row("SELECT coalesce(max(id), 0) FROM users", params![], |r| {
                r.get(0)
            })?)
    }

    /// Calls `f` for each rejected row, in file order.
    pub fn for_each_reject(&mut self, mut f: impl FnMut(StagedReject) -> Result<()>) -> Result<()> {
        self.flush()?;
        let mut st = self.db.conn().prepare(
            "SELECT line, span_start, span_end, message FROM temp.import_rejects ORDER BY line",
        )?;
        let mut rows = st.query(params![])?;
        while let Some(r) = rows.next()? {
            f(StagedReject {
                line: r.get::<_, i64>(0)? as u64,
                span: (r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64),
                message: r.get(3)?,
            })?;
        }
        Ok(())
    }

    /// PostgreSQL: sends the rows buffered for COPY (before any read of the TEMP tables).
    fn flush(&mut self) -> Result<()> {
        if let Fill::Pg(st) = &mut self.fill {
            st.flush(pg_of(self.db))?;
        }
        Ok(())
    }

    /// The statements of the users import that writes these staged rows into `org_id`
    /// (of `domain`) at `at`: on PostgreSQL they share what each chunk prefetched.
    pub fn statements(
        &self,
        org_id: i64,
        domain: &str,
        at: DateTime<Utc>,
    ) -> Result<UserStatements<'a>> {
        let c = self.db.conn();
        // A user name is `<local>@<domain>`: only an e-mail ending in `@<domain>` can equal
        // one, and the import adds no e-mail it has not staged. When neither the accounts
        // nor the staged rows have such an e-mail, no user name needs the per-row question
        // (a million index probes: 5 % of a users import, measured). Asked set-based, once,
        // when the scan of the accounts costs at most four times the import's own rows;
        // LIKE may match more than the suffix (`_`, case), never less.
        let accounts = self.accounts()?;
        let names_may_be_emails = (self.staged as i64).saturating_mul(4) < accounts
            || c.query_row(
                "SELECT EXISTS (SELECT 1 FROM temp.import_users WHERE email LIKE '%@' || ?1)
                     OR EXISTS (SELECT 1 FROM users WHERE email LIKE '%@' || ?1)",
                params![domain],
                |r| r.get(0),
            )?;
        if let Some(cache) = &self.cache {
            let ask_active = self.db.has_active_users(org_id)?;
            let ask_links = self.db.has_open_links()?;
            let ask_names = self.db.conn().query_row(
                "SELECT EXISTS (SELECT 1 FROM users u JOIN orgs o ON o.id = u.org_id
                                 WHERE o.domain = ?1)",
                params![domain],
                |r| r.get(0),
            )?;
            let mut c = cache.borrow_mut();
            c.org_id = org_id;
            c.domain = domain.to_owned();
            c.at = at.timestamp();
            c.ask_active = ask_active;
            c.ask_emails = names_may_be_emails;
            c.ask_links = ask_links;
            c.ask_names = ask_names;
        }
        Ok(UserStatements {
            find_email: c.prepare_cached(FIND_EMAIL)?,
            find_link: c.prepare_cached(FIND_LINK)?,
            insert_user: c.prepare_cached(INSERT_USER)?,
            end_link: c.prepare_cached(END_LINK)?,
            db: self.db,
            pg: self.cache.clone(),
            space: None,
            names_may_be_emails,
        })
    }

    /// Drops the temporary tables and puts the backend's tuning back.
    pub fn drop_tables(mut self) -> Result<()> {
        self.restore_keys()?;
        let (db, tuning) = (self.db, self.tuning);
        drop(self.fill);
        for t in STAGE_TABLES {
            db.conn()
                .execute_batch(&format!("DROP TABLE IF EXISTS temp.{t}"))?;
        }
        if let Some(c) = db.conn().lite() {
            lite::restore(c, tuning)?;
        }
        Ok(())
    }
}

/// The PostgreSQL connection of a stage filled by COPY.
fn pg_of<'d>(db: &'d Db<'_>) -> &'d crate::store::sql::Pg {
    db.conn().pg().expect("a COPY stage is on PostgreSQL")
}

impl<'a> Db<'a> {
    /// Whether the organization has an active account.
    pub fn has_active_users(&self, org_id: i64) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM users WHERE org_id = ?1 AND status = 'active')",
            [org_id],
            |r| r.get(0),
        )?)
    }

    /// Whether any MSA has an open association, in any organization.
    pub fn has_open_links(&self) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM msa_links WHERE ended_at IS NULL)",
            params![],
            |r| r.get(0),
        )?)
    }

    /// Creates the temporary tables of a users import and prepares their statements; on
    /// SQLite, sets the page caches and memory map the import runs with (see
    /// [`lite::tune`]).
    pub fn user_stage(&'a self) -> Result<UserStage<'a>> {
        let c = self.conn();
        for t in STAGE_TABLES {
            c.execute_batch(&format!("DROP TABLE IF EXISTS temp.{t}"))?;
        }
        let (fill, cache, tuning) = match c.pg() {
            Some(p) => {
                let st = PgStage::create(p)?;
                let cache = Rc::clone(&st.cache);
                (Fill::Pg(st), Some(cache), Tuning::default())
            }
            None => {
                let l = c.lite().expect("SQLite");
                let tuning = lite::tune(l)?;
                (Fill::Lite(Box::new(LiteStage::create(c)?)), None, tuning)
            }
        };
        Ok(UserStage {
            fill,
            db: self,
            seen_email: HashMap::new(),
            seen_msa: HashMap::new(),
            cache,
            tuning,
            staged: 0,
            keys_suspended: false,
        })
    }
}

#[cfg(test)]
mod tests;
