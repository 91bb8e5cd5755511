//! Certification renewals (SPEC §9b): which certifications expire soon, when their free
//! renewal opens, and what each carries — the competency levels (and designations) whose
//! standing changes if it lapses.
//!
//! Invariants:
//! - **one row per person × certification**: a person's records of one code are one
//!   certification; its expiry is the latest day any of them counts until, so a renewal (a
//!   later expiry from a new report or `achievements add`) moves the row out of the window.
//! - **one pass**: what a certification carries is read from the engine's criticality
//!   analysis ([`crate::rules::risk`]), computed once over the organization; never one
//!   re-evaluation per certification or person.
//! - **relied on** = its lapse alone breaks a met level (and, when designations carry it, a
//!   qualifying designation); only relied-on rows are listed unless `all`.

use std::collections::HashMap;

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::accounts;
use crate::domain::judge;
use crate::rules::engine::{association_active, counts_until};
use crate::store::{Db, Org};
use crate::support::clock::add_days;

/// The default `--within`: Microsoft opens renewals six months ahead.
pub const DEFAULT_WITHIN_DAYS: u32 = 180;

/// One person's certification expiring in the window.
#[derive(Debug, Clone, Serialize)]
pub struct Renewal {
    /// The account's user name.
    pub username: String,
    /// The MSA holding it.
    pub msa: String,
    /// Its catalogue code.
    pub code: String,
    /// Its catalogue title.
    pub title: String,
    /// The first day it no longer counts.
    pub expires: NaiveDate,
    /// The day its free renewal opens (expiry − the entry's `renewal_opens_days`).
    pub renewal_opens: NaiveDate,
    /// Days from today to the expiry.
    pub days_left: i64,
    /// Whether it can still be renewed (false once the certification is retired by its
    /// expiry).
    pub renewable: bool,
    /// The certification that replaces it, when it cannot be renewed and the rulebook says.
    pub replacement: Option<String>,
    /// Whether something relies on it (the list below is not empty).
    pub relied_on: bool,
    /// What it carries: each standing that changes if it lapses ("DevOps gold breaks").
    pub carries: Vec<String>,
}

/// Whether a renewal row is inside its renewal window at `today` (the renewal is open).
pub fn window_open(r: &Renewal, today: NaiveDate) -> bool {
    r.renewal_opens <= today
}

/// The certifications expiring within `within` days of `at`: relied-on ones only unless
/// `all`; one person's only with `user`. Sorted by expiry, then user name and code.
pub fn list(
    db: &Db,
    org: &Org,
    at: DateTime<Utc>,
    within: u32,
    user: Option<&str>,
    all: bool,
) -> Result<Vec<Renewal>> {
    let only = match user {
        Some(u) => Some(accounts::find(db, org, u)?.id),
        None => None,
    };
    let judged = judge::judge(db, org, at)?;
    let fixed =
        crate::domain::designations::term_fixed(db, org, &judged.rulebook, &judged.snapshot)?;
    let rows = from_judged(&judged, fixed.as_ref(), at, within, only, all);
    judge::discard(judged);
    Ok(rows)
}

/// [`list`] on an evaluation already made (the report and `membership check` share theirs).
/// `designations` is the snapshot designations are judged on when it differs from the
/// evaluation's: Azure terms keep the track they were enrolled on
/// ([`crate::domain::designations::term_fixed`]).
pub fn from_judged(
    judged: &judge::Judged,
    designations: Option<&crate::rules::Snapshot>,
    at: DateTime<Utc>,
    within: u32,
    only: Option<i64>,
    all: bool,
) -> Vec<Renewal> {
    let rb = &judged.rulebook;
    let today = at.date_naive();
    let until = add_days(today, within).unwrap_or(NaiveDate::MAX);
    // What each (person, code) carries, from the one criticality pass.
    let mut carries: HashMap<(i64, &str), Vec<String>> = HashMap::new();
    let risks = crate::rules::risk(rb, &judged.snapshot, at, &judged.eval);
    for r in &risks {
        for (user, code) in &r.relied_on {
            carries
                .entry((*user, code.as_str()))
                .or_default()
                .push(format!("{} {} breaks", r.name, r.level.as_str()));
        }
    }
    let designations = crate::rules::engine::designations_reliance::reliance(
        rb,
        designations.unwrap_or(&judged.snapshot),
        at,
    );
    for ((user, code), losses) in &designations.relied_on {
        let Some(entry) = rb.catalog_entry(code) else {
            continue;
        };
        let list = carries.entry((*user, entry.code.as_str())).or_default();
        for l in losses {
            list.push(format!(
                "{} {} → {}: stops qualifying",
                l.name,
                points(l.before),
                points(l.after)
            ));
            list.extend(l.gates.iter().cloned());
        }
    }
    // (user id, code) → (user name, msa, latest day it counts until).
    let mut held: HashMap<(i64, &str), (&str, &str, Option<NaiveDate>)> = HashMap::new();
    for p in &judged.snapshot.people {
        if !association_active(p, at) || only.is_some_and(|u| u != p.user_id) {
            continue;
        }
        for a in p.achievements.iter().filter(|a| a.removed.is_none()) {
            let Some(entry) = rb.catalog_entry(&a.code) else {
                continue;
            };
            // A record that never expires holds the certification for good.
            let ends = counts_until(rb, a);
            if ends.is_some_and(|e| e <= today) {
                continue;
            }
            let e = held.entry((p.user_id, entry.code.as_str())).or_insert((
                p.username.as_str(),
                p.msa.as_str(),
                ends,
            ));
            e.2 = match (e.2, ends) {
                (Some(x), Some(y)) => Some(x.max(y)),
                _ => None,
            };
        }
    }
    let mut out: Vec<Renewal> = held
        .into_iter()
        .filter_map(|((user, code), (username, msa, ends))| {
            let expires = ends.filter(|e| *e <= until)?;
            let entry = rb.catalog_entry(code)?;
            let carried = carries.remove(&(user, code)).unwrap_or_default();
            if carried.is_empty() && !all {
                return None;
            }
            let renewable =
                entry.retired.is_none_or(|r| r > expires) && eligible_after(rb, code, expires);
            Some(Renewal {
                username: username.to_owned(),
                msa: msa.to_owned(),
                code: code.to_owned(),
                title: entry.title.clone(),
                expires,
                renewal_opens: expires
                    .checked_sub_days(chrono::Days::new(entry.renewal_opens_days().into()))
                    .unwrap_or(expires),
                days_left: (expires - today).num_days(),
                renewable,
                replacement: if renewable {
                    None
                } else {
                    entry.replaced_by.clone()
                },
                relied_on: !carried.is_empty(),
                carries: carried,
            })
        })
        .collect();
    out.sort_by(|a, b| (a.expires, &a.username, &a.code).cmp(&(b.expires, &b.username, &b.code)));
    out
}

/// Points as the designation commands show them: at most two decimals, no trailing zeros.
fn points(p: f64) -> String {
    let s = format!("{p:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Whether a renewal on `expires` still earns something: false when designations list the
/// certification only with an "eligible through" day before it (SPEC §9: a retiring
/// certification counts until its `until`, and renewing it adds nothing after).
fn eligible_after(rb: &crate::rules::Rulebook, code: &str, expires: NaiveDate) -> bool {
    let dated: Vec<_> = rb
        .designations
        .values()
        .filter_map(|d| d.eligibility_of(code))
        .collect();
    dated.is_empty() || dated.iter().any(|e| e.until.is_none_or(|u| u >= expires))
}
