//! The lookups of a users import on PostgreSQL (issue 14): what the rows of a chunk ask
//! about (active accounts by e-mail, open MSA associations, user names and e-mails in use),
//! fetched set-based chunk by chunk or, in bulk mode, loaded once for the whole file; the
//! accounts the import adds, buffered with ids reserved from the sequence and written by
//! COPY; and bulk mode's dropping and rebuilding of the indexes and foreign keys.
//!
//! Invariant: every answer is what the server would give at that point of the import (the
//! buffered accounts included), so decisions match the SQLite path's row by row. Longer than
//! ~400 lines: the chunked and the bulk answers to each question sit side by side.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Bound;

use postgres::types::Type;

use super::import::{ExistingUser, OpenLink, StagedUser};
use super::sql::{Pg, Result};

/// An account to insert, with its id already drawn from the sequence.
struct NewUser {
    id: i64,
    username: String,
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
    /// The organization and its domain (user names are `<local>@<domain>`).
    pub org_id: i64,
    /// The organization's domain.
    pub domain: String,
    /// The import's time (created_at of new accounts).
    pub at: i64,
    emails: HashSet<String>,
    active: HashMap<String, ExistingUser>,
    msas: HashSet<String>,
    links: HashMap<String, OpenLink>,
    names: HashSet<String>,
    taken_names: HashSet<String>,
    used_emails: HashSet<String>,
    new: Vec<NewUser>,
    new_names: HashSet<String>,
    new_emails: HashSet<String>,
    /// Ids drawn from the sequence and not used yet (last first).
    ids: Vec<i64>,
    /// Bulk mode (see [`PgUsers::plan`]): everything the rows ask is in memory.
    bulk: Option<Bulk>,
    /// See [`PgUsers::defers`].
    deferring: bool,
    /// Associations to end after the COPY: (link id, reason).
    ended: Vec<(i64, String)>,
}

/// What bulk mode loads: what the staged rows (in the TEMP table) name, or everything.
enum Load {
    Staged,
    Everything,
}

/// What a users import in bulk mode knows without asking the server: loaded once before
/// the rows are written (the existing rows it loads are at most four times the staged
/// ones), then kept up to date with the accounts the import adds.
#[derive(Default)]
struct Bulk {
    /// The stored user names (`<local>@`) of every organization of the domain, and of
    /// the accounts this import added.
    stems: BTreeSet<String>,
    /// The e-mails of the database, and of the accounts this import added, that have the
    /// shape of a user name of the domain (`…@<domain>`): a user name never equals
    /// another account's e-mail, and no other e-mail can.
    emails: HashSet<String>,
    /// Whether the secondary indexes and foreign keys of `users` and `msa_links` are
    /// dropped (they are rebuilt by [`PgUsers::restore`] before the import ends).
    suspended: bool,
}

/// Bulk mode is chosen when the staged rows are at least a quarter of the accounts
/// already in the database (the achievements import's rule for its evaluation index): the
/// accounts then go by COPY straight into `users`, with its unique indexes and the foreign
/// keys of both tables dropped and rebuilt at the end, in the same transaction — building
/// an index once, sorted, costs a fraction of keeping it up to date row by row in random
/// e-mail and MSA order, and checking a foreign key once for the whole table a fraction of
/// checking it per row (measured at 200,000 rows: 2.3 s against 8.9 s for the two
/// tables). The rebuilt unique indexes check again everything the import decided.
/// PostgreSQL's own advice for large loads ("Populating a Database").
pub const BULK_RATIO: i64 = 4;

/// The indexes and foreign keys bulk mode drops, read from the catalogue (so what is
/// rebuilt is exactly what was there, whatever migration made it) into a TEMP table, then
/// dropped. Names are quoted by `format(%I)` / `regclass`, inside the server. The primary
/// keys stay: new ids are drawn in order, and other tables' foreign keys use them.
const SUSPEND: &str = "CREATE TEMP TABLE import_suspended AS
  SELECT 0 AS step, c.conrelid::regclass::text AS tbl, c.conname::text AS name,
         pg_get_constraintdef(c.oid) AS def
    FROM pg_constraint c
   WHERE c.conrelid IN ('users'::regclass, 'msa_links'::regclass) AND c.contype = 'f'
  UNION ALL
  SELECT 1, i.indrelid::regclass::text, i.indexrelid::regclass::text,
         pg_get_indexdef(i.indexrelid)
    FROM pg_index i
   WHERE i.indrelid IN ('users'::regclass, 'msa_links'::regclass) AND NOT i.indisprimary
     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT * FROM import_suspended ORDER BY step, tbl, name LOOP
    IF r.step = 0 THEN
      EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.name);
    ELSE
      EXECUTE format('DROP INDEX %s', r.name);
    END IF;
  END LOOP;
