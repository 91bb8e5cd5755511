//! The store side of `users import`: the questions its rows ask and the writes they make,
//! through [`UserStatements`]. The rows themselves are the domain's (held in memory and
//! sorted by e-mail there, `domain/import/users/staged.rs`); they reach the store in
//! chunks, in e-mail order, and every chunk is announced before it is decided
//! ([`UserStatements::ask_ahead`]) and closed after ([`UserStatements::end_chunk`]):
//!
//! - on SQLite every question (the active account of an e-mail, the open association of an
//!   MSA, whether a user name is free) is an in-process index lookup and every account is
//!   inserted at once; the announcement costs nothing;
//! - on PostgreSQL, where each would be a round trip, what the chunk's rows will ask about
//!   is fetched at the announcement with one set-based query per question, and the chunk's
//!   new accounts and links are written by one `COPY` each when it closes. No statement is
//!   ever sent while a `COPY` is open: every `COPY` is complete (written and closed) inside
//!   one call.
//!
//! Invariants: every answer is what the database would give at that point of the import
//! (the accounts buffered for the chunk's `COPY` included), so both backends decide every
//! row the same way; the links are written in MSA order (the order of two of the three
//! indexes of `msa_links`); the backend's tuning for the import (SQLite's page cache and
//! memory map, PostgreSQL's suspended foreign keys and index-only lookups) is set by
//! [`Db::user_statements`] and put back by [`UserStatements::finish`].

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::store::Db;

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

pub use statements::{CHUNK_ROWS, UserStatements};
mod statements;

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
            crate::store::sql::params![],
            |r| r.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests;
