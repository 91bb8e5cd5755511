//! `achievements …`: exams, certifications and assessments of MSAs.

use anyhow::Result;
use chrono::NaiveDate;
use clap::Subcommand;
use serde_json::json;

use super::Ctx;
use crate::domain::accounts as svc;
use crate::domain::records;
use crate::error::bad_input;
use crate::output::{Report, Table, csv_bool};
use crate::rules::engine::{
    achievement_counts, association_active, counts_until, retired_before_earned,
};
use crate::rules::snapshot::{Achievement, Person};
use crate::store::Recorded;

/// Achievement commands.
#[derive(Debug, Subcommand)]
pub enum AchievementsCmd {
    /// Record an achievement of an MSA (the same MSA, code and date again changes nothing).
    /// Only for MSAs associated with this organization's accounts or with none.
    #[command(
        after_help = "Examples:\n  competency achievements add --msa ada@outlook.com --code 70-533 --earned 2026-01-15"
    )]
    Add {
        /// The Microsoft account.
        #[arg(long)]
        msa: String,
        /// The catalogue code (e.g. 70-533).
        #[arg(long)]
        code: String,
        /// The day it was earned (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        earned: String,
        /// The day it expires, when the record has its own expiry.
        #[arg(long, value_name = "DATE")]
        expires: Option<String>,
    },
    /// Import achievements from a CSV file (`msa`, `code`, `earned`, optional `expires`) or
    /// from the Partner Center Trainings report exactly as downloaded (Insights → Downloads
    /// → Trainings; CSV or TSV, recognised by its header). All or nothing unless
    /// --skip-invalid; rows already recorded are unchanged.
    #[command(
        after_help = "Examples:\n  competency achievements import Export_trainings_Lifetime_1234567_Contoso_Ltd.csv --create-users\n  competency achievements import trainings.tsv --link-users --date-order dmy\n  competency achievements import exams.csv --skip-invalid"
    )]
    Import(super::import::AchievementsImportArgs),
    /// List achievements of the organization's people (or of one user or MSA).
    List {
        /// Only this user's (user name or e-mail).
        #[arg(long, conflicts_with = "msa")]
        user: Option<String>,
        /// Only this MSA's.
        #[arg(long)]
        msa: Option<String>,
        /// Only those expiring within this many days from now.
        #[arg(long, value_name = "DAYS", value_parser = crate::support::clock::parse_days)]
        expiring_within: Option<u32>,
    },
    /// Remove an MSA's records of a code (only for MSAs associated with this organization's
    /// accounts or with none).
    Remove {
        /// The Microsoft account.
        #[arg(long)]
        msa: String,
        /// The catalogue code.
        #[arg(long)]
        code: String,
    },
}

