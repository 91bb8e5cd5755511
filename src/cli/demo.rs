//! `demo`: builds a realistic sample organization in a database of its own and walks
//! through the main job — import, progress, the upgrade to Silver, an employee leaving, the
//! alert, the cron check and what to do next.
//!
//! The data are the CSV files `data/demo-*.csv` (embedded in the binary, so the demo runs
//! anywhere). Their dates are written as of [`DEMO_BASE`] and shifted so that the import
//! happens three days before the command's instant: the story ends "now" on any date, and
//! the database stays meaningful for commands run afterwards.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use clap::Args;
use serde_json::json;

use super::Ctx;
use crate::domain::accounts::{self, Actor};
use crate::domain::credentials::CredentialsFile;
use crate::domain::import::{self, Options, Summary};
use crate::domain::judge;
use crate::domain::membership;
use crate::domain::records;
use crate::error::refused;
use crate::output::{Report, Section, Table, number};
use crate::rules::rulebook::DEFAULT_RULEBOOK;
use crate::rules::{Level, Market, gaps};
use crate::store::{Db, NewOrg, Org, Store};
use crate::support::clock::{Clock, rfc3339};
use crate::support::files::Dest;

/// The day the demo files' dates are written relative to: the day of the import.
pub const DEMO_BASE: &str = "2026-01-01";

const USERS: &str = include_str!("../../data/demo-users.csv");
/// The achievements come as admins get them: Partner Center's Trainings report.
const TRAININGS: &str = include_str!("../../data/demo-trainings.csv");
/// The name Partner Center gives the download.
const TRAININGS_FILE: &str = "Export_trainings_Lifetime_4650001_Fabrikam_Consulting.csv";
const PERFORMANCE: &str = include_str!("../../data/demo-performance.csv");

/// The employee who leaves in the story, and the exam that replaces theirs.
const LEAVER: &str = "tomas.herrera@fabrikam.com";

/// `demo` arguments. The database is only ever the one given here on the command line
/// (never `COMPETENCY_DB` or the config file's), and must not exist yet.
#[derive(Debug, Args)]
pub struct DemoArgs {}

/// Normalizes a CSV header as SPEC §6 does: case, spaces, `_` and `-` do not matter.
fn norm(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Moves a file date written as of [`DEMO_BASE`] by `shift` days (a time after it is kept).
fn shifted(date: &str, shift: i64) -> Result<String> {
    if date.is_empty() {
        return Ok(String::new());
    }
    let (date, time) = date.split_at(date.len().min(10));
    let d = crate::support::clock::parse_date(date).map_err(|e| anyhow!("demo data: {e}"))?;
    let d = if shift >= 0 {
        d.checked_add_days(Days::new(shift as u64))
    } else {
        d.checked_sub_days(Days::new(shift.unsigned_abs()))
    };
    Ok(format!(
        "{}{time}",
        d.ok_or_else(|| anyhow!("demo data: date out of range"))?
    ))
}

/// Where the demo writes: the explicit `--db` (refused if it exists) with its files in a
/// new private folder `<stem>-files` beside it (refused if it exists), else a new
/// private folder under the system's temporary folder. Nothing beside PATH is ever
/// written over or through.
fn place(explicit: Option<PathBuf>, now: DateTime<Utc>) -> Result<(PathBuf, PathBuf)> {
    if let Some(db) = explicit {
        if db.symlink_metadata().is_ok() {
            return Err(refused(format!(
                "{} already exists: the demo builds a database of its own; give a new path",
                db.display()
            )));
        }
        let stem = db
            .file_stem()
            .map_or_else(|| "demo".into(), |s| s.to_string_lossy().into_owned());
        let dir = crate::support::files::folder_of(&db).join(format!("{stem}-files"));
        crate::support::files::create_private_dir(&dir)?;
        return Ok((dir, db));
    }
    let dir = std::env::temp_dir().join(format!(
        "competency-demo-{}-{}",
        now.format("%Y%m%dT%H%M%SZ"),
        std::process::id()
    ));
    DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("cannot create the demo folder {}", dir.display()))?;
    let db = dir.join("demo.db");
    Ok((dir, db))
}

/// What the import loaded.
struct Loaded {
    users: usize,
    linked: usize,
    achievements: usize,
    /// Trainings report rows outside the catalogue.
    skipped: usize,
    performance: usize,
}

/// Writes the demo files into the demo folder, their dates moved by `shift` days, so the
/// import reads real files exactly as an administrator's `… import FILE` would.
fn write_files(dir: &Path, db: &Path, shift: i64) -> Result<[PathBuf; 3]> {
    let mut out = Vec::new();
    for (name, text, dates) in [
        ("demo-users.csv", USERS, &[][..]),
        (
            TRAININGS_FILE,
            TRAININGS,
            &["trainingcompletiondate", "expirationdate"][..],
        ),
        ("demo-performance.csv", PERFORMANCE, &["date"][..]),
    ] {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let headers = r.headers()?.clone();
        let date_cols: Vec<usize> = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| dates.contains(&norm(h).as_str()))
            .map(|(i, _)| i)
            .collect();
        let path = dir.join(name);
        crate::support::files::refuse_database_path(&path, db)?;
        let file = crate::support::files::create_private(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = csv::Writer::from_writer(file);
        w.write_record(&headers)?;
        for rec in r.records() {
            let rec = rec.with_context(|| format!("data/{name}"))?;
            let row: Vec<String> = rec
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    if date_cols.contains(&i) {
                        shifted(v.trim(), shift)
                    } else {
                        Ok(v.to_owned())
                    }
                })
                .collect::<Result<_>>()?;
            w.write_record(&row)?;
        }
        w.flush()?;
        out.push(path);
    }
    Ok(out.try_into().expect("three files"))
}

