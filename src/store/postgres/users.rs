//! The PostgreSQL side of `users import` (see `store/import/users.rs`): on PostgreSQL every
//! statement is a round trip, so the import never sends one per row.
//!
//! - The rows come in chunks, in e-mail order; what a chunk's rows will ask about (active
//!   accounts by e-mail, open MSA associations, user names and e-mails in use) is fetched
//!   with one set-based query each ([`PgUsers::prefetch`]), before any of them is decided.
//! - New accounts are buffered with ids reserved from the table's sequence and written by
//!   one `COPY` per chunk, after the chunk is decided, and the chunk's MSA links (in MSA
//!   order) by another straight into `msa_links`: every `COPY` is opened and closed inside
//!   one call, so no statement can ever be sent while one is open.
//! - The lookups that cannot find anything are not sent: open associations when no MSA
//!   had one, user names when the domain had no account (only the names this import may
//!   have added, by a Bloom filter of fixed size, are asked).
//!
//! Invariant: every answer is what the server would give at that point of the import (the
//! buffered accounts included), so decisions match the SQLite path's row by row, in the
//! same order (e-mail order in byte order).

use std::collections::{HashMap, HashSet};

use postgres::types::Type;

use crate::store::import::{BulkUser, ExistingUser, OpenLink};
use crate::store::sql::{Pg, Result};

pub use super::users_keys::{restore_keys, suspend_keys};

/// While the chunks are decided, their lookups must go through the indexes: a table that
/// was empty when the import began has no statistics, so the planner takes `email =
/// ANY(thousands of values)` for most of the table and scans all of it, once per chunk —
/// quadratic in the file (1,000,000 rows into an empty table: 25.8 s against 4.3 s for
/// 200,000, measured). Sequential scans are therefore off until [`end`] (`SET LOCAL`, then
/// `RESET`). Also suspends the foreign keys of a large import ([`suspend_keys`]); whether
/// it did.
pub fn begin(pg: &Pg, rows: i64, accounts: i64) -> Result<bool> {
    pg.batch_raw("SET LOCAL enable_seqscan = off")?;
    suspend_keys(pg, rows, accounts)
}

/// Undoes [`begin`]: the foreign keys added back (each checked once against the whole
/// table) when they were suspended, sequential scans allowed again.
pub fn end(pg: &Pg, keys_suspended: bool) -> Result<()> {
    if keys_suspended {
        restore_keys(pg)?;
    }
    pg.batch_raw("RESET enable_seqscan")
}

/// An account to insert, with its id already drawn from the sequence.
struct NewUser {
    id: i64,
    stem: String,
    name: String,
    email: String,
    roles: String,
    hash: Vec<u8>,
    expires_at: i64,
}

/// What the rows of the current chunk will ask about, fetched for all of them at once, and
/// the accounts they added, not yet written.
#[derive(Default)]
pub struct PgUsers {
    /// The organization imported into.
    org_id: i64,
    /// The organization's domain (user names are `<local>@<domain>`).
    domain: String,
    /// The import's time (created_at of new accounts).
    at: i64,
    /// Whether the organization had an active account when the import began: if not, no
    /// row can meet one (the staged e-mails are distinct), and the chunks do not ask.
    ask_active: bool,
    /// Whether a user name can be some account's e-mail at all (see
    /// `UserStage::statements`): if not, the chunks do not ask.
    ask_emails: bool,
    /// Whether any MSA had an open association when the import began: if not, only this
    /// import's own links could be open, and their MSAs are distinct from the chunks'
    /// (a repeated MSA was rejected before), so the chunks do not ask.
    ask_links: bool,
    /// Whether the organizations of the domain had an account when the import began: if
    /// not, a user name can only be taken by this import's own accounts, which `made`
    /// remembers (in flat memory), and only the names it may hold are asked about.
    ask_names: bool,
    /// The user names this import added, across chunks (when `!ask_names`).
    made: Option<crate::support::bloom::Bloom>,
    emails: HashSet<String>,
    active: HashMap<String, ExistingUser>,
    msas: HashSet<String>,
    links: HashMap<String, OpenLink>,
    names: HashSet<String>,
    taken_names: HashSet<String>,
    used_emails: HashSet<String>,
    new: Vec<NewUser>,
    /// The chunk's MSA links (MSA, account), written after its accounts.
    new_links: Vec<(String, i64)>,
    new_names: HashSet<String>,
    new_emails: HashSet<String>,
    /// Ids drawn from the sequence and not used yet (last first).
    ids: Vec<i64>,
}

