//! The imports' operations whose execution differs per backend, one match each: filling a
//! staging table ([`Fill`]: SQLite's prepared INSERT, PostgreSQL's binary COPY), the page
//! cache an import runs with (SQLite's; PostgreSQL's memory is the server's), and the
//! Trainings report's people (SQLite key by key, PostgreSQL one statement per chunk).

use std::collections::HashMap;

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::{Conn, Pg, Value};
use crate::store::import::staging::Table;
use crate::store::trainees::{Entry, Met, NewAccount};
use crate::store::{Db, pg, sqlite};

/// A staging table being filled by its backend.
pub enum Fill<'c> {
    /// SQLite's prepared INSERT.
    Lite(sqlite::staging::Fill<'c>),
    /// PostgreSQL's buffered binary COPY.
    Pg(&'c Pg, pg::staging::Fill),
}

impl Fill<'_> {
    /// Adds one row: the shared columns, then the import's.
    pub fn add(&mut self, shared: &[Value<'_>], values: &[Value<'_>]) -> Result<()> {
        match self {
            Fill::Lite(f) => f.add(shared, values),
            Fill::Pg(p, f) => f.add(p, shared, values),
        }
    }

    /// Sends what the backend still buffers.
    pub fn flush(&mut self) -> Result<()> {
        match self {
            Fill::Lite(_) => Ok(()),
            Fill::Pg(p, f) => f.flush(p),
        }
    }
}

impl Conn {
    /// Creates a staging table (and its table of repeated keys), a leftover dropped first,
    /// and starts filling it.
    pub fn begin_fill(&self, table: &'static Table) -> Result<Fill<'_>> {
        match self {
            Conn::Lite(c) => Ok(Fill::Lite(sqlite::staging::Fill::begin(c, table)?)),
            Conn::Pg(p) => Ok(Fill::Pg(p, pg::staging::Fill::begin(p, table)?)),
        }
    }

    /// Sets SQLite's page cache (KiB) for this connection; returns the previous setting
    /// for [`Conn::restore_cache`]. PostgreSQL: nothing (its memory is the server's).
    pub fn set_cache_kib(&self, kib: i64) -> Result<i64> {
        match self {
            Conn::Lite(c) => sqlite::set_cache_kib(c, kib),
            Conn::Pg(_) => Ok(0),
        }
    }

    /// Restores a setting [`Conn::set_cache_kib`] returned.
    pub fn restore_cache(&self, setting: i64) -> Result<()> {
        match self {
            Conn::Lite(c) => sqlite::restore_cache(c, setting),
            Conn::Pg(_) => Ok(()),
        }
    }

    /// See [`Db::people_met`].
    pub fn people_met(
        &self,
        db: &Db<'_>,
        org_id: i64,
        msas: &[String],
        emails: &[String],
        names: &[String],
    ) -> Result<Met> {
        match self {
            Conn::Lite(_) => sqlite::trainees::people_met(db, org_id, msas, emails, names),
            Conn::Pg(p) => pg::trainees::people_met(p, org_id, msas, emails, names),
        }
    }

    /// See [`Db::foreign_msas`].
    pub fn foreign_msas(
        &self,
        db: &Db<'_>,
        org_id: i64,
        msas: &[String],
    ) -> Result<HashMap<String, String>> {
        match self {
            Conn::Lite(_) => sqlite::trainees::foreign_msas(db, org_id, msas),
            Conn::Pg(p) => pg::trainees::foreign_msas(p, org_id, msas),
        }
    }

    /// See [`Db::elsewhere_after`]: per MSA, the latest end and how many are open.
    pub fn elsewhere_after(
        &self,
        org_id: i64,
        msas: &[String],
        after: DateTime<Utc>,
    ) -> Result<Vec<(String, Option<i64>, i64)>> {
        match self {
            Conn::Lite(c) => sqlite::trainees::elsewhere_after(c, org_id, msas, after),
            Conn::Pg(p) => pg::trainees::elsewhere_after(p, org_id, msas, after),
        }
    }

    /// See [`Db::insert_accounts`].
    pub fn insert_accounts(
        &self,
        db: &Db<'_>,
        org_id: i64,
        accounts: &[NewAccount],
        at: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        match self {
            Conn::Lite(_) => sqlite::trainees::insert_accounts(db, org_id, accounts, at),
            Conn::Pg(p) => pg::trainees::insert_accounts(p, db, org_id, accounts, at),
        }
    }

    /// See [`Db::insert_links_of`].
    pub fn insert_links_of(
        &self,
        db: &Db<'_>,
        org_id: i64,
        links: &[(String, i64, DateTime<Utc>)],
    ) -> Result<()> {
        match self {
            Conn::Lite(_) => sqlite::trainees::insert_links_of(db, org_id, links),
            Conn::Pg(p) => pg::trainees::insert_links_of(p, org_id, links),
        }
    }

    /// See [`Db::audit_entries`].
    pub fn audit_entries(
        &self,
        db: &Db<'_>,
        at: DateTime<Utc>,
        actor: &str,
        entries: &[Entry],
    ) -> Result<()> {
        match self {
            Conn::Lite(_) => sqlite::trainees::audit_entries(db, at, actor, entries),
            Conn::Pg(p) => pg::trainees::audit_entries(p, at, actor, entries),
        }
    }
}
