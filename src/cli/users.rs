//! `users …` and `add-user`: accounts, MSA links, temporary credentials.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::Ctx;
use crate::domain::accounts::{self as svc, AddUser, Linked, LinkedBy, Role};
use crate::domain::credentials::{self, CredentialsFile, OsRandom};
use crate::output::{Report, Table};
use crate::store::UserRow;
use crate::support::clock::rfc3339;
use crate::support::terminal::message;

/// User commands.
#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// Add an account: generated user name, temporary password in a 0600 credentials file.
    #[command(
        after_help = "Examples:\n  competency users add --name 'Ada Lovelace' --email ada@contoso.com --role mpn-admin\n  competency users add --name 'Bob Stone' --email bob@contoso.com --msa bob@outlook.com --credentials-file bob.csv"
    )]
    Add(AddArgs),
    /// Import accounts from a CSV file: `email`; `name`, `display name`, or `first name`
    /// and `last name`; optional `msa` and `role` (`;`-separated). All or nothing unless
    /// --skip-invalid; one credentials file for every new account.
    #[command(
        after_help = "Examples:\n  competency users import staff.csv --credentials-file staff-credentials.csv\n  competency users import staff.csv --dry-run\n  competency users import staff.csv --skip-invalid --rejects bad-rows.csv"
    )]
    Import(super::import::UsersImportArgs),
    /// List accounts (active only unless --all).
    List {
        /// Include removed accounts.
        #[arg(long)]
        all: bool,
    },
    /// Show one account.
    Show {
        /// User name or e-mail: an active account before a removed one; refused as ambiguous
        /// when it is one account's user name and another's e-mail.
        user: String,
    },
    /// The employee left: mark the account removed (history kept) and end its MSA link.
    Remove {
        /// User name or e-mail: an active account before a removed one; refused as ambiguous
        /// when it is one account's user name and another's e-mail.
        user: String,
        /// Why (recorded in the audit trail).
        #[arg(long, value_name = "TEXT", default_value = "")]
        reason: String,
    },
    /// Issue a new temporary password (written to a new credentials file).
    ResetPassword {
        /// User name or e-mail: an active account before a removed one; refused as ambiguous
        /// when it is one account's user name and another's e-mail.
        user: String,
        /// Where to write the credentials [default: credentials-<UTC timestamp>.csv].
        #[arg(long, value_name = "PATH")]
        credentials_file: Option<PathBuf>,
    },
    /// Link a Microsoft account on the employee's behalf (severs it elsewhere).
    #[command(
        after_help = "Examples:\n  competency users link-msa ada@contoso.com --msa ada@outlook.com"
    )]
    LinkMsa {
        /// User name or e-mail: an active account before a removed one; refused as ambiguous
        /// when it is one account's user name and another's e-mail.
        user: String,
        /// The Microsoft account (an e-mail address).
        #[arg(long)]
        msa: String,
        /// Move it from a colleague's account (another account of this organization that
        /// holds it); without it, such a link is refused. Audited.
        #[arg(long = "move")]
        move_from_colleague: bool,
    },
}

/// `users add` arguments.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The employee's name.
    #[arg(long)]
    pub name: String,
    /// The employee's e-mail (unique among active accounts).
    #[arg(long)]
    pub email: String,
    /// A role; repeat for several [default: user].
    #[arg(long, value_enum, value_name = "ROLE")]
    pub role: Vec<Role>,
    /// The employee's Microsoft account, linked at once.
    #[arg(long)]
    pub msa: Option<String>,
    /// Issue a one-time recovery code so the employee can reset the password alone.
    #[arg(long)]
    pub self_service_reset: bool,
    /// Where to write the credentials [default: credentials-<UTC timestamp>.csv].
    #[arg(long, value_name = "PATH")]
    pub credentials_file: Option<PathBuf>,
}