/// Reserves `n` ids of `users` in one round trip: the last one. Safe because every writer
/// holds the database's write lock (`pg::begin`), so nothing draws from the sequence
/// between the two calls; an id of a rolled back import is a harmless gap.
fn reserve(pg: &Pg, n: i64) -> Result<i64> {
    Ok(pg.query_typed(
        "SELECT setval(pg_get_serial_sequence('users', 'id'),
                nextval(pg_get_serial_sequence('users', 'id')) + $1 - 1)",
        &[&n],
    )?[0]
        .get(0))
}

impl PgUsers {
    /// What an import into `org_id` (of `domain`) at `at` asks: whether there were active
    /// accounts in the organization, whether a user name may be an e-mail, whether any MSA
    /// had an open association, whether the domain had accounts (see the fields).
    pub fn new(org_id: i64, domain: &str, at: i64, ask: [bool; 4]) -> PgUsers {
        let [ask_active, ask_emails, ask_links, ask_names] = ask;
        PgUsers {
            org_id,
            domain: domain.to_owned(),
            at,
            ask_active,
            ask_emails,
            ask_links,
            ask_names,
            ..PgUsers::default()
        }
    }

    /// Buffers a link for the chunk's `COPY` into `msa_links` (see [`PgUsers::write_new`]).
    pub fn queue_link(&mut self, msa: &str, user_id: i64) {
        self.new_links.push((msa.to_owned(), user_id));
    }

    /// Notes an active account of the organization: a row of (e-mail, id, stored user
    /// name, name, roles, open link id, its MSA); the first row of an e-mail wins.
    fn found_account(&mut self, r: &postgres::Row) {
        let link_id: Option<i64> = r.get(5);
        let stem: &str = r.get(2);
        let domain = &self.domain;
        self.active.entry(r.get(0)).or_insert_with(|| ExistingUser {
            id: r.get(1),
            // An account of the organization: its name takes the organization's domain.
            username: [stem, domain].concat(),
            name: r.get(3),
            roles: r.get(4),
            link: link_id.map(|id| (id, r.get(6))),
        });
    }

    /// Notes an open association: a row of (MSA, link id, account, its user name, the
    /// link's organization id and name); the first row of an MSA wins.
    fn found_link(&mut self, r: &postgres::Row) {
        self.links.entry(r.get(0)).or_insert_with(|| OpenLink {
            id: r.get(1),
            user_id: r.get(2),
            username: r.get(3),
            org_id: r.get(4),
            org_name: r.get(5),
        });
    }