END $$";

/// Rebuilds what [`SUSPEND`] dropped: the indexes (sorted builds, with more sort memory
/// than the default for this transaction), then the foreign keys (one check each).
const RESTORE: &str = "SET LOCAL maintenance_work_mem = '256MB';
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT * FROM import_suspended ORDER BY step DESC, tbl, name LOOP
    IF r.step = 0 THEN
      EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', r.tbl, r.name, r.def);
    ELSE
      EXECUTE r.def;
    END IF;
  END LOOP;
END $$;
DROP TABLE import_suspended";

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

/// The stored form (`<local>@`) of a user name of the domain, if it is one.
fn stem_of<'n>(username: &'n str, domain: &str) -> Option<&'n str> {
    username
        .strip_suffix(domain)
        .filter(|s| s.ends_with('@') && s.len() > 1)
}

/// Whether an e-mail could equal a user name of the domain.
fn is_name_shaped(email: &str, domain: &str) -> bool {
    stem_of(email, domain).is_some()
}

impl PgUsers {
    /// Before the staged rows are read back: chooses bulk mode (see [`BULK_RATIO`]) and, in
    /// it, loads everything the rows will ask about, with one query each joined to the
    /// staged rows.
    pub fn plan(&mut self, pg: &Pg) -> Result<()> {
        let counts = pg.query_typed(
            "SELECT (SELECT count(*) FROM import_users), (SELECT count(*) FROM users)",
            &[],
        )?;
        let (staged, existing): (i64, i64) = (counts[0].get(0), counts[0].get(1));
        if staged == 0 || staged.saturating_mul(BULK_RATIO) < existing {
            return Ok(());
        }
        self.load(pg, Load::Staged)?;
        self.reserve_ids(pg, staged as usize)
    }

    /// Memory mode (`pgmem`), before its `rows` (sorted by e-mail) are written: bulk mode,
    /// with everything the rows may ask about loaded (no staged rows to join: every active
    /// account of the organization and every open link, at most four times the rows).
    /// Drops the indexes and foreign keys when the new accounts are many against the table.
    pub fn plan_in_memory(&mut self, pg: &Pg, rows: &[StagedUser], existing: i64) -> Result<()> {
        self.load(pg, Load::Everything)?;
        let new = rows
            .iter()
            .filter(|r| !self.active.contains_key(&r.email))
            .count();
        self.reserve_ids(pg, new)?;
        if new > 0 && (new as i64).saturating_mul(BULK_RATIO) >= existing {
            self.suspend(pg)?;
        }
        Ok(())
    }

