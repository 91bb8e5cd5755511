//! The command line: global options, the context every command gets, and dispatch.
//!
//! One file per command group; each is thin: parse, call the domain, hand a [`Report`] to
//! the output module. The database is opened once here and passed down.

mod achievements;
mod audit;
mod competencies;
mod config;
mod copy;
mod demo;
mod designations;
mod doctor;
mod employee;
mod import;
mod init;
mod man;
mod membership;
mod org;
mod performance;
pub mod progress;
mod report;
mod rules;
mod rules_diff;
mod users;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::domain::Actor;
use crate::output::{Format, Report, Style};
use crate::store::{Db, Org, Store};
use crate::support::clock::{Clock, parse_instant};
use crate::support::terminal::message;
use config::{default_db, load_config};

/// Administer partner-program competencies: users, Microsoft accounts, achievements,
/// rulebooks and membership.
///
/// Exit codes: 0 success; 1 error (bad input, not found, refused, database problem);
/// 2 usage error; 3, 4, 5 from `membership check` (warning, at risk, no membership);
/// 130 interrupted by Ctrl-C (nothing was changed).
#[derive(Debug, Parser)]
#[command(
    name = "competency",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// The SQLite database file, or a PostgreSQL URL postgres://USER@HOST[:PORT]/DB (password
    /// from PGPASSWORD) [default: `db` in the config file, else
    /// $XDG_DATA_HOME/competency/competency.db].
    #[arg(long, global = true, env = "COMPETENCY_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Organization by partner ID or slug [default: config `org`, else the only one].
    #[arg(long, global = true, env = "COMPETENCY_ORG", value_name = "ORG")]
    pub org: Option<String>,

    /// Act at this instant: RFC 3339 (2026-03-01T09:00:00Z) or a date (midnight UTC)
    /// [default: the system clock].
    #[arg(long, global = true, env = "COMPETENCY_NOW", value_name = "TIME", value_parser = parse_instant)]
    pub now: Option<DateTime<Utc>>,

    /// Output format: tables for people (wrapped to the terminal between words), json or
    /// csv for scripts (csv: one row per record, raw numbers, ISO dates, true/false).
    #[arg(long, global = true, value_enum, default_value_t = Format::Table, value_name = "F")]
    pub format: Format,

    /// No progress bars or informational lines on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Plain output without colours (also when NO_COLOR is set).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database if needed and an organization in it.
    #[command(
        after_help = "Examples:\n  competency init --name 'Contoso Ltd' --partner-id 1234567\n  competency --db /srv/competency/contoso.db init --name 'Contoso Ltd' --partner-id 1234567 --rulebook my-rules.toml"
    )]
    Init(init::InitArgs),
    /// Organizations in the database.
    #[command(subcommand)]
    Org(org::OrgCmd),
    /// User accounts.
    #[command(subcommand, visible_alias = "user")]
    Users(users::UsersCmd),
    /// Add a user account (same as `users add`).
    #[command(
        after_help = "Examples:\n  competency add-user --name 'Ada Lovelace' --email ada@contoso.com --role mpn-admin"
    )]
    AddUser(users::AddArgs),
    /// Exams, certifications and assessments of Microsoft accounts.
    #[command(subcommand, visible_alias = "achievement")]
    Achievements(achievements::AchievementsCmd),
    /// The organization's performance records.
    #[command(subcommand)]
    Performance(performance::PerformanceCmd),
    /// Where the organization stands: levels met, progress, gaps, risk.
    #[command(subcommand, visible_alias = "competency")]
    Competencies(competencies::CompetenciesCmd),
    /// Employee self-service: passwords and linking a Microsoft account.
    ///
    /// Trust boundary: these commands stand in for the partner portal's sign-in. They
    /// authenticate the employee against the administrator's own database, which protects
    /// an account from other employees, not from the database: anyone who can write the
    /// database can do anything. After 5 failed sign-ins within 15 minutes an account is
    /// locked until the window passes. A new password needs 12+ characters and must not
    /// be the user name or e-mail, one of the 10,000 most common passwords, one repeated
    /// character or a run like abcdefghijkl.
    #[command(subcommand)]
    Employee(employee::EmployeeCmd),
    /// The rulebook in use: show, validate, import, export.
    #[command(subcommand)]
    Rules(rules::RulesCmd),
    /// The membership: status, upgrade, renew, business profile, renewal check, alerts,
    /// benefits, what-if.
    #[command(subcommand)]
    Membership(membership::MembershipCmd),
    /// Solutions Partner designations: scores, gaps, what-if, enrolment, renewal, alerts.
    #[command(subcommand, visible_alias = "designation")]
    Designations(designations::DesignationsCmd),
    /// Check the database: integrity, foreign keys, schema version, permissions, folder and
    /// owners, rulebooks; settles credentials files killed commands left under a temporary
    /// name: named when their accounts were created, removed when not.
    Doctor,
    /// Copy the database consistently while others may use it (mode 0600).
    Backup {
        /// The new file to write.
        path: PathBuf,
    },
    /// Copy every organization with its full history (audit included, ids kept) into an
    /// empty database; row counts are verified, and a failed copy changes nothing.
    Copy(copy::CopyArgs),
    /// Build a sample organization in a new database of its own and walk through the main
    /// job: import, progress, upgrade, an employee leaving, the alert, the check. Uses only a
    /// `--db` given on the command line (refusing an existing file; its files go to a new
    /// private folder `<name>-files` beside it), else a new temporary folder; never
    /// COMPETENCY_DB or the config file's database.
    Demo(demo::DemoArgs),
    /// The audit trail: every change, who made it and when.
    Audit(audit::AuditArgs),
    /// Write a one-page HTML report for partner managers (self-contained, mode 0600):
    /// membership, competencies, alerts, renewal timeline, bus factor.
    Report(report::ReportArgs),
    /// Write the manual pages (competency.1 and one per subcommand) into a folder.
    #[command(
        after_help = "Examples:\n  competency man --out ~/.local/share/man/man1\n  man competency-membership-check"
    )]
    Man(man::ManArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// What every command gets: the clock, the output style, the database (opened on first
/// use) and the organization selection.
pub struct Ctx {
    /// The command's instant.
    pub clock: Clock,
    /// Output style.
    pub style: Style,
    /// `--quiet`.
    pub quiet: bool,
    /// The OS user, the audit trail's actor.
    pub actor: String,
    db_path: PathBuf,
    org_key: Option<String>,
    store: Option<Store>,
}

impl Ctx {
    /// Who acts, and when.
    pub fn actor(&self) -> Actor {
        Actor {
            name: self.actor.clone(),
            at: self.clock.now(),
        }
    }

    /// The database path.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// The database, created if missing (`init` only; SPEC §2).
    pub fn create_store(&mut self) -> Result<&mut Store> {
        if self.store.is_none() {
            self.store = Some(Store::create(&self.db_path)?);
        }
        Ok(self.store.as_mut().expect("opened above"))
    }

    /// The open database; a missing one is an error and is not created (SPEC §2).
    pub fn store(&mut self) -> Result<&mut Store> {
        if self.store.is_none() {
            self.store = Some(Store::open(&self.db_path)?);
        }
        Ok(self.store.as_mut().expect("opened above"))
    }

    /// Opens the database now: a missing one is an error before a command makes files.
    pub fn open_database(&mut self) -> Result<()> {
        self.store().map(|_| ())
    }

    /// Runs `f` in one write transaction on the open database (no organization selected).
    pub fn write<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        self.store()?.write(f)
    }

    /// Runs `f` in a read transaction on the open database (no organization selected).
    pub fn read<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        self.store()?.read(f)
    }

    /// Runs `f` in one write transaction on the database, created if missing (`init`).
    pub fn write_created<T>(&mut self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        self.create_store()?.write(f)
    }

    /// Prints an informational line on stderr unless `--quiet`.
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            message(msg.as_ref());
        }
    }

    /// Prints a warning on stderr (even with `--quiet`).
    pub fn warn(&self, msg: impl AsRef<str>) {
        message(&format!("warning: {}", msg.as_ref()));
    }

    /// Runs `f` in a read transaction with the selected organization.
    pub fn read_org<T>(&mut self, f: impl FnOnce(&Db, &Org) -> Result<T>) -> Result<T> {
        let key = self.org_key.clone();
        let path = self.db_path.clone();
        self.store()?.read(|db| {
            let org = resolve_org(db, key.as_deref(), &path)?;
            f(db, &org)
        })
    }

    /// Runs `f` in one write transaction with the selected organization; `f` decides
    /// whether to commit (a dry run or a failed all-or-nothing import rolls back).
    pub fn write_org_or_rollback<T>(
        &mut self,
        f: impl FnOnce(&Db, &Org) -> Result<(T, bool)>,
    ) -> Result<T> {
        let key = self.org_key.clone();
        let path = self.db_path.clone();
        let since = self.clock.now();
        let (t, raised) = self.store()?.write_or_rollback(|db| {
            let org = resolve_org(db, key.as_deref(), &path)?;
            let (t, commit) = f(db, &org)?;
            let raised = if commit {
                crate::domain::designations::raised_since(db, &org, since)?
            } else {
                Vec::new()
            };
            Ok(((t, raised), commit))
        })?;
        designations::print_alerts(&raised);
        Ok(t)
    }

    /// Runs `f` in one write transaction with the selected organization.
    pub fn write_org<T>(&mut self, f: impl FnOnce(&Db, &Org) -> Result<T>) -> Result<T> {
        let key = self.org_key.clone();
        let path = self.db_path.clone();
        let since = self.clock.now();
        let (t, raised) = self.store()?.write(|db| {
            let org = resolve_org(db, key.as_deref(), &path)?;
            let t = f(db, &org)?;
            // Designation alerts this command raised (any change that can cost points
            // evaluates the designations too): printed once it has committed.
            let raised = crate::domain::designations::raised_since(db, &org, since)?;
            Ok((t, raised))
        })?;
        designations::print_alerts(&raised);
        Ok(t)
    }
}

