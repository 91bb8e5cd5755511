//! `achievements …`: exams, certifications and assessments of MSAs.

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;

use super::Ctx;

mod reconcile;
mod renewals;
use crate::domain::achievements::{self, NewRecord, Whose};
use crate::output::{Report, Table, csv_bool};
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
        after_help = "Examples:\n  competency achievements import Export_trainings_Lifetime_1234567_Contoso_Ltd.csv --create-users\n  competency achievements import Export_trainings_Lifetime_1234567_Contoso_Ltd.csv --create-users --linked-since 2026-07-01\n  competency achievements import trainings.tsv --link-users --date-order dmy\n  competency achievements import exams.csv --skip-invalid"
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
    /// The certifications that expire soon, when their free renewal opens, and what each
    /// carries: every competency level (and designation) whose standing changes if it
    /// lapses. By default only those something relies on; --all lists the rest too.
    #[command(
        after_help = "Examples:\n  competency achievements renewals\n  competency achievements renewals --within 365 --all --format csv > renewals.csv\n  competency achievements renewals --user ann@contoso.com"
    )]
    Renewals {
        /// Certifications expiring within this many days from now.
        #[arg(long, value_name = "DAYS", value_parser = crate::support::clock::parse_days,
              default_value_t = crate::domain::renewals::DEFAULT_WITHIN_DAYS)]
        within: u32,
        /// Only this user's (user name or e-mail).
        #[arg(long)]
        user: Option<String>,
        /// Also the certifications nothing relies on.
        #[arg(long)]
        all: bool,
    },
    /// Compare a full-history ("Lifetime") Partner Center Trainings report with the
    /// organization, changing nothing: achievements that count here and are absent from the
    /// report (the person left or unlinked in Partner Center), people of the report with no
    /// account, expiries that differ, titles in no catalogue entry. Exit 0 when nothing
    /// differs, 3 otherwise.
    #[command(
        after_help = "Examples:\n  competency achievements reconcile Export_trainings_Lifetime_1234567_Contoso_Ltd.csv\n  competency achievements reconcile trainings.tsv --format csv > differences.csv"
    )]
    Reconcile {
        /// The Trainings report exactly as downloaded (Insights → Downloads → Trainings,
        /// Lifetime).
        #[arg(value_name = "REPORT")]
        report: std::path::PathBuf,
        /// The day/month order of its DD/MM/YYYY dates, needed only when no date in the
        /// file has a day above 12 [default: taken from the file].
        #[arg(long, value_enum, value_name = "ORDER")]
        date_order: Option<crate::domain::import::trainings::DateOrder>,
        /// The encoding of a report without a byte-order mark: `windows-1252` for Excel's
        /// "CSV (Comma delimited)", `utf-16` for its "Unicode text" [default: utf-8].
        #[arg(long, value_enum, value_name = "ENCODING")]
        encoding: Option<crate::domain::import::Encoding>,
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
            let new = NewRecord {
                msa: &msa,
                code: &code,
                earned: &earned,
                expires: expires.as_deref(),
            };
            let added = ctx.write_org(|db, org| achievements::add(db, org, &actor, &new))?;
            super::membership::print_alerts(&added.alerts);
            let a = &added.achievement;
            if let Some(retired) = added.retired_before {
                ctx.warn(format!(
                    "{} was retired on {retired}, before this pass (earned {}): it is recorded \
                     but never counts",
                    a.code, a.earned
                ));
            }
            if added.linked.is_none() {
                ctx.warn(format!(
                    "{} is not linked to an account of this organization: the achievement counts once it is",
                    a.msa
                ));
            }
            let what = match added.recorded {
                Recorded::Added => "added",
                Recorded::Updated => "updated",
                Recorded::Unchanged => "unchanged (already recorded)",
            };
            Ok(Report::new(AddedView {
                msa: &a.msa,
                code: &a.code,
                earned: a.earned.to_string(),
                expires: a.expires.map(|d| d.to_string()),
                result: what.split(' ').next(),
            })
            .text(format!("{} {} earned {}: {what}", a.msa, a.code, a.earned)))
        }
        AchievementsCmd::Import(a) => super::import::achievements(a, ctx),
        AchievementsCmd::List {
            user,
            msa,
            expiring_within,
        } => {
            let now = ctx.clock.now();
            let whose = match (&user, &msa) {
                (Some(u), _) => Whose::User(u),
                (None, Some(m)) => Whose::Msa(m),
                (None, None) => Whose::All,
            };
            let rows =
                ctx.read_org(|db, org| achievements::list(db, org, &whose, now, expiring_within))?;
            let mut t = Table::new(&["MSA", "User", "Code", "Kind", "Earned", "Expires", "Counts"]);
            let mut csv = Table::new(&[
                "msa", "username", "code", "kind", "earned", "expires", "counts", "reason",
            ]);
            let mut j = Vec::with_capacity(rows.len());
            for r in &rows {
                let expires = r.expires.map(|d| d.to_string());
                t.row([
                    r.msa.clone(),
                    r.username.clone().unwrap_or_default(),
                    r.code.clone(),
                    r.kind.to_owned(),
                    r.earned.to_string(),
                    expires.clone().unwrap_or_default(),
                    match (&r.reason, r.counts) {
                        (_, true) => "yes".to_owned(),
                        (Some(why), false) => format!("no: {why}"),
                        (None, false) => "no".to_owned(),
                    },
                ]);
                csv.row([
                    r.msa.clone(),
                    r.username.clone().unwrap_or_default(),
                    r.code.clone(),
                    r.kind.to_owned(),
                    r.earned.to_string(),
                    expires.clone().unwrap_or_default(),
                    csv_bool(r.counts),
                    r.reason.clone().unwrap_or_default(),
                ]);
                j.push(ListedView {
                    msa: &r.msa,
                    username: r.username.as_deref(),
                    code: &r.code,
                    kind: r.kind,
                    earned: r.earned.to_string(),
                    expires,
                    counts: r.counts,
                    reason: r.reason.as_deref(),
                    pending_until: r.pending_until,
                });
            }
            Ok(Report::new(j).table(t).csv(csv))
        }
        AchievementsCmd::Renewals { within, user, all } => {
            renewals::run(ctx, within, user.as_deref(), all)
        }
        AchievementsCmd::Reconcile {
            report,
            date_order,
            encoding,
        } => reconcile::run(ctx, report, date_order, encoding),
        AchievementsCmd::Remove { msa, code } => {
            let actor = ctx.actor();
            let (n, alerts) =
                ctx.write_org(|db, org| achievements::remove(db, org, &actor, &msa, &code))?;
            super::membership::print_alerts(&alerts);
            Ok(Report::new(RemovedView {
                msa: msa.trim().to_lowercase(),
                code: code.trim(),
                removed: n,
            })
            .text(format!(
                "Removed {n} record(s) of {} for {}",
                code.trim(),
                msa.trim()
            )))
        }
    }
}

/// `achievements add --format json` (SPEC §8).
#[derive(Serialize)]
struct AddedView<'a> {
    msa: &'a str,
    code: &'a str,
    earned: String,
    expires: Option<String>,
    result: Option<&'a str>,
}

/// One record of `achievements list --format json` (SPEC §8).
#[derive(Serialize)]
struct ListedView<'a> {
    msa: &'a str,
    username: Option<&'a str>,
    code: &'a str,
    kind: &'a str,
    earned: String,
    expires: Option<String>,
    counts: bool,
    reason: Option<&'a str>,
    /// Not counting yet only because of the progress delay: the instant it starts counting.
    pending_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// `achievements remove --format json` (SPEC §8).
#[derive(Serialize)]
struct RemovedView<'a> {
    msa: String,
    code: &'a str,
    removed: usize,
}
