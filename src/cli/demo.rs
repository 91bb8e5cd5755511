//! `demo`: builds a realistic sample organization in a database of its own and walks
//! through the main job — import, progress, the upgrade to Silver, an employee leaving, the
//! alert, the cron check and what to do next.
//!
//! The data are the CSV files `data/demo-*.csv` (embedded in the binary, so the demo runs
//! anywhere). Their dates are written as of [`DEMO_BASE`] and shifted so that the import
//! happens three days before the command's instant: the story ends "now" on any date, and
//! the database stays meaningful for commands run afterwards.

use std::path::PathBuf;

use anyhow::Result;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use clap::Args;
use serde::Serialize;

use super::Ctx;
use crate::domain::accounts::{self, Actor};
use crate::domain::credentials::CredentialsFile;
use crate::domain::judge;
use crate::domain::membership;
use crate::domain::orgs;
use crate::output::{Report, Section, Table, number};
use crate::rules::rulebook::DEFAULT_RULEBOOK;
use crate::rules::{Level, Market, gaps};
use crate::support::clock::{Clock, rfc3339};
use crate::support::files::Dest;

/// The day the demo files' dates are written relative to: the day of the import.
pub const DEMO_BASE: &str = "2026-01-01";

/// The employee who leaves in the story, and the exam that replaces theirs.
const LEAVER: &str = "tomas.herrera@fabrikam.com";

/// `demo` arguments. The database is only ever the one given here on the command line
/// (never `COMPETENCY_DB` or the config file's), and must not exist yet.
#[derive(Debug, Args)]
pub struct DemoArgs {}

mod data;
use data::{TRAININGS_FILE, load, place, write_files};

fn heading(r: Report, n: u32, title: &str) -> Report {
    let line = format!("{n}. {title}");
    r.text("")
        .text(line.clone())
        .text("=".repeat(line.chars().count()))
}

