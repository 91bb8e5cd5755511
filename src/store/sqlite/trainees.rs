//! The people of a Trainings report import on SQLite (see `store::trainees`): where a
//! statement costs no round trip, each key is asked, and each row written, through the
//! statements `users add` and `users link-msa` use.

use std::collections::HashMap;

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::store::trainees::{Account, Entry, Met, NewAccount};
use crate::store::{Db, NewUser};

/// See `Db::people_met`.
pub fn people_met(
    db: &Db<'_>,
    org_id: i64,
    msas: &[String],
    emails: &[String],
    names: &[String],
) -> Result<Met> {
    let mut met = Met::default();
    for m in msas {
        if let Some(l) = db.open_link_for_msa(m)? {
            met.links.insert(m.clone(), l);
        }
    }
    for e in emails {
        if let Some(u) = db.active_user_by_email(org_id, e)? {
            let a = Account {
                id: u.id,
                username: u.username,
                msa: u.msa,
            };
            met.accounts.insert(e.clone(), a);
        }
    }
    for n in names {
        if db.username_taken(n)? {
            met.taken.insert(n.clone());
        }
        if db.email_in_use(n)? {
            met.emails.insert(n.clone());
        }
    }
    Ok(met)
}

/// See `Db::foreign_msas`.
pub fn foreign_msas(db: &Db<'_>, org_id: i64, msas: &[String]) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for m in msas {
        if let Some(l) = db.open_link_for_msa(m)?
            && l.org_id != org_id
        {
            out.insert(m.clone(), l.org_name);
        }
    }
    Ok(out)
}

/// See `Db::elsewhere_after`: per MSA, the latest end and how many are open.
pub fn elsewhere_after(
    c: &rusqlite::Connection,
    org_id: i64,
    msas: &[String],
    after: DateTime<Utc>,
) -> Result<Vec<(String, Option<i64>, i64)>> {
    let mut st = c.prepare_cached(
        "SELECT max(ended_at), count(*) - count(ended_at) FROM msa_links
         WHERE msa = ?1 AND org_id <> ?2 AND (ended_at IS NULL OR ended_at > ?3)",
    )?;
    let mut out = Vec::new();
    for m in msas {
        let (latest, open): (Option<i64>, i64) = st
            .query_row(rusqlite::params![m, org_id, after.timestamp()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        if latest.is_some() || open > 0 {
            out.push((m.clone(), latest, open));
        }
    }
    Ok(out)
}

/// See `Db::insert_accounts`.
pub fn insert_accounts(
    db: &Db<'_>,
    org_id: i64,
    accounts: &[NewAccount],
    at: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(accounts.len());
    for a in accounts {
        let u = NewUser {
            org_id,
            username: &a.username,
            name: &a.name,
            email: &a.email,
            roles: &a.roles,
            password_hash: &a.password_hash,
            expires_at: a.expires_at,
        };
        ids.push(db.insert_user(&u, None, at)?);
    }
    Ok(ids)
}

/// See `Db::insert_links_of`.
pub fn insert_links_of(
    db: &Db<'_>,
    org_id: i64,
    links: &[(String, i64, DateTime<Utc>)],
) -> Result<()> {
    for (msa, user_id, start) in links {
        db.insert_link(msa, *user_id, org_id, *start)?;
    }
    Ok(())
}

/// See `Db::audit_entries`.
pub fn audit_entries(db: &Db<'_>, at: DateTime<Utc>, actor: &str, entries: &[Entry]) -> Result<()> {
    for e in entries {
        db.audit(Some(e.org_id), at, actor, e.action, &e.subject, &e.detail)?;
    }
    Ok(())
}
