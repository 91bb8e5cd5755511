//! The people of a Trainings report import on PostgreSQL (see `store::trainees`): each
//! question and each write is one statement per chunk, the keys travelling as typed arrays
//! (the rows of a write in the chunk's order, so ids are given in that order as row by row).
//! They are sent unprepared, so that each is planned against the tables as they are then:
//! a plan cached while the tables were small would scan them whole once they have grown
//! inside the import (what made the row-by-row import quadratic).
//!
//! Invariant: the answers and the rows written are exactly those of the single-account
//! statements (`sqlite::trainees`) for the same keys and rows in the same order.

use std::collections::HashMap;

use anyhow::Result;
use chrono::{DateTime, Utc};
use postgres::types::ToSql;

use super::Pg;
use crate::store::trainees::{Account, Entry, Met, NewAccount};
use crate::store::users::{hash_bytes, username_parts, username_stem};
use crate::store::{Db, MsaLink};
use crate::support::clock::from_unix;

const LINKS_OF_MSAS: &str =
    "SELECT l.id, l.msa, l.user_id, u.username || uo.domain, l.org_id, o.name, l.started_at
     FROM msa_links l JOIN users u ON u.id = l.user_id JOIN orgs uo ON uo.id = u.org_id
     JOIN orgs o ON o.id = l.org_id
     WHERE l.msa = ANY($1) AND l.ended_at IS NULL";

const ACCOUNTS_BY_EMAILS: &str = "SELECT u.email, u.id, u.username || uo.domain, l.msa
     FROM users u JOIN orgs uo ON uo.id = u.org_id
     LEFT JOIN msa_links l ON l.user_id = u.id AND l.ended_at IS NULL
     WHERE u.org_id = $1 AND u.email = ANY($2) AND u.status = 'active'";

/// User names (stored part and domain, as `username_taken` splits them) that exist.
const TAKEN_NAMES: &str =
    "SELECT n.stem || n.domain FROM unnest($1::text[], $2::text[]) AS n(stem, domain)
     WHERE EXISTS (SELECT 1 FROM users u WHERE u.username = n.stem
                     AND u.org_id IN (SELECT id FROM orgs WHERE domain = n.domain))";

const EMAILS_IN_USE: &str = "SELECT DISTINCT email FROM users WHERE email = ANY($1)";

/// Accounts in the given order (ids drawn in it); their e-mails and ids come back.
const INSERT_ACCOUNTS: &str = "WITH i AS (
       INSERT INTO users (org_id, username, name, email, roles, status, created_at,
           password_hash, password_temporary, password_expires_at, self_service_reset)
       SELECT $1, n.stem, n.name, n.email, n.roles, 'active', $2, n.hash, 1, n.expires, 0
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::bigint[])
            WITH ORDINALITY AS n(stem, name, email, roles, hash, expires, ord)
       ORDER BY n.ord
       RETURNING email, id)
     SELECT email, id FROM i";

const INSERT_LINKS: &str = "INSERT INTO msa_links (msa, user_id, org_id, started_at)
     SELECT n.msa, n.user_id, $1, n.started
     FROM unnest($2::text[], $3::bigint[], $4::bigint[])
          WITH ORDINALITY AS n(msa, user_id, started, ord)
     ORDER BY n.ord";

/// Of the MSAs `$2`, their associations with other organizations' accounts than `$1` that
/// ended after `$3` or are open: the latest end and how many are open.
const ELSEWHERE_AFTER: &str = "SELECT msa, max(ended_at), count(*) - count(ended_at)
     FROM msa_links WHERE msa = ANY($2) AND org_id <> $1 AND (ended_at IS NULL OR ended_at > $3)
     GROUP BY msa";

const INSERT_AUDIT: &str = "INSERT INTO audit (org_id, at, actor, action, subject, detail)
     SELECT n.org_id, $1, $2, n.action, n.subject, n.detail
     FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[])
          WITH ORDINALITY AS n(org_id, action, subject, detail, ord)
     ORDER BY n.ord";

/// The MSAs associated with an account of another organization than `$1`, and its name.
const FOREIGN_MSAS: &str = "SELECT l.msa, o.name FROM msa_links l JOIN orgs o ON o.id = l.org_id
     WHERE l.msa = ANY($2) AND l.ended_at IS NULL AND l.org_id <> $1";

fn link_of(r: &postgres::Row) -> MsaLink {
    MsaLink {
        id: r.get(0),
        msa: r.get(1),
        user_id: r.get(2),
        username: r.get(3),
        org_id: r.get(4),
        org_name: r.get(5),
        started_at: from_unix(r.get(6)),
    }
}