/// Runs a `users` command.
pub fn run(cmd: UsersCmd, ctx: &mut Ctx) -> Result<Report> {
    match cmd {
        UsersCmd::Add(a) => add(a, ctx),
        UsersCmd::Import(a) => super::import::users(a, ctx),
        UsersCmd::List { all } => {
            let users = ctx.read_org(|db, org| svc::list(db, org, all))?;
            Ok(list_report(&users))
        }
        UsersCmd::Show { user } => {
            let u = ctx.read_org(|db, org| svc::find(db, org, &user))?;
            Ok(show_report(&u, ctx.clock.now()))
        }
        UsersCmd::Remove { user, reason } => {
            let actor = ctx.actor();
            let (removed, alerts) = ctx
                .write_org(|db, org| svc::remove_and_reevaluate(db, org, &actor, &user, &reason))?;
            super::membership::print_alerts(&crate::domain::effects::alerts(alerts));
            ctx.info(format!(
                "Removed {}{}",
                removed.user.username,
                removed
                    .msa
                    .as_deref()
                    .map(|m| format!("; the association of {m} ended"))
                    .unwrap_or_default()
            ));
            Ok(Report::new(RemovedView {
                username: &removed.user.username,
                status: "removed",
                msa_unlinked: removed.msa.as_deref(),
            })
            .text(format!("{} removed", removed.user.username)))
        }
        UsersCmd::ResetPassword {
            user,
            credentials_file,
        } => {
            let actor = ctx.actor();
            let dest = credentials::destination(credentials_file, actor.at);
            let mut rng = OsRandom::new();
            // Whether to add the recovery column is known only once the user is found; the
            // file is created first so that an unwritable path changes nothing.
            let self_service = ctx
                .read_org(|db, org| svc::find(db, org, &user))
                .map(|u| u.self_service_reset)?;
            let mut creds = CredentialsFile::create(dest, ctx.db_path(), self_service)?;
            let u = match ctx.write_org(|db, org| {
                let u = svc::reset_password(db, org, &actor, &mut rng, &mut creds, &user)?;
                creds.sync()?;
                Ok(u)
            }) {
                Ok(u) => u,
                Err(e) => return Err(creds.after_failure(e)),
            };
            let path = creds.keep()?;
            ctx.info(format!(
                "New temporary password for {} written to {} (valid until {})",
                u.username,
                path.display(),
                credentials::temporary_expiry(actor.at).date_naive()
            ));
            Ok(Report::new(ResetView {
                username: &u.username,
                credentials_file: path.display().to_string(),
            })
            .fields(vec![
                ("User name", u.username.clone()),
                ("Credentials file", path.display().to_string()),
            ]))
        }
        UsersCmd::LinkMsa {
            user,
            msa,
            move_from_colleague,
        } => {
            let actor = ctx.actor();
            let by = if move_from_colleague {
                LinkedBy::AdminMove
            } else {
                LinkedBy::Admin
            };
            let (username, linked, alerts) =
                ctx.write_org(|db, org| svc::link(db, org, &actor, &user, &msa, by))?;
            report_link(ctx, &username, &linked);
            super::membership::print_org_alerts(&alerts);
            Ok(Report::new(LinkView::new(&username, &linked))
                .text(format!("{} linked to {username}", linked.msa)))
        }
    }
}

fn add(a: AddArgs, ctx: &mut Ctx) -> Result<Report> {
    let actor = ctx.actor();
    // The database first: a missing one is an error before any file is created.
    ctx.open_database()?;
    let dest = credentials::destination(a.credentials_file.clone(), actor.at);
    let mut creds = CredentialsFile::create(dest, ctx.db_path(), a.self_service_reset)?;
    let mut rng = OsRandom::new();
    let req = AddUser {
        name: &a.name,
        email: &a.email,
        roles: &a.role,
        msa: a.msa.as_deref(),
        self_service_reset: a.self_service_reset,
    };
    let (added, alerts) = match ctx.write_org(|db, org| {
        let out = svc::add_and_link(db, org, &actor, &mut rng, &mut creds, &req)?;
        creds.sync()?;
        Ok(out)
    }) {
        Ok(out) => out,
        Err(e) => return Err(creds.after_failure(e)),
    };
    let path = creds.keep()?;
    if let Some(l) = &added.link {
        report_link(ctx, &added.username, l);
    }
    super::membership::print_org_alerts(&alerts);
    ctx.info(format!(
        "Temporary password written to {} (mode 0600, valid until {}; it must be changed at first sign-in)",
        path.display(),
        credentials::temporary_expiry(actor.at).date_naive()
    ));
    Ok(Report::new(AddedView {
        username: &added.username,
        email: &added.email,
        msa: added.link.as_ref().map(|l| l.msa.as_str()),
        credentials_file: path.display().to_string(),
    })
    .fields(vec![
        ("User name", added.username.clone()),
        ("Credentials file", path.display().to_string()),
    ]))
}

/// Says on stderr what a link changed elsewhere (always: it is not merely informational).
pub(super) fn report_link(ctx: &Ctx, username: &str, l: &Linked) {
    if l.unchanged {
        ctx.info(format!(
            "{} is already linked to {username}; nothing changed",
            l.msa
        ));
    }
    if let Some(s) = &l.severed {
        message(&format!("note: {}", s.note(false)));
    }
    if let Some(old) = &l.replaced {
        message(&format!(
            "note: {username} was linked to {old}; {} replaces it",
            l.msa
        ));
    }
}

