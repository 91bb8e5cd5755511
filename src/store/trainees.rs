//! The people of a Trainings report import with `--link-users` / `--create-users` (issue
//! 26): what a chunk of them meets in the database, asked for the whole chunk at once, and
//! the accounts, associations and audit entries the chunk makes, written at once.
//!
//! How a backend asks and writes is its own (`store::sql::Conn`'s operations):
//! PostgreSQL one statement per chunk (`postgres::trainees`), SQLite, where a statement
//! costs no round trip, key by key through the statements `users add` and `users link-msa`
//! use (`sqlite::trainees`).
//!
//! Invariant: the answers and the rows written are exactly those of the single-account
//! statements for the same keys and rows in the same order.

use std::collections::{HashMap, HashSet};

use super::sql::params;
use super::{Db, MsaLink};
use crate::support::clock::from_unix;
use anyhow::Result;
use chrono::{DateTime, Utc};

/// An active account of an organization, found by its e-mail.
#[derive(Debug, Clone)]
pub struct Account {
    /// Database id.
    pub id: i64,
    /// User name, `local@domain`.
    pub username: String,
    /// The MSA associated with it, if any.
    pub msa: Option<String>,
}

/// What a chunk of people meets in the database.
#[derive(Debug, Default)]
pub struct Met {
    /// The open association of each MSA asked about that has one.
    pub links: HashMap<String, MsaLink>,
    /// The active account of the organization with each e-mail asked about that has one.
    pub accounts: HashMap<String, Account>,
    /// The user names asked about that some account has (any organization, any status).
    pub taken: HashSet<String>,
    /// The user names asked about that are some account's e-mail (any organization).
    pub emails: HashSet<String>,
}

/// What came before links of an organization that start in the past (`--linked-since`,
/// SPEC §6a): its associations that ended after that start.
#[derive(Debug, Default)]
pub struct Earlier {
    /// Per MSA, the latest end of its ended associations with this organization's accounts.
    pub msas: HashMap<String, DateTime<Utc>>,
    /// Per account of this organization, the latest end of its ended associations.
    pub accounts: HashMap<i64, DateTime<Utc>>,
}

/// An account to insert (see [`Db::insert_accounts`]).
pub struct NewAccount {
    /// User name, `local@domain` of the organization.
    pub username: String,
    /// Display name.
    pub name: String,
    /// E-mail, lower case.
    pub email: String,
    /// Roles, `;`-joined.
    pub roles: String,
    /// Temporary password hash.
    pub password_hash: String,
    /// Temporary password expiry.
    pub expires_at: DateTime<Utc>,
}

/// An audit entry of [`Db::audit_entries`].
pub struct Entry {
    /// The organization whose trail it is.
    pub org_id: i64,
    /// What was done.
    pub action: &'static str,
    /// To whom.
    pub subject: String,
    /// What it was.
    pub detail: String,
}

impl Db<'_> {
    /// What the people of a chunk meet: the open associations of `msas`, the active
    /// accounts of `org_id` with the e-mails `emails`, and which of the user names `names`
    /// are taken or some account's e-mail.
    pub fn people_met(
        &self,
        org_id: i64,
        msas: &[String],
        emails: &[String],
        names: &[String],
    ) -> Result<Met> {
        self.conn().people_met(self, org_id, msas, emails, names)
    }

    /// Of `msas`, those associated with an account of another organization than `org_id`,
    /// with that organization's name (SPEC §4: their achievements are refused).
    pub fn foreign_msas(&self, org_id: i64, msas: &[String]) -> Result<HashMap<String, String>> {
        self.conn().foreign_msas(self, org_id, msas)
    }

    /// The associations of `org_id` that ended after `after` (see [`Earlier`]; they are
    /// few: most links are open or ended long ago), asked once per import.
    pub fn ended_here_after(&self, org_id: i64, after: DateTime<Utc>) -> Result<Earlier> {
        let mut out = Earlier::default();
        let mut st = self.conn().prepare_cached(
            "SELECT msa, user_id, ended_at FROM msa_links WHERE org_id = ?1 AND ended_at > ?2",
        )?;
        st.for_each(params![org_id, after.timestamp()], |r| {
            let ended = from_unix(r.get(2)?);
            let m = out.msas.entry(r.get(0)?).or_insert(ended);
            *m = (*m).max(ended);
            let a = out.accounts.entry(r.get(1)?).or_insert(ended);
            *a = (*a).max(ended);
            Ok(true)
        })?;
        Ok(out)
    }

    /// Of `msas`, those associated with another organization's account than `org_id` after
    /// `after`: the latest end of those associations, `None` while one is open.
    pub fn elsewhere_after(
        &self,
        org_id: i64,
        msas: &[String],
        after: DateTime<Utc>,
    ) -> Result<HashMap<String, Option<DateTime<Utc>>>> {
        let until =
            |latest: Option<i64>, open: i64| (open == 0).then(|| latest.map(from_unix)).flatten();
        Ok(self
            .conn()
            .elsewhere_after(org_id, msas, after)?
            .into_iter()
            .map(|(m, latest, open)| (m, until(latest, open)))
            .collect())
    }

    /// Inserts accounts of `org_id` created `at`, in order; their ids, in the same order.
    pub fn insert_accounts(
        &self,
        org_id: i64,
        accounts: &[NewAccount],
        at: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        self.conn().insert_accounts(self, org_id, accounts, at)
    }

    /// Starts the associations (MSA, account, start) of `org_id`, in order.
    pub fn insert_links_of(
        &self,
        org_id: i64,
        links: &[(String, i64, DateTime<Utc>)],
    ) -> Result<()> {
        self.conn().insert_links_of(self, org_id, links)
    }

    /// Writes audit entries of `actor` at `at`, in order.
    pub fn audit_entries(&self, at: DateTime<Utc>, actor: &str, entries: &[Entry]) -> Result<()> {
        self.conn().audit_entries(self, at, actor, entries)
    }
}