    /// Fetches what the rows of `chunk` (e-mail, MSA) will ask about, one set-based query
    /// per question.
    pub fn prefetch(&mut self, pg: &Pg, chunk: &[(&str, Option<&str>)]) -> Result<()> {
        self.emails.clear();
        self.active.clear();
        self.msas.clear();
        self.links.clear();
        self.names.clear();
        self.taken_names.clear();
        self.used_emails.clear();
        if chunk.is_empty() {
            return Ok(());
        }
        let emails: Vec<&str> = chunk.iter().map(|r| r.0).collect();
        let accounts = if self.ask_active {
            pg.query_typed(
                "SELECT u.email, u.id, u.username, u.name, u.roles, l.id, l.msa
             FROM users u
             LEFT JOIN msa_links l ON l.user_id = u.id AND l.ended_at IS NULL
             WHERE u.org_id = $1 AND u.email = ANY($2) AND u.status = 'active'
             ORDER BY u.email, u.id, l.id",
                &[&self.org_id, &emails],
            )?
        } else {
            Vec::new()
        };
        for r in accounts {
            self.found_account(&r);
        }
        self.emails.extend(chunk.iter().map(|r| r.0.to_owned()));
        let msas: Vec<&str> = chunk.iter().filter_map(|r| r.1).collect();
        if self.ask_links && !msas.is_empty() {
            for r in pg.query_typed(
                "SELECT l.msa, l.id, l.user_id, u.username || uo.domain, l.org_id, o.name
                 FROM msa_links l JOIN users u ON u.id = l.user_id
                 JOIN orgs uo ON uo.id = u.org_id JOIN orgs o ON o.id = l.org_id
                 WHERE l.msa = ANY($1) AND l.ended_at IS NULL ORDER BY l.msa, l.id",
                &[&msas],
            )? {
                self.found_link(&r);
            }
        }
        self.msas.extend(msas.iter().map(|m| (*m).to_owned()));
        let names: Vec<String> = chunk
            .iter()
            .map(|r| {
                [
                    crate::support::fields::username_local(r.0).as_str(),
                    "@",
                    &self.domain,
                ]
                .concat()
            })
            .collect();
        // Stored without the domain (migration 10), in the organizations of the domain.
        // When the domain had no account, only a name this import may have added is asked.
        let made = self.made.as_ref().filter(|_| !self.ask_names);
        let stems: Vec<&str> = names
            .iter()
            .filter(|n| made.is_none_or(|b| b.may_contain(n)))
            .map(|n| &n[..n.len() - self.domain.len()])
            .collect();
        if !stems.is_empty() {
            for r in pg.query_typed(
                "SELECT u.username || o.domain FROM orgs o
                 JOIN users u ON u.org_id = o.id AND u.username = ANY($1) WHERE o.domain = $2",
                &[&stems, &self.domain],
            )? {
                self.taken_names.insert(r.get(0));
            }
        }
        if self.ask_emails {
            for r in pg.query_typed("SELECT email FROM users WHERE email = ANY($1)", &[&names])? {
                self.used_emails.insert(r.get(0));
            }
        }
        self.names.extend(names);
        self.reserve_ids(pg, chunk.len())
    }

    /// Makes sure `rows` ids are reserved for new accounts.
    fn reserve_ids(&mut self, pg: &Pg, rows: usize) -> Result<()> {
        let want = rows.saturating_sub(self.ids.len()) as i64;
        if want > 0 {
            let last = reserve(pg, want)?;
            let mut ids: Vec<i64> = (last - want + 1..=last).rev().collect();
            ids.append(&mut self.ids);
            self.ids = ids;
            self.ids.sort_unstable_by(|a, b| b.cmp(a));
        }
        Ok(())
    }

    /// The active account of the organization with this e-mail, if the chunk asked.
    pub fn active_by_email(&self, email: &str) -> Option<Option<ExistingUser>> {
        self.emails
            .contains(email)
            .then(|| self.active.get(email).cloned())
    }

    /// The open association of an MSA, if the chunk asked.
    pub fn open_link(&self, msa: &str) -> Option<Option<OpenLink>> {
        self.msas
            .contains(msa)
            .then(|| self.links.get(msa).cloned())
    }

    /// Whether an e-mail is in use, if known without asking the server.
    pub fn email_in_use(&self, email: &str) -> Option<bool> {
        self.known(&self.new_emails, &self.used_emails, email)
    }

    /// Whether a user name is taken, if known without asking the server.
    pub fn username_taken(&self, username: &str) -> Option<bool> {
        self.known(&self.new_names, &self.taken_names, username)
    }

    /// Whether `text` is in use: yes when this chunk made it (`made`); else what the
    /// chunk's lookup found (`found`) if the chunk asked about it; else unknown.
    fn known(&self, made: &HashSet<String>, found: &HashSet<String>, text: &str) -> Option<bool> {
        if made.contains(text) {
            return Some(true);
        }
        self.names.contains(text).then(|| found.contains(text))
    }

