//! The PostgreSQL side of `users import` (see `store/import/users.rs`): on PostgreSQL every
//! statement is a round trip, so the import never sends one per row.
//!
//! - The rows come in chunks, in e-mail order; what a chunk's rows will ask about (active
//!   accounts by e-mail, open MSA associations, user names and e-mails in use) is fetched
//!   with one set-based query each ([`PgUsers::prefetch`]), before any of them is decided.
//! - New accounts are buffered with ids reserved from the table's sequence and written by
//!   one `COPY` per chunk, after the chunk is decided, and the chunk's MSA links (in MSA
//!   order) by another straight into `msa_links`. Both run on another thread
//!   ([`Pg::copy_in_background`]) while the next chunk is decided, that chunk's lookups
//!   having been asked just before: the server inserts one chunk while the client decides
//!   the next, instead of each waiting for the other. Every other call waits for the
//!   `COPY` first, so no statement can ever be sent while one is open.
//! - The lookups that cannot find anything are not sent: open associations when no MSA
//!   had one, user names when the domain had no account (only the names this import may
//!   have added, by a Bloom filter of fixed size, are asked).
//!
//! Invariant: every answer is what the server would give at that point of the import (the
//! buffered accounts included, and those of the previous chunk, whose `COPY` may not have
//! reached the server when this chunk's lookups were asked), so decisions match the SQLite
//! path's row by row, in the same order (e-mail order in byte order).

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

/// Undoes [`begin`]: sequential scans allowed again, then the foreign keys added back when
/// they were suspended (each checked once against the whole table, which wants the scans).
pub fn end(pg: &Pg, keys_suspended: bool) -> Result<()> {
    pg.batch_raw("RESET enable_seqscan")?;
    if keys_suspended {
        restore_keys(pg)?;
    }
    Ok(())
}

/// An account to insert, with its id already drawn from the sequence; its texts (stored
/// user name, name, e-mail, roles) and password hash in the chunk's arenas, so that a
/// buffered account costs no allocation of its own (allocation was a fifth of the client's
/// time, measured with `perf` at 1,000,000 rows).
struct NewUser {
    id: i64,
    text: (usize, [u32; 4]),
    hash: (usize, usize),
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
    /// The e-mails the chunk asked about (only when `ask_active`).
    emails: HashSet<String>,
    active: HashMap<String, ExistingUser>,
    /// The MSAs the chunk asked about (only when `ask_links`).
    msas: HashSet<String>,
    links: HashMap<String, OpenLink>,
    /// The user names the chunk asked about, and those found taken.
    names: HashSet<String>,
    taken_names: HashSet<String>,
    /// The user names the chunk asked about as e-mails (only when `ask_emails`), and those
    /// found in use.
    email_names: HashSet<String>,
    used_emails: HashSet<String>,
    new: Vec<NewUser>,
    new_text: String,
    new_hashes: Vec<u8>,
    /// The chunk's MSA links (MSA, account), written after its accounts.
    new_links: Vec<(String, i64)>,
    new_names: HashSet<String>,
    new_emails: HashSet<String>,
    /// The previous chunk's `new_names` and `new_emails`: its `COPY` may still be running
    /// when this chunk's lookups are asked (see [`PgUsers::write_new`]).
    prev_names: HashSet<String>,
    prev_emails: HashSet<String>,
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
    pub fn queue_link(&mut self, msa: String, user_id: i64) {
        self.new_links.push((msa, user_id));
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

    /// Fetches what the rows of `chunk` (e-mail, MSA, the e-mail's user-name local part)
    /// will ask about, one set-based query per question; a question that cannot find
    /// anything is not asked (see the `ask_` fields).
    pub fn prefetch(&mut self, pg: &Pg, chunk: &[(&str, Option<&str>, &str)]) -> Result<()> {
        self.emails.clear();
        self.active.clear();
        self.msas.clear();
        self.links.clear();
        self.names.clear();
        self.taken_names.clear();
        self.email_names.clear();
        self.used_emails.clear();
        if chunk.is_empty() {
            return Ok(());
        }
        if self.ask_active {
            let emails: Vec<&str> = chunk.iter().map(|r| r.0).collect();
            for r in pg.query_typed(
                "SELECT u.email, u.id, u.username, u.name, u.roles, l.id, l.msa
                 FROM users u
                 LEFT JOIN msa_links l ON l.user_id = u.id AND l.ended_at IS NULL
                 WHERE u.org_id = $1 AND u.email = ANY($2) AND u.status = 'active'
                 ORDER BY u.email, u.id, l.id",
                &[&self.org_id, &emails],
            )? {
                self.found_account(&r);
            }
            self.emails.extend(emails.iter().map(|e| (*e).to_owned()));
        }
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
            self.msas.extend(msas.iter().map(|m| (*m).to_owned()));
        }
        // The rows' default user names. Stored without the domain (migration 10), in the
        // organizations of the domain. When the domain had no account, only a name this
        // import may have added (its Bloom filter says so) is asked; the others are free.
        let made = self.made.as_ref().filter(|_| !self.ask_names);
        let wanted = self.ask_names || self.ask_emails || made.is_some();
        let mut names: Vec<String> = Vec::new();
        let mut stems: Vec<&str> = Vec::new();
        if wanted {
            let mut name = String::new();
            for r in chunk {
                name.clear();
                name.push_str(r.2);
                name.push('@');
                name.push_str(&self.domain);
                let ask_name = self.ask_names || made.is_some_and(|b| b.may_contain(&name));
                if ask_name || self.ask_emails {
                    names.push(name.clone());
                }
                if ask_name {
                    self.names.insert(name.clone());
                }
            }
            stems = self
                .names
                .iter()
                .map(|n| &n[..n.len() - self.domain.len()])
                .collect();
        }
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
            self.email_names.extend(names);
        }
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