/// Runs an `achievements` command.
pub fn run(cmd: AchievementsCmd, ctx: &mut Ctx) -> Result<Report> {
    match cmd {
        AchievementsCmd::Add {
            msa,
            code,
            earned,
            expires,
        } => {
            let actor = ctx.actor();
            let today = ctx.clock.today();
            let (a, r, linked, alerts, rb) = ctx.write_org(|db, org| {
                let rb = records::rulebook(db, org)?;
                let a = records::validate_achievement(
                    &rb,
                    today,
                    &msa,
                    &code,
                    &earned,
                    expires.as_deref(),
                )
                .map_err(|e| bad_input(format!("--{e}")))?;
                let r = records::add_achievement(db, org, &actor, &a)?;
                let link = db.open_link_for_msa(&a.msa)?;
                // A changed expiry can break a competency wherever the MSA now counts.
                let mut alerts = Vec::new();
                if r == Recorded::Updated
                    && let Some(l) = &link
                {
                    let owner = if l.org_id == org.id {
                        org.clone()
                    } else {
                        db.org_by_id(l.org_id)?
                    };
                    let cause = format!("achievement {} of {} changed", a.code, a.msa);
                    alerts =
                        crate::domain::membership::reevaluate(db, &owner, &actor, Some(&cause))?;
                }
                let linked = link.filter(|l| l.org_id == org.id);
                Ok((a, r, linked, alerts, rb))
            })?;
            super::membership::print_alerts(&alerts);
            if let Some(retired) = retired_before_earned(&rb, &a.code, a.earned) {
                ctx.warn(format!(
                    "{} was retired on {retired}, before this pass (earned {}): it is recorded \
                     but never counts",
                    a.code, a.earned
                ));
            }
            if linked.is_none() {
                ctx.warn(format!(
                    "{} is not linked to an account of this organization: the achievement counts once it is",
                    a.msa
                ));
            }
            let what = match r {
                Recorded::Added => "added",
                Recorded::Updated => "updated",
                Recorded::Unchanged => "unchanged (already recorded)",
            };
            Ok(Report::new(
                json!({"msa": a.msa, "code": a.code, "earned": a.earned.to_string(),
                "expires": a.expires.map(|d| d.to_string()), "result": what.split(' ').next()}),
            )
            .text(format!("{} {} earned {}: {what}", a.msa, a.code, a.earned)))
        }
        AchievementsCmd::Import(a) => super::import::achievements(a, ctx),
        AchievementsCmd::List {
            user,
            msa,
            expiring_within,
        } => {
            let today = ctx.clock.today();
            let now = ctx.clock.now();
            let (rows, rb, snap) = ctx.read_org(|db, org| {
                let rb = records::rulebook(db, org)?;
                let msa = match (&user, &msa) {
                    (Some(u), _) => {
                        let u = svc::find(db, org, u)?;
                        Some(u.msa.ok_or_else(|| {
                            bad_input(format!("{} has no MSA linked", u.username))
                        })?)
                    }
                    (None, Some(m)) => Some(m.trim().to_lowercase()),
                    (None, None) => None,
                };
                Ok((
                    db.achievements(org.id, msa.as_deref())?,
                    rb,
                    db.snapshot(org.id, org.market)?,
                ))
            })?;
            // Whether each record counts now is the engine's answer, for the MSA's current
            // association with this organization.
            let people: std::collections::HashMap<&str, &Person> = snap
                .people
                .iter()
                .filter(|p| association_active(p, now))
                .map(|p| (p.msa.as_str(), p))
                .collect();
            let mut t = Table::new(&["MSA", "User", "Code", "Kind", "Earned", "Expires", "Counts"]);
            let mut csv = Table::new(&[
                "msa", "username", "code", "kind", "earned", "expires", "counts", "reason",
            ]);
            let mut j = Vec::new();
            for r in rows {
                let entry = rb.catalog_entry(&r.code);
                let record = Achievement {
                    code: r.code.as_str().into(),
                    earned: r.earned,
                    expires: r.expires,
                    removed: None,
                };
                // The engine's date: the record's expiry, else earned + valid_days, or the
                // end of a retired exam's grace, whichever is first.
                let expires = counts_until(&rb, &record);
                if let Some(days) = expiring_within {
                    let until =
                        crate::support::clock::add_days(today, days).unwrap_or(NaiveDate::MAX);
                    match expires {
                        Some(e) if e >= today && e <= until => {}
                        _ => continue,
                    }
                }
                let kind = entry.map_or("unknown", |e| e.kind.as_str());
                let counts = people
                    .get(r.msa.as_str())
                    .is_some_and(|p| achievement_counts(&rb, p, &record, now));
                let reason = retired_before_earned(&rb, &r.code, r.earned)
                    .map(|d| format!("retired {d} before it was earned"));
                t.row([
                    r.msa.clone(),
                    r.username.clone().unwrap_or_default(),
                    r.code.clone(),
                    kind.to_owned(),
                    r.earned.to_string(),
                    expires.map(|d| d.to_string()).unwrap_or_default(),
                    match (&reason, counts) {
                        (_, true) => "yes".to_owned(),
                        (Some(why), false) => format!("no: {why}"),
                        (None, false) => "no".to_owned(),
                    },
                ]);
                csv.row([
                    r.msa.clone(),
                    r.username.clone().unwrap_or_default(),
                    r.code.clone(),
                    kind.to_owned(),
                    r.earned.to_string(),
                    expires.map(|d| d.to_string()).unwrap_or_default(),
                    csv_bool(counts),
                    reason.clone().unwrap_or_default(),
                ]);
                j.push(
                    json!({"msa": r.msa, "username": r.username, "code": r.code, "kind": kind,
                    "earned": r.earned.to_string(), "expires": expires.map(|d| d.to_string()), "counts": counts,
                    "reason": reason}),
                );
            }
            Ok(Report::new(j).table(t).csv(csv))
        }
        AchievementsCmd::Remove { msa, code } => {
            let actor = ctx.actor();
            let (n, alerts) = ctx.write_org(|db, org| {
                let rb = records::rulebook(db, org)?;
                let n = records::remove_achievement(db, org, &actor, &rb, &msa, &code)?;
                let cause = format!(
                    "achievement {} of {} removed",
                    code.trim(),
                    msa.trim().to_lowercase()
                );
                let alerts = crate::domain::membership::reevaluate(db, org, &actor, Some(&cause))?;
                Ok((n, alerts))
            })?;
            super::membership::print_alerts(&alerts);
            Ok(Report::new(
                json!({"msa": msa.trim().to_lowercase(), "code": code.trim(), "removed": n}),
            )
            .text(format!(
                "Removed {n} record(s) of {} for {}",
                code.trim(),
                msa.trim()
            )))
        }
    }
}