/// Resolves the organization: `--org` (partner ID or slug), else the only one; with
/// several and none chosen, an error listing them.
pub fn resolve_org(db: &Db, key: Option<&str>, db_path: &Path) -> Result<Org> {
    crate::domain::orgs::resolve(db, key, db_path)
}

/// The audit trail's actor: the password-database name of the process's real user id
/// (getuid), never `$USER` or `$LOGNAME`, which anyone can set; `uid N` when the id has no
/// entry. Control characters are removed.
fn os_user() -> String {
    let uid = nix::unistd::getuid();
    let name: String = nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if name.is_empty() {
        format!("uid {uid}")
    } else {
        name
    }
}

/// Runs the parsed command line and returns what to print, and how.
pub fn run(cli: Cli) -> Result<(Report, Style)> {
    let mut config = load_config()?;
    if let Some(p) = config.password.take() {
        crate::store::pg::set_config_password(p);
    }
    let db_path = match cli.db.or(config.db) {
        Some(p) => p,
        None => default_db()?,
    };
    // A URL with a password is refused before anything prints or opens it.
    if let Some(url) = db_path.to_str().filter(|p| crate::store::pg::is_url(p)) {
        crate::store::pg::refuse_password(url)?;
    }
    let no_color = cli.no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let tty = std::io::stdout().is_terminal();
    let mut ctx = Ctx {
        clock: cli.now.map_or_else(Clock::system, Clock::fixed),
        style: Style {
            format: cli.format,
            color: tty && !no_color && cli.format == Format::Table,
            tty,
        },
        quiet: cli.quiet,
        actor: os_user(),
        db_path,
        org_key: cli.org.or(config.org),
        store: None,
    };
    let report = match cli.command {
        Command::Demo(a) => demo::run(a, &mut ctx, explicit_db_arg())?,
        command => dispatch(command, &mut ctx)?,
    };
    Ok((report, ctx.style))
}