    /// The active account of the organization with this e-mail, if known without asking
    /// the server: when the organization had none at the start, none (the rows' e-mails
    /// are distinct, so none can meet an account this import added).
    pub fn active_by_email(&self, email: &str) -> Option<Option<ExistingUser>> {
        if !self.ask_active {
            return Some(None);
        }
        self.emails
            .contains(email)
            .then(|| self.active.get(email).cloned())
    }

    /// The open association of an MSA, if known without asking the server: when no MSA
    /// had one at the start, none (the rows' MSAs are distinct).
    pub fn open_link(&self, msa: &str) -> Option<Option<OpenLink>> {
        if !self.ask_links {
            return Some(None);
        }
        self.msas
            .contains(msa)
            .then(|| self.links.get(msa).cloned())
    }

    /// Whether an e-mail is in use, if known without asking the server (asked only when
    /// `ask_emails`).
    pub fn email_in_use(&self, email: &str) -> Option<bool> {
        if self.new_emails.contains(email) || self.prev_emails.contains(email) {
            return Some(true);
        }
        self.email_names
            .contains(email)
            .then(|| self.used_emails.contains(email))
    }

    /// Whether a user name is taken, if known without asking the server: yes when this
    /// chunk or the previous one made it; what the chunk's lookup found if it asked; no when the domain had no
    /// account at the start and this import cannot have made it (its Bloom filter says so);
    /// else unknown.
    pub fn username_taken(&self, username: &str) -> Option<bool> {
        if self.new_names.contains(username) || self.prev_names.contains(username) {
            return Some(true);
        }
        if self.names.contains(username) {
            return Some(self.taken_names.contains(username));
        }
        (!self.ask_names && !self.made.as_ref().is_some_and(|b| b.may_contain(username)))
            .then_some(false)
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
    pub fn add(&mut self, pg: &Pg, u: &BulkUser, stem: &str) -> Result<i64> {
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
        if self.ask_emails {
            self.new_emails.insert(u.email.to_owned());
        }
        let at = self.new_text.len();
        let mut ends = [0u32; 4];
        for (i, f) in [stem, u.name, u.email, u.roles].iter().enumerate() {
            self.new_text.push_str(f);
            ends[i] = u32::try_from(self.new_text.len() - at).unwrap_or(u32::MAX);
        }
        let h = self.new_hashes.len();
        self.new_hashes.extend_from_slice(u.password_hash);
        self.new.push(NewUser {
            id,
            text: (at, ends),
            hash: (h, self.new_hashes.len()),
            expires_at: u.expires_at.timestamp(),
        });
        Ok(id)
    }

    /// Writes the buffered accounts by one COPY into `users` (in id order, which is e-mail
    /// order), on another thread ([`Pg::copy_in_background`]): the caller goes on deciding
    /// the next chunk, whose lookups were asked before (so they cannot see these accounts:
    /// the names and e-mails of this chunk are remembered until the next one ends).
    /// `end_of_chunk`: the chunk's links too, by another COPY after the accounts'.
    pub fn write_new(&mut self, pg: &Pg, end_of_chunk: bool) -> Result<()> {
        let rows = std::mem::take(&mut self.new);
        let text = std::mem::take(&mut self.new_text);
        let hashes = std::mem::take(&mut self.new_hashes);
        let mut links = if end_of_chunk {
            std::mem::take(&mut self.new_links)
        } else {
            Vec::new()
        };
        if end_of_chunk {
            // What this chunk made stays known until the next chunk ends: that chunk's
            // lookups were asked before these accounts reached the server.
            std::mem::swap(&mut self.prev_names, &mut self.new_names);
            std::mem::swap(&mut self.prev_emails, &mut self.new_emails);
            self.new_names.clear();
            self.new_emails.clear();
        }
        if rows.is_empty() && links.is_empty() {
            return Ok(());
        }
        let (org_id, at) = (self.org_id, self.at);
        pg.copy_in_background(move |c| {
            if !rows.is_empty() {
                c.copy_in(COPY_USERS, USER_TYPES, |w| {
                    for u in &rows {
                        let (start, [a, b, c, d]) = u.text;
                        let t = &text[start..start + d as usize];
                        let (a, b, c) = (a as usize, b as usize, c as usize);
                        let (stem, name, email, roles) = (&t[..a], &t[a..b], &t[b..c], &t[c..]);
                        let hash = &hashes[u.hash.0..u.hash.1];
                        w.write(&[
                            &u.id,
                            &org_id,
                            &stem,
                            &name,
                            &email,
                            &roles,
                            &"active",
                            &at,
                            &hash,
                            &1i64,
                            &u.expires_at,
                            &0i64,
                        ])?;
                    }
                    Ok(())
                })?;
            }
            if !links.is_empty() {
                // Straight into `msa_links`: the MSAs the later chunks ask about are
                // distinct from these (a repeated MSA was rejected before), so they see no
                // difference; a TEMP table and an `INSERT … SELECT` at the end cost twice
                // as much (200,000 rows: 0.95 s against 0.3 s of server time, measured).
                // In MSA order: two of the three indexes of `msa_links` are by MSA.
                links.sort_unstable();
                c.copy_in(
                    COPY_LINKS,
                    &[Type::TEXT, Type::INT8, Type::INT8, Type::INT8],
                    |w| {
                        for (m, id) in &links {
                            w.write(&[m, id, &org_id, &at])?;
                        }
                        Ok(())
                    },
                )?;
            }
            Ok(())
        })
    }
}

/// The COPY that writes a chunk's links straight into `msa_links`.
const COPY_LINKS: &str =
    "COPY msa_links (msa, user_id, org_id, started_at) FROM STDIN (FORMAT binary)";

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
