//! The statements of a users import (see the parent module): the questions a row asks
//! (answered, on PostgreSQL, from what its chunk fetched set-based) and the writes it makes.

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::{BulkUser, ExistingUser, OpenLink};
use crate::store::Db;
use crate::store::sql::{OptionalExtension, Stmt, UserImport, UserWrites, params};

/// The active account of an organization with an e-mail, and its open link.
pub(super) const FIND_EMAIL: &str =
    "SELECT u.id, u.username || uo.domain, u.name, u.roles, l.id, l.msa
     FROM users u JOIN orgs uo ON uo.id = u.org_id
     LEFT JOIN msa_links l ON l.user_id = u.id AND l.ended_at IS NULL
     WHERE u.org_id = ?1 AND u.email = ?2 AND u.status = 'active'";

/// The open association of an MSA, with its account and organization.
pub(super) const FIND_LINK: &str =
    "SELECT l.id, l.user_id, u.username || uo.domain, l.org_id, o.name
     FROM msa_links l
     JOIN users u ON u.id = l.user_id JOIN orgs uo ON uo.id = u.org_id
     JOIN orgs o ON o.id = l.org_id
     WHERE l.msa = ?1 AND l.ended_at IS NULL";

/// A taken user name inserts nothing (and, on PostgreSQL, does not abort the transaction as
/// a failed statement would).
pub(super) const INSERT_USER: &str =
    "INSERT INTO users (org_id, username, name, email, roles, status,
        created_at, password_hash, password_temporary, password_expires_at, self_service_reset)
     VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7, 1, ?8, 0)
     ON CONFLICT (org_id, username) DO NOTHING";

pub(super) const END_LINK: &str =
    "UPDATE msa_links SET ended_at = ?2, end_reason = ?3 WHERE id = ?1";

/// The statements of a users import.
pub struct UserStatements<'a> {
    find_email: Stmt<'a>,
    find_link: Stmt<'a>,
    insert_user: Stmt<'a>,
    end_link: Stmt<'a>,
    db: &'a Db<'a>,
    /// What the backend keeps between rows: on PostgreSQL what the current chunk of rows
    /// asked about, fetched set-based, and the accounts and links it added, buffered for
    /// its `COPY`; on SQLite the links, written in MSA order by [`Self::finish`].
    writes: UserWrites,
    /// The user-name domain of the organization imported into (its id, the domain, and
    /// whether another organization shares the domain), asked once.
    space: Option<(i64, String, bool)>,
    /// Whether a generated user name can be some account's e-mail at all (see
    /// [`Db::user_statements`]); if not, [`UserStatements::email_in_use`] asks nothing.
    names_may_be_emails: bool,
    org_id: i64,
    at: DateTime<Utc>,
}

/// How many rows a chunk holds: what PostgreSQL fetches ahead for at once (each question
/// one `= ANY(array)` of this many keys; each chunk's writes one `COPY`). 16,384 rather
/// than 4,096: a 1,000,000-row import into PostgreSQL took 11.8 and 12.9 s against 12.4 and
/// 15.7 s, runs alternating on one server (fewer round trips and `COPY` start-ups).
pub const CHUNK_ROWS: usize = 16_384;

impl<'a> Db<'a> {
    /// The statements of a users import of `rows` rows into `org_id` (of `domain`) at
    /// `at`, with the backend tuned for it. `emails_in_domain`: whether a row's e-mail may
    /// end with `@<domain>` (so may equal a user name this import generates).
    pub fn user_statements(
        &'a self,
        org_id: i64,
        domain: &str,
        at: DateTime<Utc>,
        rows: u64,
        emails_in_domain: bool,
    ) -> Result<UserStatements<'a>> {
        let c = self.conn();
        // A user name is `<local>@<domain>`: only an e-mail ending in `@<domain>` can equal
        // one, and the import adds no e-mail it was not given. When neither the accounts
        // nor the rows have such an e-mail, no user name needs the per-row question (a
        // million index probes: 5 % of a users import, measured). Asked set-based, once,
        // when the scan of the accounts costs at most four times the import's own rows;
        // LIKE may match more than the suffix (`_`, case), never less.
        let accounts = self.max_user_id()?;
        let names_may_be_emails = emails_in_domain
            || (rows as i64).saturating_mul(4) < accounts
            || c.query_row(
                "SELECT EXISTS (SELECT 1 FROM users WHERE email LIKE '%@' || ?1)",
                params![domain],
                |r| r.get(0),
            )?;
        let domain_has_accounts = c.query_row(
            "SELECT EXISTS (SELECT 1 FROM users u JOIN orgs o ON o.id = u.org_id
                             WHERE o.domain = ?1)",
            params![domain],
            |r| r.get(0),
        )?;
        let writes = c.begin_user_writes(&UserImport {
            org_id,
            domain,
            at,
            rows: rows as i64,
            accounts,
            ask: [
                self.has_active_users(org_id)?,
                names_may_be_emails,
                self.has_open_links()?,
                domain_has_accounts,
            ],
        })?;
        Ok(UserStatements {
            find_email: c.prepare_cached(FIND_EMAIL)?,
            find_link: c.prepare_cached(FIND_LINK)?,
            insert_user: c.prepare_cached(INSERT_USER)?,
            end_link: c.prepare_cached(END_LINK)?,
            db: self,
            writes,
            space: None,
            names_may_be_emails,
            org_id,
            at,
        })
    }

    /// An upper bound of the accounts in the database (the largest id: no scan).
    fn max_user_id(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT coalesce(max(id), 0) FROM users", params![], |r| {
                r.get(0)
            })?)
    }
}