    /// Bulk mode: loads the accounts and open links the rows may meet, the user names of
    /// the domain and the e-mails shaped like them.
    fn load(&mut self, pg: &Pg, what: Load) -> Result<()> {
        let mut b = Bulk::default();
        let domain = self.domain.clone();
        let (accounts, links) = match what {
            // The accounts of the organization (so of its domain) that staged e-mails name.
            Load::Staged => (
                "SELECT u.email, u.id, u.username, u.name, u.roles, l.id, l.msa
                 FROM users u JOIN import_users s ON s.email = u.email
                 LEFT JOIN msa_links l ON l.user_id = u.id AND l.ended_at IS NULL
                 WHERE u.org_id = $1 AND u.status = 'active'
                 ORDER BY u.email, u.id, l.id",
                "SELECT l.msa, l.id, l.user_id, u.username || uo.domain, l.org_id, o.name
                 FROM msa_links l JOIN import_users s ON s.msa = l.msa
                 JOIN users u ON u.id = l.user_id JOIN orgs uo ON uo.id = u.org_id
                 JOIN orgs o ON o.id = l.org_id
                 WHERE l.ended_at IS NULL ORDER BY l.msa, l.id",
            ),
            Load::Everything => (
                "SELECT u.email, u.id, u.username, u.name, u.roles, l.id, l.msa
                 FROM users u
                 LEFT JOIN msa_links l ON l.user_id = u.id AND l.ended_at IS NULL
                 WHERE u.org_id = $1 AND u.status = 'active'
                 ORDER BY u.email, u.id, l.id",
                "SELECT l.msa, l.id, l.user_id, u.username || uo.domain, l.org_id, o.name
                 FROM msa_links l
                 JOIN users u ON u.id = l.user_id JOIN orgs uo ON uo.id = u.org_id
                 JOIN orgs o ON o.id = l.org_id
                 WHERE l.ended_at IS NULL ORDER BY l.msa, l.id",
            ),
        };
        for r in pg.query_typed(accounts, &[&self.org_id])? {
            self.found_account(&r);
        }
        for r in pg.query_typed(links, &[])? {
            self.found_link(&r);
        }
        for r in pg.query_typed(
            "SELECT u.username FROM users u JOIN orgs o ON o.id = u.org_id
             WHERE o.domain = $1",
            &[&domain],
        )? {
            b.stems.insert(r.get(0));
        }
        let suffix = ["@", &domain].concat();
        for r in pg.query_typed(
            "SELECT email FROM users WHERE right(email, length($1)) = $1",
            &[&suffix],
        )? {
            b.emails.insert(r.get(0));
        }
        self.bulk = Some(b);
        Ok(())
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

    /// Whether bulk mode is on (every lookup answered from memory).
    pub fn is_bulk(&self) -> bool {
        self.bulk.is_some()
    }

    /// The stored form of a user name of the organization's domain, if it is one.
    pub fn stem<'n>(&self, username: &'n str) -> Option<&'n str> {
        stem_of(username, &self.domain)
    }

    /// While the accounts stream by COPY nothing else may be sent: ended links wait here
    /// until [`PgUsers::end_deferred`].
    pub fn defers(&self) -> bool {
        self.deferring
    }

    /// Starts or stops deferring (see [`PgUsers::defers`]).
    pub fn set_deferring(&mut self, on: bool) {
        self.deferring = on;
    }

    /// Notes an association to end once the COPY is over.
    pub fn defer_end(&mut self, link_id: i64, reason: &str) {
        self.link_ended(link_id);
        self.ended.push((link_id, reason.to_owned()));
    }

    /// Ends the associations noted while the accounts streamed, in one statement.
    pub fn end_deferred(&mut self, pg: &Pg, at: i64) -> Result<()> {
        if self.ended.is_empty() {
            return Ok(());
        }
        let (ids, reasons): (Vec<i64>, Vec<String>) =
            std::mem::take(&mut self.ended).into_iter().unzip();
        pg.query_typed(
            "UPDATE msa_links l SET ended_at = $2, end_reason = d.reason
             FROM unnest($1::bigint[], $3::text[]) AS d(id, reason) WHERE l.id = d.id",
            &[&ids, &at, &reasons],
        )?;
        Ok(())
    }

    /// Memory mode: writes the accounts `add` buffered into the open COPY of `users`.
    pub fn drain_into(
        &mut self,
        w: &mut postgres::binary_copy::BinaryCopyInWriter<'_>,
    ) -> std::result::Result<(), postgres::Error> {
        let (org_id, at) = (self.org_id, self.at);
        for u in self.new.drain(..) {
            // `insert_user_pg` let through only names of the domain.
            let stem = stem_of(&u.username, &self.domain).unwrap_or(&u.username);
            w.write(&[
                &u.id,
                &org_id,
                &stem,
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
    }

    /// Bulk mode: drops the indexes and foreign keys (once, before the first write).
    fn suspend(&mut self, pg: &Pg) -> Result<()> {
        if let Some(b) = &mut self.bulk
            && !b.suspended
        {
            pg.batch_raw(SUSPEND)?;
            b.suspended = true;
        }
        Ok(())
    }

    /// Whether bulk mode has dropped the indexes and foreign keys.
    pub fn is_suspended(&self) -> bool {
        self.bulk.as_ref().is_some_and(|b| b.suspended)
    }

    /// Bulk mode, before the links are inserted: the indexes are dropped.
    pub fn before_links(&mut self, pg: &Pg) -> Result<()> {
        self.suspend(pg)
    }

    /// Rebuilds what bulk mode dropped, if it dropped anything: called once every row is
    /// written, before the command goes on (re-evaluations read through the indexes).
    pub fn restore(&mut self, pg: &Pg) -> Result<()> {
        if let Some(b) = &mut self.bulk
            && b.suspended
        {
            pg.batch_raw(RESTORE)?;
            b.suspended = false;
        }
        Ok(())
    }

    pub(super) fn prefetch(&mut self, pg: &Pg, chunk: &[StagedUser]) -> Result<()> {
        if self.bulk.is_some() {
            return Ok(());
        }
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
        let emails: Vec<&str> = chunk.iter().map(|r| r.email.as_str()).collect();
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
        self.emails.extend(chunk.iter().map(|r| r.email.clone()));
        let msas: Vec<&str> = chunk.iter().filter_map(|r| r.msa.as_deref()).collect();
        if !msas.is_empty() {
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
        let names: Vec<String> = chunk
            .iter()
            .map(|r| {
                [
                    crate::support::fields::username_local(&r.email).as_str(),
                    "@",
                    &self.domain,
                ]
                .concat()
            })
            .collect();
        // Stored without the domain (migration 10), in the organizations of the domain.
        let stems: Vec<&str> = names
            .iter()
            .map(|n| &n[..n.len() - self.domain.len()])
            .collect();
        for r in pg.query_typed(
            "SELECT u.username || o.domain FROM orgs o
             JOIN users u ON u.org_id = o.id AND u.username = ANY($1) WHERE o.domain = $2",
            &[&stems, &self.domain],
        )? {
            self.taken_names.insert(r.get(0));
        }
        for r in pg.query_typed("SELECT email FROM users WHERE email = ANY($1)", &[&names])? {
            self.used_emails.insert(r.get(0));
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

    /// The active account of the organization with this e-mail, if the chunk asked (in
    /// bulk mode every staged e-mail was asked).
    pub fn active_by_email(&self, email: &str) -> Option<Option<ExistingUser>> {
        self.answer(&self.emails, &self.active, email)
    }

    /// The open association of an MSA, if the chunk asked (in bulk mode, always).
    pub fn open_link(&self, msa: &str) -> Option<Option<OpenLink>> {
        self.answer(&self.msas, &self.links, msa)
    }

    /// What was found for `key` (`None` inside: nothing), if it was asked: in bulk mode
    /// everything was; else if the chunk's lookup (`asked`) included it.
    fn answer<T: Clone>(
        &self,
        asked: &HashSet<String>,
        found: &HashMap<String, T>,
        key: &str,
    ) -> Option<Option<T>> {
        (self.bulk.is_some() || asked.contains(key)).then(|| found.get(key).cloned())
    }

    /// Whether an e-mail is in use, if known without asking the server.
    pub fn email_in_use(&self, email: &str) -> Option<bool> {
        if let Some(b) = &self.bulk
            && is_name_shaped(email, &self.domain)
        {
            return Some(b.emails.contains(email));
        }
        self.known(&self.new_emails, &self.used_emails, email)
    }

    /// Whether a user name is taken, if known without asking the server.
    pub fn username_taken(&self, username: &str) -> Option<bool> {
        if let Some(b) = &self.bulk
            && let Some(stem) = stem_of(username, &self.domain)
        {
            return Some(b.stems.contains(stem));
        }
        self.known(&self.new_names, &self.taken_names, username)
    }

    /// Bulk mode: the largest `n` such that `<local><n>@` is a user name of the domain
    /// (0 when none), from memory; `None` otherwise (the caller asks the server).
    pub fn max_username_suffix(&self, local: &str) -> Option<u64> {
        let b = self.bulk.as_ref()?;
        let mut max = 0;
        for stem in b
            .stems
            .range::<str, _>((Bound::Included(local), Bound::Unbounded))
        {
            let Some(rest) = stem.strip_prefix(local) else {
                break;
            };
            if let Some(n) = rest
                .strip_suffix('@')
                .filter(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()))
                .and_then(|d| d.parse::<u64>().ok())
            {
                max = max.max(n);
            }
        }
        Some(max)
    }

    /// Whether `text` is in use: yes when this import made it (`made`); else what the
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

    /// Buffers a new account; its id.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        pg: &Pg,
        username: &str,
        name: &str,
        email: &str,
        roles: &str,
        hash: Vec<u8>,
        expires_at: i64,
    ) -> Result<i64> {
        let id = match self.ids.pop() {
            Some(id) => id,
            None => reserve(pg, 1)?,
        };
        match &mut self.bulk {
            Some(b) => {
                if let Some(stem) = stem_of(username, &self.domain) {
                    b.stems.insert(stem.to_owned());
                }
                if is_name_shaped(email, &self.domain) {
                    b.emails.insert(email.to_owned());
                }
            }
            None => {
                self.new_names.insert(username.to_owned());
                self.new_emails.insert(email.to_owned());
            }
        }
        self.new.push(NewUser {
            id,
            username: username.to_owned(),
            name: name.to_owned(),
            email: email.to_owned(),
            roles: roles.to_owned(),
            hash,
            expires_at,
        });
        Ok(id)
    }

    /// Writes the buffered accounts by one COPY into `users` (in id order, which is e-mail
    /// order); in bulk mode the indexes are dropped first. `end_of_chunk`: the chunk's own
    /// memory of what it added is dropped too (the server knows it now).
    pub fn write_new(&mut self, pg: &Pg, end_of_chunk: bool) -> Result<()> {
        if !self.new.is_empty() {
            self.suspend(pg)?;
            pg.copy_in(COPY_USERS, USER_TYPES, |w| Ok(self.drain_into(w)?))?;
        }
        if end_of_chunk && self.bulk.is_none() {
            self.new_names.clear();
            self.new_emails.clear();
        }
        Ok(())
    }
}

/// The COPY that writes new accounts straight into `users`, and its column types.
pub const COPY_USERS: &str = "COPY users (id, org_id, username, name, email, roles, status,
    created_at, password_hash, password_temporary, password_expires_at, self_service_reset)
    FROM STDIN (FORMAT binary)";

/// See [`COPY_USERS`].
pub const USER_TYPES: &[Type] = &[
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