    /// An association ended: forget it.
    pub fn link_ended(&mut self, link_id: i64) {
        self.links.retain(|_, l| l.id != link_id);
        for ex in self.active.values_mut() {
            if ex.link.as_ref().is_some_and(|(id, _)| *id == link_id) {
                ex.link = None;
            }
        }
    }

    /// Buffers a new account (stored user name `stem`); its id.
    pub fn add(&mut self, pg: &Pg, u: &BulkUser, stem: String) -> Result<i64> {
        let id = match self.ids.pop() {
            Some(id) => id,
            None => reserve(pg, 1)?,
        };
        if !self.ask_names {
            self.made
                .get_or_insert_with(crate::support::bloom::Bloom::new)
                .insert(u.username);
        }
        self.new_names.insert(u.username.to_owned());
        self.new_emails.insert(u.email.to_owned());
        self.new.push(NewUser {
            id,
            stem,
            name: u.name.to_owned(),
            email: u.email.to_owned(),
            roles: u.roles.to_owned(),
            hash: u.password_hash.to_vec(),
            expires_at: u.expires_at.timestamp(),
        });
        Ok(id)
    }

    /// Writes the buffered accounts by one COPY into `users` (in id order, which is e-mail
    /// order). `end_of_chunk`: the chunk's own memory of what it added is dropped too (the
    /// server knows it now).
    pub fn write_new(&mut self, pg: &Pg, end_of_chunk: bool) -> Result<()> {
        if !self.new.is_empty() {
            let (org_id, at) = (self.org_id, self.at);
            let rows = std::mem::take(&mut self.new);
            pg.copy_in(COPY_USERS, USER_TYPES, |w| {
                for u in &rows {
                    w.write(&[
                        &u.id,
                        &org_id,
                        &u.stem,
                        &u.name,
                        &u.email,
                        &u.roles,
                        &"active",
                        &at,
                        &u.hash,
                        &1i64,
                        &u.expires_at,
                        &0i64,
                    ])?;
                }
                Ok(())
            })?;
        }
        if end_of_chunk && !self.new_links.is_empty() {
            // Straight into `msa_links`: the MSAs the later chunks ask about are distinct
            // from these (a repeated MSA was rejected before), so they see no difference;
            // a TEMP table and an `INSERT … SELECT` at the end cost twice as much
            // (200,000 rows: 0.95 s against 0.3 s of server time, measured).
            let (org_id, at) = (self.org_id, self.at);
            let mut rows = std::mem::take(&mut self.new_links);
            // In MSA order: two of the three indexes of `msa_links` are by MSA.
            rows.sort_unstable();
            pg.copy_in(
                "COPY msa_links (msa, user_id, org_id, started_at) FROM STDIN (FORMAT binary)",
                &[Type::TEXT, Type::INT8, Type::INT8, Type::INT8],
                |w| {
                    for (m, id) in &rows {
                        w.write(&[m, id, &org_id, &at])?;
                    }
                    Ok(())
                },
            )?;
        }
        if end_of_chunk {
            self.new_names.clear();
            self.new_emails.clear();
        }
        Ok(())
    }
}

/// The COPY that writes new accounts straight into `users`, and its column types.
const COPY_USERS: &str = "COPY users (id, org_id, username, name, email, roles, status,
    created_at, password_hash, password_temporary, password_expires_at, self_service_reset)
    FROM STDIN (FORMAT binary)";

/// See [`COPY_USERS`].
const USER_TYPES: &[Type] = &[
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::BYTEA,
    Type::INT8,
    Type::INT8,
    Type::INT8,
];

/// Tests: runs `statements` on the server of `url` (a test database's creation).
#[cfg(test)]
pub fn run_as_admin(url: &str, statements: &[&str]) {
    let mut admin = postgres::Client::connect(url, postgres::NoTls).unwrap();
    for s in statements {
        admin.batch_execute(s).unwrap();
    }
}