impl<'a> UserStatements<'a> {
    /// Announces the next chunk of rows (at most [`CHUNK_ROWS`], in e-mail order), each
    /// (e-mail, MSA, the e-mail's user-name local part), before any of them is decided:
    /// PostgreSQL fetches what they will ask about, one set-based query per question;
    /// SQLite asks as they come. The next chunk may be announced before the current one
    /// is closed ([`Self::end_chunk`]): PostgreSQL then writes the current chunk while the
    /// next is decided.
    pub fn ask_ahead(&mut self, rows: &[(&str, Option<&str>, &str)]) -> Result<()> {
        self.writes.ask_ahead(self.db.conn(), rows)
    }

    /// Queues the link of an MSA to an account, written in MSA order: at the end of the
    /// chunk on PostgreSQL, at [`Self::finish`] on SQLite.
    pub fn queue_link(&mut self, msa: String, user_id: i64) {
        self.writes.queue_link(msa, user_id);
    }

    /// Closes a chunk: PostgreSQL writes its accounts and links, one `COPY` each, on
    /// another thread; the next call to the server waits for them.
    pub fn end_chunk(&mut self) -> Result<()> {
        self.writes.write_buffered(self.db.conn(), true)
    }

    /// Writes what is still queued and puts the backend's tuning back.
    pub fn finish(self) -> Result<()> {
        self.writes.finish(self.db.conn(), self.org_id, self.at)
    }

    /// The active account of the organization with this e-mail.
    pub fn active_by_email(&mut self, org_id: i64, email: &str) -> Result<Option<ExistingUser>> {
        if let Some(found) = self.writes.active_by_email(email) {
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
        if let Some(found) = self.writes.open_link(msa) {
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

    /// Whether some account (any organization, any status) has this e-mail: asked only of
    /// user names of the organization imported into (see `names_may_be_emails`).
    pub fn email_in_use(&self, email: &str) -> Result<bool> {
        if !self.names_may_be_emails {
            return Ok(false);
        }
        if let Some(known) = self.writes.email_in_use(email) {
            return Ok(known);
        }
        // The accounts buffered for the chunk's COPY answered above (`Some(true)`).
        self.db.email_in_use(email)
    }

    /// PostgreSQL: writes the accounts buffered so far, so that a question the chunk's
    /// prefetch cannot answer sees them.
    fn flush_pg(&mut self) -> Result<()> {
        self.writes.write_buffered(self.db.conn(), false)
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
        match crate::store::users::username_stem(username, domain) {
            Some(stem) => Ok((stem, *shared)),
            None => anyhow::bail!(
                "internal error: user name {username:?} is not in its organization's domain {domain:?}"
            ),
        }
    }

    /// Inserts an account; `Ok(None)` when the user name is taken.
    pub fn insert_user(&mut self, u: &BulkUser, at: DateTime<Utc>) -> Result<Option<i64>> {
        let (stem, shared) = self.stored_username(u.org_id, u.username)?;
        // PostgreSQL: buffered for the chunk's COPY, its id drawn from the sequence; a
        // user name taken in the database or by a buffered account inserts nothing, as
        // `ON CONFLICT DO NOTHING` does.
        if let Some(id) = self.writes.buffer_user(self.db.conn(), self.db, u, stem)? {
            return Ok(id);
        }
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
            u.password_hash,
            u.expires_at.timestamp()
        ])?;
        if n == 0 {
            return Ok(None);
        }
        Ok(Some(self.db.conn().last_insert_rowid()?))
    }

    /// Ends an association.
    pub fn end_link(&mut self, link_id: i64, at: DateTime<Utc>, reason: &str) -> Result<()> {
        self.writes.link_ended(link_id);
        self.end_link
            .execute(params![link_id, at.timestamp(), reason])?;
        Ok(())
    }

    /// The largest number `n` such that `<local><n>@<domain>` is a user name already
    /// (0 when none): where numbering resumes after a collision.
    pub fn max_username_suffix(&mut self, local: &str, domain: &str) -> Result<u64> {
        // The LIKE or GLOB below must see the accounts buffered so far.
        self.flush_pg()?;
        // `local` holds only letters, digits, `.`, `_` and `-` (validate::username_local).
        // Names are stored without their domain (`<local><n>@`), in the organizations of
        // the domain.
        let (mut st, pattern) = self.db.conn().numbered_names(local)?;
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