/// `users link-msa` / `employee link-msa --format json` (SPEC §8).
#[derive(Serialize)]
pub(super) struct LinkView<'a> {
    username: &'a str,
    msa: &'a str,
    unchanged: bool,
    severed: Option<SeveredView<'a>>,
    replaced: Option<&'a str>,
}

impl<'a> LinkView<'a> {
    /// The view of `l`, linked to `username`.
    pub(super) fn new(username: &'a str, l: &'a Linked) -> Self {
        LinkView {
            username,
            msa: &l.msa,
            unchanged: l.unchanged,
            severed: l.severed.as_ref().map(|s| SeveredView {
                username: &s.username,
                organization: &s.org_name,
            }),
            replaced: l.replaced.as_deref(),
        }
    }
}

/// The association a link severed.
#[derive(Serialize)]
struct SeveredView<'a> {
    username: &'a str,
    organization: &'a str,
}

/// A user in `users list` / `users show --format json` (SPEC §8).
#[derive(Serialize)]
struct UserView<'a> {
    username: &'a str,
    name: &'a str,
    email: &'a str,
    status: &'a str,
    msa: Option<&'a str>,
    roles: &'a [String],
    created: String,
    removed: Option<String>,
}

impl<'a> UserView<'a> {
    fn new(u: &'a UserRow) -> Self {
        UserView {
            username: &u.username,
            name: &u.name,
            email: &u.email,
            status: &u.status,
            msa: u.msa.as_deref(),
            roles: &u.roles,
            created: rfc3339(u.created_at),
            removed: u.removed_at.map(rfc3339),
        }
    }
}

/// `users show --format json`: the list's keys and the account's secrets' state.
#[derive(Serialize)]
struct UserDetailView<'a> {
    #[serde(flatten)]
    user: UserView<'a>,
    password: &'static str,
    password_expires: Option<String>,
    self_service_reset: bool,
    msa_since: Option<String>,
    removal_reason: Option<&'a str>,
}

/// `users add --format json` (SPEC §8).
#[derive(Serialize)]
struct AddedView<'a> {
    username: &'a str,
    email: &'a str,
    msa: Option<&'a str>,
    credentials_file: String,
}

/// `users remove --format json` (SPEC §8).
#[derive(Serialize)]
struct RemovedView<'a> {
    username: &'a str,
    status: &'static str,
    msa_unlinked: Option<&'a str>,
}

/// `users reset-password --format json` (SPEC §8).
#[derive(Serialize)]
struct ResetView<'a> {
    username: &'a str,
    credentials_file: String,
}

fn list_report(users: &[UserRow]) -> Report {
    let mut t = Table::new(&["Username", "Name", "Email", "Status", "MSA", "Roles"]);
    for u in users {
        t.row([
            u.username.clone(),
            u.name.clone(),
            u.email.clone(),
            u.status.clone(),
            u.msa.clone().unwrap_or_default(),
            u.roles.join(";"),
        ]);
    }
    Report::new(users.iter().map(UserView::new).collect::<Vec<_>>()).table(t)
}

fn show_report(u: &UserRow, now: chrono::DateTime<chrono::Utc>) -> Report {
    let password = if u.password_temporary {
        match u.password_expires_at {
            Some(e) if e <= now => format!("temporary, expired {}", rfc3339(e)),
            Some(e) => format!("temporary, expires {}", rfc3339(e)),
            None => "temporary".to_owned(),
        }
    } else {
        "chosen by the employee".to_owned()
    };
    let j = UserDetailView {
        user: UserView::new(u),
        password: if u.password_temporary {
            "temporary"
        } else {
            "chosen"
        },
        password_expires: u
            .password_expires_at
            .filter(|_| u.password_temporary)
            .map(rfc3339),
        self_service_reset: u.self_service_reset,
        msa_since: u.msa_since.map(rfc3339),
        removal_reason: u.removal_reason.as_deref(),
    };
    let mut f = vec![
        ("User name", u.username.clone()),
        ("Name", u.name.clone()),
        ("E-mail", u.email.clone()),
        ("Status", u.status.clone()),
        ("Roles", u.roles.join(", ")),
        (
            "MSA",
            match (&u.msa, u.msa_since) {
                (Some(m), Some(s)) => format!("{m} (since {})", rfc3339(s)),
                _ => "(none)".to_owned(),
            },
        ),
        ("Password", password),
        (
            "Self-service reset",
            if u.self_service_reset { "yes" } else { "no" }.to_owned(),
        ),
        ("Added", rfc3339(u.created_at)),
    ];
    if let Some(r) = u.removed_at {
        f.push(("Removed", rfc3339(r)));
        f.push(("Reason", u.removal_reason.clone().unwrap_or_default()));
    }
    Report::new(j).fields(f)
}
