//! `users …` and `add-user`: accounts, MSA links, temporary credentials.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::json;

use super::Ctx;
use crate::domain::accounts::{self as svc, AddUser, Linked, LinkedBy, Role};
use crate::domain::credentials::{self, CredentialsFile, OsRandom};
use crate::domain::membership;
use crate::output::{Report, Table};
use crate::store::UserRow;
use crate::support::clock::rfc3339;

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
            let users = ctx.read_org(|db, org| db.users(org.id, all))?;
            Ok(list_report(&users))
        }
        UsersCmd::Show { user } => {
            let u = ctx.read_org(|db, org| svc::find(db, org, &user))?;
            Ok(show_report(&u, ctx.clock.now()))
        }
        UsersCmd::Remove { user, reason } => {
            let actor = ctx.actor();
            let (removed, alerts) = ctx.write_org(|db, org| {
                let removed = svc::remove(db, org, &actor, &user, &reason)?;
                let cause = format!("user {} removed", removed.user.username);
                let alerts = membership::reevaluate(db, org, &actor, Some(&cause))?;
                Ok((removed, alerts))
            })?;
            super::membership::print_alerts(&alerts);
            ctx.info(format!(
                "Removed {}{}",
                removed.user.username,
                removed
                    .msa
                    .as_deref()
                    .map(|m| format!("; the association of {m} ended"))
                    .unwrap_or_default()
            ));
            Ok(Report::new(json!({"username": removed.user.username, "status": "removed", "msa_unlinked": removed.msa}))
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
            let u = ctx.write_org(|db, org| {
                let u = svc::reset_password(db, org, &actor, &mut rng, &mut creds, &user)?;
                creds.sync()?;
                Ok(u)
            })?;
            let path = creds.keep()?;
            ctx.info(format!(
                "New temporary password for {} written to {} (valid until {})",
                u.username,
                path.display(),
                credentials::temporary_expiry(actor.at).date_naive()
            ));
            Ok(Report::new(
                json!({"username": u.username, "credentials_file": path.display().to_string()}),
            )
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
            let (username, linked, alerts) = ctx.write_org(|db, org| {
                let u = svc::find_active(db, org, &user)?;
                let l = svc::link_msa(db, org, &actor, u.id, &u.username, &msa, by)?;
                let alerts = membership::after_link(db, org, &actor, &u.username, &l)?;
                Ok((u.username, l, alerts))
            })?;
            report_link(ctx, &username, &linked);
            super::membership::print_org_alerts(&alerts);
            Ok(Report::new(link_json(&username, &linked))
                .text(format!("{} linked to {username}", linked.msa)))
        }
    }
}

fn add(a: AddArgs, ctx: &mut Ctx) -> Result<Report> {
    let actor = ctx.actor();
    // The database first: a missing one is an error before any file is created.
    ctx.store()?;
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
    let (added, alerts) = ctx.write_org(|db, org| {
        let added = svc::add(db, org, &actor, &mut rng, &mut creds, &req)?;
        let alerts = match &added.link {
            Some(l) => membership::after_link(db, org, &actor, &added.username, l)?,
            None => Vec::new(),
        };
        creds.sync()?;
        Ok((added, alerts))
    })?;
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
    Ok(Report::new(json!({
        "username": added.username,
        "email": added.email,
        "msa": added.link.as_ref().map(|l| l.msa.clone()),
        "credentials_file": path.display().to_string(),
    }))
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
        eprintln!(
            "note: {} was associated with {} in {}; that association is now severed",
            l.msa, s.username, s.org_name
        );
    }
    if let Some(old) = &l.replaced {
        eprintln!(
            "note: {username} was linked to {old}; {} replaces it",
            l.msa
        );
    }
}

pub(super) fn link_json(username: &str, l: &Linked) -> serde_json::Value {
    json!({
        "username": username,
        "msa": l.msa,
        "unchanged": l.unchanged,
        "severed": l.severed.as_ref().map(|s| json!({"username": s.username, "organization": s.org_name})),
        "replaced": l.replaced,
    })
}

fn user_json(u: &UserRow) -> serde_json::Value {
    json!({
        "username": u.username,
        "name": u.name,
        "email": u.email,
        "status": u.status,
        "msa": u.msa,
        "roles": u.roles,
        "created": rfc3339(u.created_at),
        "removed": u.removed_at.map(rfc3339),
    })
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
    Report::new(users.iter().map(user_json).collect::<Vec<_>>()).table(t)
}

fn show_report(u: &UserRow, now: chrono::DateTime<chrono::Utc>) -> Report {
    let mut j = user_json(u);
    let password = if u.password_temporary {
        match u.password_expires_at {
            Some(e) if e <= now => format!("temporary, expired {}", rfc3339(e)),
            Some(e) => format!("temporary, expires {}", rfc3339(e)),
            None => "temporary".to_owned(),
        }
    } else {
        "chosen by the employee".to_owned()
    };
    j["password"] = json!(if u.password_temporary {
        "temporary"
    } else {
        "chosen"
    });
    j["password_expires"] = json!(
        u.password_expires_at
            .filter(|_| u.password_temporary)
            .map(rfc3339)
    );
    j["self_service_reset"] = json!(u.self_service_reset);
    j["msa_since"] = json!(u.msa_since.map(rfc3339));
    j["removal_reason"] = json!(u.removal_reason);
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
