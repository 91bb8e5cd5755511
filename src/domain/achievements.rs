//! Achievements as the commands see them: recording one (and re-evaluating wherever its
//! MSA counts when a record changed), removing an MSA's records of a code, and listing
//! records with the engine's own answer to "until when" and "does it count now".
//!
//! Field validation and the audited writes live in `records`; the counting rules are the
//! engine's (`rules::engine`): nothing here recomputes an expiry or a grace.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::accounts;
use crate::domain::membership::Alert;
use crate::domain::records::{self, ValidAchievement};
use crate::domain::{Actor, effects};
use crate::error::{bad_input, refused};
use crate::rules::engine::{
    achievement_counts, association_active, counts_until, pending, retired_before_earned,
};
use crate::rules::snapshot::{Achievement, Person};
use crate::store::{Db, MsaLink, Org, Recorded};

/// What `achievements add` gives: the fields as typed.
pub struct NewRecord<'a> {
    /// The Microsoft account.
    pub msa: &'a str,
    /// The catalogue code.
    pub code: &'a str,
    /// The day earned, as typed.
    pub earned: &'a str,
    /// The record's own expiry, as typed.
    pub expires: Option<&'a str>,
}

/// What recording an achievement did.
pub struct Added {
    /// The record as stored (canonical code, lower-case MSA).
    pub achievement: ValidAchievement,
    /// Added, updated or unchanged.
    pub recorded: Recorded,
    /// The MSA's current association with this organization, if it has one.
    pub linked: Option<MsaLink>,
    /// Membership alerts the change raised (in the organization the MSA counts for).
    pub alerts: Vec<Alert>,
    /// The exam's retirement day when this pass is on or after it (it never counts).
    pub retired_before: Option<NaiveDate>,
}

/// Records one achievement in `org`; a change evaluates, at once, the organization the MSA
/// counts for now.
pub fn add(db: &Db, org: &Org, actor: &Actor, new: &NewRecord) -> Result<Added> {
    let rb = records::rulebook(db, org)?;
    let a = records::validate_achievement(
        &rb,
        actor.at.date_naive(),
        new.msa,
        new.code,
        new.earned,
        new.expires,
    )
    .map_err(|e| bad_input(format!("--{e}")))?;
    let recorded = records::add_achievement(db, org, actor, &a)?;
    // A changed expiry can break a competency wherever the MSA now counts; a new record can
    // meet one again.
    let change = effects::Change::Achievement {
        msa: &a.msa,
        code: &a.code,
        recorded,
    };
    let alerts = effects::alerts(effects::after(db, org, actor, &change)?);
    let link = db.open_link_for_msa(&a.msa)?;
    Ok(Added {
        retired_before: retired_before_earned(&rb, &a.code, a.earned),
        linked: link.filter(|l| l.org_id == org.id),
        achievement: a,
        recorded,
        alerts,
    })
}

/// Removes every record of `code` for `msa` and re-evaluates; returns how many records
/// went and the alerts raised.
pub fn remove(
    db: &Db,
    org: &Org,
    actor: &Actor,
    msa: &str,
    code: &str,
) -> Result<(usize, Vec<Alert>)> {
    let rb = records::rulebook(db, org)?;
    let n = records::remove_achievement(db, org, actor, &rb, msa, code)?;
    let msa = msa.trim().to_lowercase();
    let change = effects::Change::AchievementRemoved {
        msa: &msa,
        code: code.trim(),
    };
    let alerts = effects::alerts(effects::after(db, org, actor, &change)?);
    Ok((n, alerts))
}

/// Whose records to list.
pub enum Whose<'a> {
    /// Every MSA currently associated with the organization's accounts.
    All,
    /// This account's MSA (user name or e-mail).
    User(&'a str),
    /// This MSA's.
    Msa(&'a str),
}

/// One listed record, with the engine's answers.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The MSA.
    pub msa: String,
    /// The account it is associated with here, if any.
    pub username: Option<String>,
    /// The catalogue code.
    pub code: String,
    /// The catalogue kind (`exam`, `certification`, `assessment`), `unknown` outside it.
    pub kind: &'static str,
    /// The day earned.
    pub earned: NaiveDate,
    /// The first day it no longer counts: the engine's date (own expiry, else earned +
    /// valid days, or the end of a retired exam's grace, whichever is first).
    pub expires: Option<NaiveDate>,
    /// Whether it counts at the instant asked.
    pub counts: bool,
    /// Why it does not count, when that is known (`retired … before it was earned`, or
    /// `pending until …` while its progress delay runs).
    pub reason: Option<String>,
    /// Not counting yet only because of the progress delay (SPEC §5): the instant it starts
    /// counting.
    pub pending_until: Option<DateTime<Utc>>,
}

/// Lists records at `now`; with `expiring_within`, only those whose engine expiry falls
/// within that many days from today. Loads only the MSAs asked about.
pub fn list(
    db: &Db,
    org: &Org,
    whose: &Whose,
    now: DateTime<Utc>,
    expiring_within: Option<u32>,
) -> Result<Vec<Listed>> {
    let rb = records::rulebook(db, org)?;
    let msa = match whose {
        Whose::User(u) => {
            let u = accounts::find(db, org, u)?;
            Some(
                u.msa
                    .ok_or_else(|| bad_input(format!("{} has no MSA linked", u.username)))?,
            )
        }
        Whose::Msa(m) => {
            let m = m.trim().to_lowercase();
            // Another organization's person: not ours to see (SPEC §4), nor whose it is.
            if records::foreign_msa(db, org, &m)?.is_some() {
                return Err(refused(format!(
                    "{m} is associated with an account of another organization: {} sees only \
                     the achievements of its own people's MSAs (or of MSAs associated with no \
                     account)",
                    org.name
                )));
            }
            Some(m)
        }
        Whose::All => None,
    };
    let rows = db.achievements(org.id, msa.as_deref())?;
    // Whether each record counts now is the engine's answer, for the MSA's current
    // association with this organization.
    let people = db.associations(org.id, msa.as_deref())?;
    let active: std::collections::HashMap<&str, &Person> = people
        .iter()
        .filter(|p| association_active(p, now))
        .map(|p| (p.msa.as_str(), p))
        .collect();
    let today = now.date_naive();
    let until = expiring_within
        .map(|days| crate::support::clock::add_days(today, days).unwrap_or(NaiveDate::MAX));
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let record = Achievement {
            code: r.code.as_str().into(),
            earned: r.earned,
            expires: r.expires,
            removed: None,
        };
        // Shown: never past the program's last day (a pass in 9990 valid for 100 years).
        let expires = counts_until(&rb, &record).map(crate::support::clock::capped);
        if let Some(until) = until {
            match expires {
                Some(e) if e >= today && e <= until => {}
                _ => continue,
            }
        }
        let person = active.get(r.msa.as_str());
        let counts = person.is_some_and(|p| achievement_counts(&rb, p, &record, now));
        let pending_until = person
            .filter(|_| !counts)
            .and_then(|p| pending::pending_until(&rb, p, &record, now));
        let reason = retired_before_earned(&rb, &r.code, r.earned)
            .map(|d| format!("retired {d} before it was earned"))
            .or_else(|| pending_until.map(|t| format!("pending until {}", pending::instant(t))));
        out.push(Listed {
            kind: rb
                .catalog_entry(&r.code)
                .map_or("unknown", |e| e.kind.as_str()),
            reason,
            pending_until,
            msa: r.msa,
            username: r.username,
            code: r.code,
            earned: r.earned,
            expires,
            counts,
        });
    }
    Ok(out)
}
