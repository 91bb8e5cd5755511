//! Bulk imports: statements prepared once and held for the whole file, so the per-row cost
//! is binding and stepping, nothing else. The record imports (achievements, Trainings
//! report, performance) stage their rows and decide them set-based, the same statements on
//! both backends: [`staging`], [`records`], [`performance`].
//!
//! The import module decides what each row means; this module only runs the SQL. Every
//! statement here is used inside the single transaction of one import.

pub mod performance;
pub mod records;
pub mod staging;
#[cfg(test)]
mod tests;

use super::sql::{OptionalExtension, Stmt, params};
use anyhow::Result;
use chrono::{DateTime, Utc};

use super::Db;
use super::pgbulk::{self, PgStage, PgUsers};
use super::pgmem::MemStage;
use std::cell::RefCell;
use std::rc::Rc;

/// The page cache an import runs with, in KiB: large enough that the indexes being filled
/// stay in memory for a few hundred thousand rows, small enough to keep the process well
/// under 100 MiB (with a chunk of rows being sorted beside it).
pub const IMPORT_CACHE_KIB: i64 = 40 * 1024;

/// The page cache of a users import, in KiB: its rows are written in index order, so the
/// B-trees need little more than their right edges in memory; SQLite's sorter takes as much
/// again, and the whole stays well under 100 MiB.
pub const USERS_IMPORT_CACHE_KIB: i64 = 24 * 1024;

/// The page cache of the TEMP schema during a users import, in KiB.
pub const STAGE_CACHE_KIB: i64 = 4 * 1024;

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

/// The statements of a users import.
pub struct UserStatements<'a> {
    find_email: Stmt<'a>,
    find_link: Stmt<'a>,
    insert_user: Stmt<'a>,
    insert_link: Stmt<'a>,
    end_link: Stmt<'a>,
    db: &'a Db<'a>,
    /// PostgreSQL: what the current chunk of staged rows asked about, fetched set-based.
    pg: Option<Rc<RefCell<PgUsers>>>,
    /// The user-name domain of the organization imported into (its id, the domain, and
    /// whether another organization shares the domain), asked once.
    space: Option<(i64, String, bool)>,
}

/// A user row an import inserts: the same row as `users add` inserts.
pub use super::users::NewUser as BulkUser;

impl<'a> UserStatements<'a> {
    /// The active account of the organization with this e-mail.
    pub fn active_by_email(&mut self, org_id: i64, email: &str) -> Result<Option<ExistingUser>> {
        if let Some(found) = self
            .pg
            .as_ref()
            .and_then(|c| c.borrow().active_by_email(email))
        {
            return Ok(found);
        }
        Ok(self
            .find_email
            .query_row(params![org_id, email], |r| {
                let link_id: Option<i64> = r.get(4)?;
                Ok(ExistingUser {
                    id: r.get(0)?,
                    username: r.get(1)?,
                    name: r.get(2)?,
                    roles: r.get(3)?,
                    link: match link_id {
                        Some(id) => Some((id, r.get(5)?)),
                        None => None,
                    },
                })
            })
            .optional()?)
    }

    /// The open association of an MSA, in any organization.
    pub fn open_link(&mut self, msa: &str) -> Result<Option<OpenLink>> {
        if let Some(found) = self.pg.as_ref().and_then(|c| c.borrow().open_link(msa)) {
            return Ok(found);
        }
        Ok(self
            .find_link
            .query_row([msa], |r| {
                Ok(OpenLink {
                    id: r.get(0)?,
                    user_id: r.get(1)?,
                    username: r.get(2)?,
                    org_id: r.get(3)?,
                    org_name: r.get(4)?,
                })
            })
            .optional()?)
    }

    /// Whether some account (any organization, any status) has this e-mail.
    pub fn email_in_use(&self, email: &str) -> Result<bool> {
        if let Some(known) = self
            .pg
            .as_ref()
            .and_then(|c| c.borrow().email_in_use(email))
        {
            return Ok(known);
        }
        self.db.email_in_use(email)
    }