/// Imports the demo files with the bulk importers (`users import`, `achievements import`,
/// `performance import`), in one transaction; any bad row fails the demo.
fn load(
    db: &Db,
    org: &Org,
    actor: &Actor,
    creds: &mut CredentialsFile,
    files: &[PathBuf; 3],
) -> Result<Loaded> {
    let rb = records::rulebook(db, org)?;
    let today = actor.at.date_naive();
    let opts = |file: &PathBuf| Options {
        file: file.clone(),
        skip_invalid: false,
        dry_run: false,
        progress: crate::domain::progress::none(),
    };
    let all_valid = |s: &Summary| -> Result<()> {
        if s.rejected > 0 {
            return Err(anyhow!("demo data: {}", s.errors.join("; ")));
        }
        Ok(())
    };
    let o = opts(&files[0]);
    let mut input = import::users::open(&o)?;
    let users = import::users::import(db, org, actor, &o, &mut input, Some(creds), None)?;
    all_valid(&users)?;
    let o = opts(&files[1]);
    let sniffed = import::trainings::sniff(&o.file)?
        .ok_or_else(|| anyhow!("demo data: not a Trainings report"))?;
    let (achievements, _) = import::trainings::import(
        db,
        org,
        &rb,
        actor,
        today,
        &o,
        sniffed,
        None,
        import::trainings::Linking::default(),
        None,
        None,
    )?;
    all_valid(&achievements)?;
    let o = opts(&files[2]);
    let mut input = import::performance::open(&o)?;
    let scopes = records::ScopeRules::new(&rb);
    let performance =
        import::performance::import(db, org, &scopes, actor, today, &o, &mut input, None)?;
    all_valid(&performance)?;
    for s in [&users, &achievements, &performance] {
        db.audit(
            Some(org.id),
            actor.at,
            &actor.name,
            &format!("{}.import", s.kind),
            &s.file,
            &s.audit_detail(),
        )?;
    }
    let linked = db.org_counts(org.id)?.2 as usize;
    Ok(Loaded {
        users: users.added as usize,
        linked,
        achievements: achievements.added as usize,
        skipped: achievements.skipped as usize,
        performance: performance.added as usize,
    })
}

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

    let mut store = Store::create(&db_path)?;
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
    let (org, loaded) = store.write(|db| {
        let id = db.insert_org(
            &NewOrg {
                partner_id: "4650001",
                name: "Fabrikam Consulting",
                slug: "fabrikam",
                domain: "fabrikam.onmicrosoft.com",
                market: Market::Developed,
                rulebook: DEFAULT_RULEBOOK,
            },
            import.at,
        )?;
        db.audit(
            Some(id),
            import.at,
            &import.name,
            "org.init",
            "fabrikam",
            "demo organization (competency demo)",
        )?;
        let org = db.org_by_id(id)?;
        let loaded = load(db, &org, &import, &mut creds, &files)?;
        creds.sync()?;
        Ok((org, loaded))
    })?;
    let creds_path = creds.keep()?;

    let mut r = Report::new(json!(null))
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
    let judged = store.read(|db| judge::judge(db, &org, t_progress))?;
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
    let bought = store.write(|db| membership::upgrade(db, &org, &up, Level::Silver))?;
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
    let (removed, alerts) = store.write(|db| {
        let removed = accounts::remove(db, &org, &leave, LEAVER, "left the company")?;
        let cause = format!("user {} removed", removed.user.username);
        let alerts = membership::reevaluate(db, &org, &leave, Some(&cause))?;
        Ok((removed, alerts))
    })?;
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
    let check = store.write(|db| membership::check(db, &org, &check_actor))?;
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
    let snapshot = store.read(|db| db.snapshot(org.id, org.market))?;
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
    r.json = json!({
        "db": db_path.display().to_string(),
        "credentials_file": creds_path.display().to_string(),
        "organization": org.name,
        "imported": {"users": loaded.users, "linked": loaded.linked,
                     "achievements": loaded.achievements, "performance": loaded.performance},
        "met": judged.eval.competencies.iter().filter(|c| c.achieved.is_some())
            .map(|c| json!({"id": c.id, "level": c.achieved.map_or("none", Level::as_str)}))
            .collect::<Vec<_>>(),
        "upgrade": {"level": "silver", "fee_usd": bought.purchase.fee_usd,
                    "anniversary": bought.purchase.anniversary.to_string()},
        "removed": removed.user.username,
        "alerts": alerts.iter().map(super::membership::alert_json).collect::<Vec<_>>(),
        "check": {"status": check.status.as_str(), "exit": exit, "at": rfc3339(now)},
    });
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