/// See `Db::people_met`.
pub fn people_met(
    pg: &Pg,
    org_id: i64,
    msas: &[String],
    emails: &[String],
    names: &[String],
) -> Result<Met> {
    let mut met = Met::default();
    if !msas.is_empty() {
        for r in pg.query_unprepared(LINKS_OF_MSAS, &[&msas])? {
            let l = link_of(&r);
            met.links.insert(l.msa.clone(), l);
        }
    }
    if !emails.is_empty() {
        for r in pg.query_unprepared(ACCOUNTS_BY_EMAILS, &[&org_id, &emails])? {
            let a = Account {
                id: r.get(1),
                username: r.get(2),
                msa: r.get(3),
            };
            met.accounts.insert(r.get(0), a);
        }
    }
    if !names.is_empty() {
        let (stems, domains): (Vec<&str>, Vec<&str>) =
            names.iter().filter_map(|n| username_parts(n)).unzip();
        for r in pg.query_unprepared(TAKEN_NAMES, &[&stems, &domains])? {
            met.taken.insert(r.get(0));
        }
        for r in pg.query_unprepared(EMAILS_IN_USE, &[&names])? {
            met.emails.insert(r.get(0));
        }
    }
    Ok(met)
}

/// See `Db::foreign_msas`.
pub fn foreign_msas(pg: &Pg, org_id: i64, msas: &[String]) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    if !msas.is_empty() {
        for r in pg.query_unprepared(FOREIGN_MSAS, &[&org_id, &msas])? {
            out.insert(r.get(0), r.get(1));
        }
    }
    Ok(out)
}

/// See `Db::elsewhere_after`: per MSA, the latest end and how many are open.
pub fn elsewhere_after(
    pg: &Pg,
    org_id: i64,
    msas: &[String],
    after: DateTime<Utc>,
) -> Result<Vec<(String, Option<i64>, i64)>> {
    if msas.is_empty() {
        return Ok(Vec::new());
    }
    Ok(pg
        .query_unprepared(ELSEWHERE_AFTER, &[&org_id, &msas, &after.timestamp()])?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// See `Db::insert_accounts`.
pub fn insert_accounts(
    pg: &Pg,
    db: &Db<'_>,
    org_id: i64,
    accounts: &[NewAccount],
    at: DateTime<Utc>,
) -> Result<Vec<i64>> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let domain = db.org_domain(org_id)?;
    let mut stems = Vec::with_capacity(accounts.len());
    for a in accounts {
        match username_stem(&a.username, &domain) {
            Some(s) => stems.push(s),
            None => anyhow::bail!(
                "internal error: user name {:?} is not in its organization's domain {domain:?}",
                a.username
            ),
        }
    }
    let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    let emails: Vec<&str> = accounts.iter().map(|a| a.email.as_str()).collect();
    let roles: Vec<&str> = accounts.iter().map(|a| a.roles.as_str()).collect();
    let hashes: Vec<Vec<u8>> = accounts
        .iter()
        .map(|a| hash_bytes(&a.password_hash))
        .collect();
    let expires: Vec<i64> = accounts.iter().map(|a| a.expires_at.timestamp()).collect();
    let params: [&(dyn ToSql + Sync); 8] = [
        &org_id,
        &at.timestamp(),
        &stems,
        &names,
        &emails,
        &roles,
        &hashes,
        &expires,
    ];
    let ids: HashMap<String, i64> = pg
        .query_unprepared(INSERT_ACCOUNTS, &params)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    accounts
        .iter()
        .map(|a| match ids.get(&a.email) {
            Some(id) => Ok(*id),
            None => anyhow::bail!("internal error: the account of {} was not added", a.email),
        })
        .collect()
}

/// See `Db::insert_links_of`.
pub fn insert_links_of(pg: &Pg, org_id: i64, links: &[(String, i64, DateTime<Utc>)]) -> Result<()> {
    if links.is_empty() {
        return Ok(());
    }
    let msas: Vec<&str> = links.iter().map(|l| l.0.as_str()).collect();
    let users: Vec<i64> = links.iter().map(|l| l.1).collect();
    let starts: Vec<i64> = links.iter().map(|l| l.2.timestamp()).collect();
    pg.query_unprepared(INSERT_LINKS, &[&org_id, &msas, &users, &starts])?;
    Ok(())
}

/// See `Db::audit_entries`.
pub fn audit_entries(pg: &Pg, at: DateTime<Utc>, actor: &str, entries: &[Entry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let orgs: Vec<i64> = entries.iter().map(|e| e.org_id).collect();
    let actions: Vec<&str> = entries.iter().map(|e| e.action).collect();
    let subjects: Vec<&str> = entries.iter().map(|e| e.subject.as_str()).collect();
    let details: Vec<&str> = entries.iter().map(|e| e.detail.as_str()).collect();
    pg.query_unprepared(
        INSERT_AUDIT,
        &[
            &at.timestamp(),
            &actor,
            &orgs,
            &actions,
            &subjects,
            &details,
        ],
    )?;
    Ok(())
}