    /// The stored form of a user name of the organization (migration 10: without the
    /// domain), and whether another organization shares that domain.
    fn stored_username<'u>(&mut self, org_id: i64, username: &'u str) -> Result<(&'u str, bool)> {
        if self.space.as_ref().is_none_or(|s| s.0 != org_id) {
            let domain = self.db.org_domain(org_id)?;
            let shared = self.db.conn().query_row(
                "SELECT EXISTS (SELECT 1 FROM orgs WHERE domain = ?1 AND id != ?2)",
                params![domain, org_id],
                |r| r.get(0),
            )?;
            self.space = Some((org_id, domain, shared));
        }
        let (_, domain, shared) = self.space.as_ref().expect("set above");
        match super::users::username_stem(username, domain) {
            Some(stem) => Ok((stem, *shared)),
            None => anyhow::bail!(
                "internal error: user name {username:?} is not in its organization's domain {domain:?}"
            ),
        }
    }

    /// Inserts an account; `Ok(None)` when the user name is taken.
    pub fn insert_user(&mut self, u: &BulkUser, at: DateTime<Utc>) -> Result<Option<i64>> {
        if let Some(cache) = self.pg.clone() {
            return self.insert_user_pg(&cache, u);
        }
        let (stem, shared) = self.stored_username(u.org_id, u.username)?;
        // The unique index keeps a user name once per organization; another organization
        // of the same domain is asked first.
        if shared && self.db.username_taken(u.username)? {
            return Ok(None);
        }
        let n = self.insert_user.execute(params![
            u.org_id,
            stem,
            u.name,
            u.email,
            u.roles,
            at.timestamp(),
            super::users::hash_bytes(u.password_hash),
            u.expires_at.timestamp()
        ])?;
        if n == 0 {
            return Ok(None);
        }
        Ok(Some(self.db.conn().last_insert_rowid()?))
    }

    /// Starts an association.
    pub fn insert_link(
        &mut self,
        msa: &str,
        user_id: i64,
        org_id: i64,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.insert_link
            .execute(params![msa, user_id, org_id, at.timestamp()])?;
        Ok(())
    }

    /// PostgreSQL: the account is buffered (written with its chunk, by COPY), its id drawn
    /// from the sequence; a user name taken in the database or by a buffered account
    /// inserts nothing, as `ON CONFLICT DO NOTHING` does on SQLite.
    fn insert_user_pg(&mut self, cache: &RefCell<PgUsers>, u: &BulkUser) -> Result<Option<i64>> {
        // Checked here, so that a name outside the organization's domain fails as on SQLite
        // (in bulk mode from memory: nothing may be sent while the accounts stream).
        let bulk = cache.borrow().is_bulk();
        if !bulk {
            self.stored_username(u.org_id, u.username)?;
        } else if u.org_id != cache.borrow().org_id || cache.borrow().stem(u.username).is_none() {
            anyhow::bail!(
                "internal error: user name {:?} is not in its organization's domain",
                u.username
            );
        }
        let known = cache.borrow().username_taken(u.username);
        let taken = match known {
            Some(t) => t,
            None => self.db.username_taken(u.username)?,
        };
        if taken {
            return Ok(None);
        }
        let pg = self.db.conn().pg().expect("PostgreSQL");
        Ok(Some(cache.borrow_mut().add(
            pg,
            u.username,
            u.name,
            u.email,
            u.roles,
            super::users::hash_bytes(u.password_hash),
            u.expires_at.timestamp(),
        )?))
    }

    /// Ends an association.
    pub fn end_link(&mut self, link_id: i64, at: DateTime<Utc>, reason: &str) -> Result<()> {
        if let Some(cache) = &self.pg {
            let mut c = cache.borrow_mut();
            if c.defers() {
                c.defer_end(link_id, reason);
                return Ok(());
            }
            c.link_ended(link_id);
        }
        self.end_link
            .execute(params![link_id, at.timestamp(), reason])?;
        Ok(())
    }

    /// The largest number `n` such that `<local><n>@<domain>` is a user name already
    /// (0 when none): where numbering resumes after a collision.
    pub fn max_username_suffix(&self, local: &str, domain: &str) -> Result<u64> {
        // `local` holds only letters, digits, `.`, `_` and `-` (validate::username_local),
        // none of them special to GLOB, so the prefix can use the username index.
        // PostgreSQL has no GLOB: LIKE finds a superset (`_` matches any character), which
        // the loop below narrows exactly.
        if let Some(n) = self
            .pg
            .as_ref()
            .and_then(|c| c.borrow().max_username_suffix(local))
        {
            return Ok(n);
        }
        let pg = self.db.conn().is_pg();
        if let (Some(cache), Some(p)) = (&self.pg, self.db.conn().pg()) {
            // The LIKE below must see the accounts buffered so far.
            cache.borrow_mut().write_new(p, false)?;
        }
        // Names are stored without their domain (`<local><n>@`), in the organizations of
        // the domain.
        let sql = if pg {
            "SELECT username FROM users
             WHERE org_id IN (SELECT id FROM orgs WHERE domain = ?2) AND username LIKE ?1"
        } else {
            "SELECT username FROM users
             WHERE org_id IN (SELECT id FROM orgs WHERE domain = ?2) AND username GLOB ?1"
        };
        let pattern = if pg {
            format!("{local}%@")
        } else {
            format!("{local}[0-9]*@")
        };
        let mut st = self.db.conn().prepare_cached(sql)?;
        let mut rows = st.query(params![pattern, domain])?;
        let mut max = 0;
        while let Some(r) = rows.next()? {
            let name: String = r.get(0)?;
            if let Some(n) = name
                .strip_prefix(local)
                .and_then(|s| s.strip_suffix('@'))
                .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
            {
                max = max.max(n);
            }
        }
        Ok(max)
    }
}