/// The `--db` typed on the command line, ignoring `COMPETENCY_DB` and the config file: the
/// demo must never write into the user's real database.
fn explicit_db_arg() -> Option<PathBuf> {
    use clap::CommandFactory;
    use clap::parser::ValueSource;
    let m = Cli::command()
        .try_get_matches_from(std::env::args_os())
        .ok()?;
    let mut scopes = vec![&m];
    if let Some((_, sub)) = m.subcommand() {
        scopes.push(sub);
    }
    scopes
        .into_iter()
        .find(|s| s.value_source("db") == Some(ValueSource::CommandLine))
        .and_then(|s| s.get_one::<PathBuf>("db").cloned())
}

fn dispatch(command: Command, ctx: &mut Ctx) -> Result<Report> {
    let ctx = &mut *ctx;
    match command {
        Command::Init(a) => init::run(a, ctx),
        Command::Org(c) => org::run(c, ctx),
        Command::Users(c) => users::run(c, ctx),
        Command::AddUser(a) => users::run(users::UsersCmd::Add(a), ctx),
        Command::Employee(c) => employee::run(c, ctx),
        Command::Audit(a) => audit::run(a, ctx),
        Command::Report(a) => report::run(a, ctx),
        Command::Rules(c) => rules::run(c, ctx),
        Command::Competencies(c) => competencies::run(c, ctx),
        Command::Doctor => doctor::doctor(ctx),
        Command::Backup { path } => doctor::backup(ctx, &path),
        Command::Copy(a) => copy::run(a, ctx),
        Command::Achievements(c) => achievements::run(c, ctx),
        Command::Performance(c) => performance::run(c, ctx),
        Command::Membership(c) => membership::run(c, ctx),
        Command::Designations(c) => designations::run(c, ctx),
        Command::Demo(a) => demo::run(a, ctx, None),
        Command::Man(a) => man::run(a, ctx.db_path()),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            use std::io::Write;
            let mut cmd = Cli::command();
            // Generated into memory first: clap_complete panics on a write error, and a
            // closed pipe (`competency completions bash | head`) is not an error.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "competency", &mut script);
            std::io::stdout().lock().write_all(&script)?;
            Ok(Report::empty())
        }
    }
}