/// Runs the demo; `explicit_db` is the `--db` given on the command line, if any.
pub fn run(_a: DemoArgs, ctx: &mut Ctx, explicit_db: Option<PathBuf>) -> Result<Report> {
    let now = ctx.clock.now();
    let (dir, db_path) = place(explicit_db, now)?;
    // The demo never touches the user's database or organization selection.
    ctx.db_path = db_path.clone();
    ctx.org_key = None;
    ctx.store = None;
    let actor_name = ctx.actor.clone();
    let at = |t: DateTime<Utc>| Actor {
        name: actor_name.clone(),
        at: t,
    };
    let t_import = now - TimeDelta::days(3);
    let t_progress = now - TimeDelta::days(2);
    let t_upgrade = t_progress + TimeDelta::hours(1);
    let t_leave = now - TimeDelta::days(1);
    let base = NaiveDate::parse_from_str(DEMO_BASE, "%Y-%m-%d").expect("a date");
    let shift = (t_import.date_naive() - base).num_days();
    let db_flag = format!("--db {}", db_path.display());

    ctx.create_store()?;
    let creds_path = dir.join(format!(
        "{}-credentials.csv",
        db_path
            .file_stem()
            .map_or("demo".into(), |s| s.to_string_lossy())
    ));
    let mut creds = CredentialsFile::create(Dest::Exact(creds_path), &db_path, false)?;
    let files = write_files(&dir, &db_path, shift)?;

    // 1. The organization and the import.
    let import = at(t_import);
    let new = orgs::NewOrganization {
        partner_id: "4650001",
        name: "Fabrikam Consulting",
        slug: Some("fabrikam"),
        domain: Some("fabrikam.onmicrosoft.com"),
        market: Market::Developed,
        rulebook: DEFAULT_RULEBOOK,
        origin: orgs::Origin::Demo,
    };
    let (org, loaded) = ctx.write_created(|db| {
        let org = orgs::create(db, &import, &new, &db_path)?;
        let loaded = load(db, &org, &import, &mut creds, &files)?;
        creds.sync()?;
        Ok((org, loaded))
    })?;
    let creds_path = creds.keep()?;

    let mut r = Report::empty()
        .text(format!(
            "A walk through the main job with a sample organization, Fabrikam Consulting, in a \
             database of its own: {}",
            db_path.display()
        ))
        .text("Nothing else is touched. Every command below can be re-run with that --db.");
    r = heading(r, 1, &format!("Import ({})", t_import.date_naive()));
    r = r
        .text(format!(
            "`competency users import demo-users.csv`, `achievements import \
             {TRAININGS_FILE}` (the Trainings report as Partner Center's Insights → Downloads \
             gives it), `performance import demo-performance.csv` (the files are in \
             {}): {} employees added ({} with their Microsoft account linked), {} achievements ({} \
             trainings outside the rulebook's catalogue skipped) \
             and {} performance records.",
            dir.display(),
            loaded.users,
            loaded.linked,
            loaded.achievements,
            loaded.skipped,
            loaded.performance
        ))
        .text(format!(
            "Temporary passwords went to {} (mode 0600), never to the screen.",
            creds_path.display()
        ));

    // 2. Progress, once links and achievements have counted for the progress delay.
    let judged = ctx.read(|db| judge::judge(db, &org, t_progress))?;
    let delay = judged.rulebook.program.progress_delay_hours;
    r = heading(
        r,
        2,
        &format!(
            "Progress, {delay} hours later ({})",
            t_progress.date_naive()
        ),
    );
    r = r.text(format!(
        "Progress shows {delay} hours after an MSA is linked or an achievement earned. \
         `competency {db_flag} competencies list`:"
    ));
    let mut t = Table::new(&["Competency", "Area", "Level met"]);
    let mut met = 0;
    for c in judged
        .eval
        .competencies
        .iter()
        .filter(|c| c.achieved.is_some())
    {
        met += 1;
        t.row([
            c.name.clone(),
            c.area.clone(),
            c.achieved.map_or("none", Level::as_str).to_owned(),
        ]);
    }
    r = r.table(t.titled(format!(
        "{met} of {} competencies met",
        judged.eval.competencies.len()
    )));
    let mut g = Table::new(&["Competency", "Level", "Missing"]);
    for gap in gaps(&judged.rulebook, &judged.snapshot, &judged.eval)
        .iter()
        .filter(|g| {
            judged
                .eval
                .competency(&g.competency)
                .is_some_and(|c| c.achieved.is_some() || g.missing.len() == 1)
        })
        .take(8)
    {
        g.row([
            gap.name.clone(),
            gap.level.as_str().to_owned(),
            gap.missing.join("; "),
        ]);
    }
    r = r.table(g.titled(format!(
        "Closest next steps (`competency {db_flag} competencies gaps`)"
    )));

    // 3. The upgrade.
    let up = at(t_upgrade);
    let bought = ctx.write(|db| membership::upgrade(db, &org, &up, Level::Silver))?;
    r = heading(
        r,
        3,
        &format!("Upgrade to Silver ({})", t_upgrade.date_naive()),
    );
    r = r.text(format!(
        "`competency {db_flag} membership upgrade --level silver`: {} USD, term {} to {}; \
         renewal window {} to {}.",
        number(bought.purchase.fee_usd),
        bought.purchase.term_start,
        bought.purchase.anniversary,
        bought.dates.renewal_opens,
        bought.dates.window_closes()
    ));
    let mut p = Table::new(&["Competency", "Level"]);
    for d in &bought.competencies {
        p.row([d.name.clone(), d.level.as_str().to_owned()]);
    }
    r = r.table(p.titled("The business profile now displays"));

    // 4. An employee leaves.
    let leave = at(t_leave);
    let (removed, alerts) = ctx.write(|db| {
        accounts::remove_and_reevaluate(db, &org, &leave, LEAVER, "left the company")
    })?;
    let alerts = crate::domain::effects::alerts(alerts);
    r = heading(
        r,
        4,
        &format!("An employee leaves ({})", t_leave.date_naive()),
    );
    r = r.text(format!(
        "{} left: `competency {db_flag} users remove {}`. The account is kept as removed, its \
         MSA association ends, and the competencies are re-evaluated at once.",
        removed.user.name, removed.user.username
    ));
    for a in &alerts {
        r = r.text(format!("alert: {}", a.line()));
    }

    // 5. The cron check.
    let check_actor = at(now);
    let check = ctx.write(|db| membership::check(db, &org, &check_actor))?;
    let exit = check.status.exit_code();
    r = heading(r, 5, &format!("The nightly check ({})", now.date_naive()));
    r = r.text(format!(
        "`competency {db_flag} membership check` (what examples/cron-renewal-check.sh runs):"
    ));
    let check_sections = super::membership::check_report(&check).sections;
    r.sections.extend(check_sections);
    r = r.text(format!(
        "Its exit status is {exit} ({}): 0 ok, 3 warning, 4 at risk, 5 no membership — cron \
         mails the administrator on anything but 0.",
        check.status.as_str()
    ));

    // 6. What to do next.
    let comm = alerts.first().map(|a| a.competency.clone());
    r = heading(r, 6, "What to do next");
    let mut next = vec![
        format!(
            "See what is missing: `competency {db_flag} competencies gaps`{}",
            comm.as_deref()
                .map(|c| format!(" or `competency {db_flag} competencies progress {c}`"))
                .unwrap_or_default()
        ),
        format!(
            "Certify a replacement, e.g. `competency {db_flag} achievements add --msa \
             liam.walsh@outlook.com --code 70-333 --earned {}`; the alert closes at the first \
             check {delay} hours later.",
            now.date_naive()
        ),
        format!(
            "Before anyone else leaves: `competency {db_flag} membership what-if --remove-user \
             grace.okafor@fabrikam.com` changes nothing and shows what would be lost."
        ),
        format!(
            "Put `membership check` in cron: examples/cron-renewal-check.sh (with COMPETENCY_DB={}).",
            db_path.display()
        ),
        format!(
            "The demo's files are in {}; delete the folder when done.",
            dir.display()
        ),
    ];
    if !check.expiring.is_empty() {
        next.insert(
            2,
            "Renew the expiring assessments listed above before the anniversary.".to_owned(),
        );
    }
    for (i, n) in next.iter().enumerate() {
        r = r.text(format!("  {}. {n}", i + 1));
    }
    // 7. The same people under the Solutions Partner designations (in memory: the demo's
    // database keeps its rulebook).
    let sp = crate::rules::Rulebook::parse(
        crate::rules::rulebook::SOLUTIONS_PARTNER_RULEBOOK,
        "solutions-partner",
    )?;
    let snapshot = ctx.read(|db| judge::load(db, &org))?.1;
    let scores = crate::rules::designations::score(&sp, &snapshot, now);
    r = heading(
        r,
        7,
        "The same organization under Solutions Partner designations",
    );
    let mut t = Table::new(&["Designation", "Score", "Needed"]);
    for s in &scores {
        t.row([s.name.clone(), number(s.score()), number(s.threshold)]);
    }
    r = r.table(t);
    r = r.text(format!(
        "Scored out of 100 from net customer adds, certified people, usage growth and deployments: `competency {db_flag} rules import solutions-partner`, record the figures (`performance record --metric net-customer-adds --scope azure …`), then `designations score` and `designations gaps` say what each point needs."
    ));
    r.json = serde_json::to_value(DemoView {
        db: db_path.display().to_string(),
        credentials_file: creds_path.display().to_string(),
        organization: &org.name,
        imported: ImportedView {
            users: loaded.users,
            linked: loaded.linked,
            achievements: loaded.achievements,
            performance: loaded.performance,
        },
        met: judged
            .eval
            .competencies
            .iter()
            .filter(|c| c.achieved.is_some())
            .map(|c| MetView {
                id: &c.id,
                level: c.achieved.map_or("none", Level::as_str),
            })
            .collect(),
        upgrade: UpgradeView {
            level: "silver",
            fee_usd: bought.purchase.fee_usd,
            anniversary: bought.purchase.anniversary.to_string(),
        },
        removed: &removed.user.username,
        alerts: alerts.iter().map(super::membership::alert_json).collect(),
        check: CheckView {
            status: check.status.as_str(),
            exit,
            at: rfc3339(now),
        },
    })?;
    // The walk-through is one story: drop the empty line that would open it.
    if let Some(Section::Text(t)) = r.sections.first()
        && t.is_empty()
    {
        r.sections.remove(0);
    }
    // The demo itself succeeds whatever the check said.
    ctx.clock = Clock::fixed(now);
    Ok(r.exit(0))
}

/// `demo --format json` (SPEC §8).
#[derive(Serialize)]
struct DemoView<'a> {
    db: String,
    credentials_file: String,
    organization: &'a str,
    imported: ImportedView,
    met: Vec<MetView<'a>>,
    upgrade: UpgradeView,
    removed: &'a str,
    alerts: Vec<serde_json::Value>,
    check: CheckView,
}

/// What the demo imported.
#[derive(Serialize)]
struct ImportedView {
    users: usize,
    linked: usize,
    achievements: usize,
    performance: usize,
}

/// A competency met, and at which level.
#[derive(Serialize)]
struct MetView<'a> {
    id: &'a str,
    level: &'a str,
}

/// The demo's upgrade.
#[derive(Serialize)]
struct UpgradeView {
    level: &'static str,
    fee_usd: f64,
    anniversary: String,
}

/// The demo's renewal check.
#[derive(Serialize)]
struct CheckView {
    status: &'static str,
    exit: u8,
    at: String,
}