/// The temporary tables of a users import, in the connection's TEMP schema (a file, not
/// memory: `temp_store` is left at its default), created inside the import's transaction
/// so a rollback removes them too.
///
/// The rows are staged first, in file order (appends, page by page), so that they can then
/// be read back sorted by e-mail — SQLite's external merge sort, memory bounded by the page
/// cache, whatever the file size — and inserted into `users` in the order of its e-mail
/// and user-name indexes, and their MSA links into `msa_links` in MSA order: every B-tree
/// then fills page by page instead of at random.
pub struct UserStage<'a> {
    add: Stmt<'a>,
    reject: Stmt<'a>,
    cand_email: Stmt<'a>,
    cand_msa: Stmt<'a>,
    seen_email: Stmt<'a>,
    seen_msa: Stmt<'a>,
    take_email: Stmt<'a>,
    take_msa: Stmt<'a>,
    link: Stmt<'a>,
    db: &'a Db<'a>,
    /// PostgreSQL: rows buffered for COPY (see `pgbulk`).
    pg: Option<PgStage>,
}

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

const STAGE_TABLES: &[&str] = &[
    "import_users",
    "import_rejects",
    "import_cand_email",
    "import_cand_msa",
    "import_seen_email",
    "import_seen_msa",
    "import_links",
];

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
        if let (Some(st), Some(p)) = (&mut self.pg, self.db.conn().pg()) {
            let (l, s, e) = (line as i64, span.0 as i64, span.1 as i64);
            return Ok(st.add(p, (l, s, e, email, name, msa, roles))?);
        }
        self.add.execute(params![
            line as i64,
            span.0 as i64,
            span.1 as i64,
            email,
            name,
            msa,
            roles
        ])?;
        Ok(())
    }

    /// Records a rejected row.
    pub fn reject(&mut self, line: u64, span: (u64, u64), message: &str) -> Result<()> {
        if let (Some(st), Some(p)) = (&mut self.pg, self.db.conn().pg()) {
            let (l, s, e) = (line as i64, span.0 as i64, span.1 as i64);
            return Ok(st.reject(p, l, s, e, message)?);
        }
        self.reject
            .execute(params![line as i64, span.0 as i64, span.1 as i64, message])?;
        Ok(())
    }

    /// Notes an e-mail that may occur more than once in the file.
    pub fn candidate_email(&mut self, email: &str) -> Result<()> {
        if let (Some(st), Some(p)) = (&mut self.pg, self.db.conn().pg()) {
            return Ok(st.candidate_email(p, email)?);
        }
        self.cand_email.execute([email])?;
        Ok(())
    }

    /// Notes an MSA that may occur more than once in the file.
    pub fn candidate_msa(&mut self, msa: &str) -> Result<()> {
        if let (Some(st), Some(p)) = (&mut self.pg, self.db.conn().pg()) {
            return Ok(st.candidate_msa(p, msa)?);
        }
        self.cand_msa.execute([msa])?;
        Ok(())
    }

    /// Calls `f` for each staged row whose e-mail or MSA is a candidate duplicate, in file
    /// order, with (line, span, email, msa). One pass over the staged rows, no sort.
    pub fn for_each_candidate(
        &mut self,
        mut f: impl FnMut(&mut Self, u64, (u64, u64), &str, Option<&str>) -> Result<()>,
    ) -> Result<()> {
        if let (Some(st), Some(p)) = (&mut self.pg, self.db.conn().pg()) {
            st.settle(p)?;
            if let Some(m) = &st.mem {
                for (line, span, email, msa) in m.candidates() {
                    f(self, line, span, &email, msa.as_deref())?;
                }
                return Ok(());
            }
        }
        self.flush_pg()?;
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
        if let Some(m) = self.mem() {
            return Ok(m.seen_email.get(email).copied());
        }
        Ok(self
            .seen_email
            .query_row([email], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|l| l as u64))
    }

    /// The line that already took an MSA (see [`UserStage::take`]).
    pub fn msa_taken(&mut self, msa: &str) -> Result<Option<u64>> {
        if let Some(m) = self.mem() {
            return Ok(m.seen_msa.get(msa).copied());
        }
        Ok(self
            .seen_msa
            .query_row([msa], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|l| l as u64))
    }

    /// Records that `line`, accepted, takes its e-mail and MSA.
    pub fn take(&mut self, email: &str, msa: Option<&str>, line: u64) -> Result<()> {
        if let Some(m) = self.mem() {
            m.take(email, msa, line);
            return Ok(());
        }
        self.take_email.execute(params![email, line as i64])?;
        if let Some(m) = msa {
            self.take_msa.execute(params![m, line as i64])?;
        }
        Ok(())
    }

    /// Removes the rows rejected so far from the staged rows.
    pub fn drop_rejected(&mut self) -> Result<()> {
        if let Some(m) = self.mem() {
            m.drop_rejected();
            return Ok(());
        }
        self.flush_pg()?;
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
        if self.mem().is_some() {
            return self.for_each_by_email_mem(f);
        }
        if self.pg.is_some() {
            return self.for_each_by_email_pg(f);
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
        if let (Some(st), Some(p)) = (&mut self.pg, self.db.conn().pg()) {
            return Ok(st.queue_link(p, msa, user_id)?);
        }
        self.link.execute(params![msa, user_id])?;
        Ok(())
    }

    /// Inserts the queued links in MSA order (the order of two of the three indexes of
    /// `msa_links`; the third, by user, is small).
    pub fn insert_links(&mut self, org_id: i64, at: DateTime<Utc>) -> Result<()> {
        if let (Some(st), Some(p)) = (&mut self.pg, self.db.conn().pg())
            && let Some(m) = &mut st.mem
        {
            // Memory mode: straight into the table (the accounts are written; if the indexes
            // are dropped, the rebuild checks every link), then the rebuild.
            pgbulk::copy_links(p, &std::mem::take(&mut m.links), org_id, at.timestamp())?;
            st.cache.borrow_mut().restore(p)?;
            return Ok(());
        }
        self.flush_pg()?;
        if let (Some(st), Some(p)) = (&self.pg, self.db.conn().pg())
            && st.queued_links > 0
        {
            st.cache.borrow_mut().before_links(p)?;
        }
        self.db.conn().execute(
            "INSERT INTO msa_links (msa, user_id, org_id, started_at)
             SELECT msa, user_id, ?1, ?2 FROM temp.import_links ORDER BY msa",
            params![org_id, at.timestamp()],
        )?;
        // PostgreSQL in bulk mode: every row is written; the indexes and foreign keys are
        // rebuilt before anything reads through them.
        if let (Some(st), Some(p)) = (&self.pg, self.db.conn().pg()) {
            st.cache.borrow_mut().restore(p)?;
        }
        Ok(())
    }

    /// Calls `f` for each rejected row, in file order.
    pub fn for_each_reject(&mut self, mut f: impl FnMut(StagedReject) -> Result<()>) -> Result<()> {
        if let Some(m) = self.mem() {
            for (line, s, e, message) in m.take_rejects() {
                f(StagedReject {
                    line: line as u64,
                    span: (s as u64, e as u64),
                    message,
                })?;
            }
            return Ok(());
        }
        self.flush_pg()?;
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

    /// PostgreSQL in memory mode (`pgmem`): the stage's rows.
    fn mem(&mut self) -> Option<&mut MemStage> {
        self.pg.as_mut().and_then(|st| st.mem.as_mut())
    }

    /// Memory mode: the rows sorted by e-mail, decided inside one COPY into `users` that
    /// takes each new account as soon as it is made (see `pgmem`).
    fn for_each_by_email_mem(
        &mut self,
        mut f: impl FnMut(&mut Self, StagedUser) -> Result<()>,
    ) -> Result<()> {
        let p = self.db.conn().pg().expect("PostgreSQL");
        let st = self.pg.as_mut().expect("PostgreSQL");
        let (rows, existing) = (
            st.mem.as_mut().expect("memory mode").take_sorted(),
            st.existing(),
        );
        let cache = Rc::clone(&st.cache);
        cache.borrow_mut().plan_in_memory(p, &rows, existing)?;
        cache.borrow_mut().set_deferring(true);
        let written = p.copy_in_with(pgbulk::COPY_USERS, pgbulk::USER_TYPES, |w| {
            for row in rows {
                f(self, row)?;
                cache.borrow_mut().drain_into(w)?;
            }
            anyhow::Ok(())
        });
        cache.borrow_mut().set_deferring(false);
        written?;
        let at = cache.borrow().at;
        cache.borrow_mut().end_deferred(p, at)?;
        Ok(())
    }

    /// PostgreSQL: sends the rows buffered for COPY (before any read of the TEMP tables).
    fn flush_pg(&mut self) -> Result<()> {
        if let (Some(st), Some(p)) = (&mut self.pg, self.db.conn().pg()) {
            st.flush(p)?;
        }
        Ok(())
    }

    /// PostgreSQL: [`UserStage::for_each_by_email`] through a cursor, a chunk at a time;
    /// before each chunk, what its rows will ask about is fetched set-based; after it, the
    /// accounts it added are written.
    fn for_each_by_email_pg(
        &mut self,
        mut f: impl FnMut(&mut Self, StagedUser) -> Result<()>,
    ) -> Result<()> {
        self.flush_pg()?;
        let p = self.db.conn().pg().expect("PostgreSQL");
        let cache = Rc::clone(&self.pg.as_ref().expect("PostgreSQL").cache);
        cache.borrow_mut().plan(p)?;
        pgbulk::open_cursor(p)?;
        loop {
            let chunk = pgbulk::next_chunk(p, &cache)?;
            if chunk.is_empty() {
                break;
            }
            for row in chunk {
                f(self, row)?;
            }
            cache.borrow_mut().write_new(p, true)?;
        }
        pgbulk::close_cursor(p)?;
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
        let mut st = self.db.user_statements()?;
        if let Some(pg) = &self.pg {
            {
                let mut c = pg.cache.borrow_mut();
                c.org_id = org_id;
                c.domain = domain.to_owned();
                c.at = at.timestamp();
            }
            st.pg = Some(Rc::clone(&pg.cache));
        }
        Ok(st)
    }

    /// Drops the temporary tables.
    pub fn drop_tables(self) -> Result<()> {
        let db = self.db;
        drop(self);
        for t in STAGE_TABLES {
            db.conn()
                .execute_batch(&format!("DROP TABLE IF EXISTS temp.{t}"))?;
        }
        Ok(())
    }
}

impl<'a> Db<'a> {
    /// Sets the page cache size (KiB) for this connection; returns the previous setting
    /// (SQLite's own encoding: negative = KiB, positive = pages).
    pub fn set_cache_kib(&self, kib: i64) -> Result<i64> {
        // SQLite's page cache; PostgreSQL's memory is the server's to manage.
        let Some(c) = self.conn().lite() else {
            return Ok(0);
        };
        let prev: i64 = c.pragma_query_value(None, "cache_size", |r| r.get(0))?;
        c.pragma_update(None, "cache_size", -kib)?;
        Ok(prev)
    }

    /// Sets the memory-mapped I/O limit (bytes); returns the previous one. Mapped pages that
    /// a bulk import touches count in its resident memory, so imports read through the
    /// bounded page cache instead.
    pub fn set_mmap_size(&self, bytes: i64) -> Result<i64> {
        let Some(c) = self.conn().lite() else {
            return Ok(0);
        };
        let prev: i64 = c.pragma_query_value(None, "mmap_size", |r| r.get(0))?;
        c.pragma_update(None, "mmap_size", bytes)?;
        Ok(prev)
    }

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

    /// Whether an MSA has an open association with an account of another organization.
    pub fn has_open_links_elsewhere(&self, org_id: i64) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM msa_links WHERE ended_at IS NULL AND org_id != ?1)",
            [org_id],
            |r| r.get(0),
        )?)
    }

    /// Restores a cache size returned by [`Db::set_cache_kib`].
    pub fn restore_cache(&self, setting: i64) -> Result<()> {
        if let Some(c) = self.conn().lite() {
            c.pragma_update(None, "cache_size", setting)?;
        }
        Ok(())
    }

    /// The id the next row of `table` will get (rows with ids from it were added by the
    /// current import). `table` is one of this module's own names, never user input.
    pub fn next_id(&self, table: BulkTable) -> Result<i64> {
        let sql = match table {
            BulkTable::Users => "SELECT coalesce(max(id), 0) + 1 FROM users",
            BulkTable::Achievements => "SELECT coalesce(max(id), 0) + 1 FROM achievements",
            BulkTable::Performance => "SELECT coalesce(max(id), 0) + 1 FROM performance",
        };
        Ok(self.conn().query_row(sql, params![], |r| r.get(0))?)
    }

    /// Prepares the statements of a users import.
    pub fn user_statements(&'a self) -> Result<UserStatements<'a>> {
        let c = self.conn();
        Ok(UserStatements {
            find_email: c.prepare_cached(
                "SELECT u.id, u.username || uo.domain, u.name, u.roles, l.id, l.msa FROM users u
                 JOIN orgs uo ON uo.id = u.org_id
                 LEFT JOIN msa_links l ON l.user_id = u.id AND l.ended_at IS NULL
                 WHERE u.org_id = ?1 AND u.email = ?2 AND u.status = 'active'",
            )?,
            find_link: c.prepare_cached(
                "SELECT l.id, l.user_id, u.username || uo.domain, l.org_id, o.name FROM msa_links l
                 JOIN users u ON u.id = l.user_id JOIN orgs uo ON uo.id = u.org_id
                 JOIN orgs o ON o.id = l.org_id
                 WHERE l.msa = ?1 AND l.ended_at IS NULL",
            )?,
            // A taken user name inserts nothing (and, on PostgreSQL, does not abort the
            // transaction as a failed statement would).
            insert_user: c.prepare_cached(
                "INSERT INTO users (org_id, username, name, email, roles, status, created_at,
                    password_hash, password_temporary, password_expires_at, self_service_reset)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7, 1, ?8, 0)
                 ON CONFLICT (org_id, username) DO NOTHING",
            )?,
            insert_link: c.prepare_cached(
                "INSERT INTO msa_links (msa, user_id, org_id, started_at) VALUES (?1, ?2, ?3, ?4)",
            )?,
            end_link: c.prepare_cached(
                "UPDATE msa_links SET ended_at = ?2, end_reason = ?3 WHERE id = ?1",
            )?,
            db: self,
            pg: None,
            space: None,
        })
    }

    /// Creates the temporary tables of a users import and prepares their statements.
    pub fn user_stage(&'a self) -> Result<UserStage<'a>> {
        let c = self.conn();
        // The TEMP schema has its own page cache: enough to append to the staged rows and
        // probe the small candidate tables; the sorts use their own bounded memory.
        if let Some(l) = c.lite() {
            l.pragma_update(Some("temp"), "cache_size", -STAGE_CACHE_KIB)?;
        }
        for t in STAGE_TABLES {
            c.execute_batch(&format!("DROP TABLE IF EXISTS temp.{t}"))?;
        }
        let pg = if let Some(p) = c.pg() {
            p.batch_raw(pgbulk::STAGE_DDL)?;
            let existing: i64 =
                c.query_row("SELECT count(*) FROM users", params![], |r| r.get(0))?;
            Some(PgStage::new(existing))
        } else {
            None
        };
        if pg.is_none() {
            c.execute_batch(
                "CREATE TEMP TABLE import_users (line INTEGER PRIMARY KEY, span_start INTEGER,
                span_end INTEGER, email TEXT, name TEXT, msa TEXT, roles TEXT);
             CREATE TEMP TABLE import_rejects (line INTEGER PRIMARY KEY, span_start INTEGER,
                span_end INTEGER, message TEXT);
             CREATE TEMP TABLE import_cand_email (email TEXT PRIMARY KEY) WITHOUT ROWID;
             CREATE TEMP TABLE import_cand_msa (msa TEXT PRIMARY KEY) WITHOUT ROWID;
             CREATE TEMP TABLE import_seen_email (email TEXT PRIMARY KEY, line INTEGER)
                WITHOUT ROWID;
             CREATE TEMP TABLE import_seen_msa (msa TEXT PRIMARY KEY, line INTEGER)
                WITHOUT ROWID;
             CREATE TEMP TABLE import_links (msa TEXT, user_id INTEGER);",
            )?;
        }
        Ok(UserStage {
            add: c.prepare_cached(
                "INSERT INTO temp.import_users VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
            reject: c.prepare_cached("INSERT INTO temp.import_rejects VALUES (?1, ?2, ?3, ?4)")?,
            cand_email: c
                .prepare_cached("INSERT OR IGNORE INTO temp.import_cand_email VALUES (?1)")?,
            cand_msa: c.prepare_cached("INSERT OR IGNORE INTO temp.import_cand_msa VALUES (?1)")?,
            seen_email: c
                .prepare_cached("SELECT line FROM temp.import_seen_email WHERE email = ?1")?,
            seen_msa: c.prepare_cached("SELECT line FROM temp.import_seen_msa WHERE msa = ?1")?,
            take_email: c.prepare_cached("INSERT INTO temp.import_seen_email VALUES (?1, ?2)")?,
            take_msa: c.prepare_cached("INSERT INTO temp.import_seen_msa VALUES (?1, ?2)")?,
            link: c.prepare_cached("INSERT INTO temp.import_links VALUES (?1, ?2)")?,
            db: self,
            pg,
        })
    }
}

/// The tables imports fill.
#[derive(Debug, Clone, Copy)]
pub enum BulkTable {
    /// `users`.
    Users,
    /// `achievements`.
    Achievements,
    /// `performance`.
    Performance,
}
