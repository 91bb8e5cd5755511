//! `employee …`: self-service for the employee behind an account.
//!
//! Passwords come from the terminal (not echoed) or, with `--password-stdin`, from lines of
//! standard input. A wrong password or recovery code fails the command with exit 1, and the
//! failed attempt is recorded in the audit trail in a transaction of its own.

use std::io::{BufRead, IsTerminal};

use anyhow::{Result, anyhow};
use clap::{Args, Subcommand};
use serde_json::json;

use super::Ctx;
use crate::error::{AppError, bad_input};
use crate::output::Report;
use crate::users::{self as svc, LinkedBy};

/// Self-service commands.
#[derive(Debug, Subcommand)]
pub enum EmployeeCmd {
    /// Change the password: the current one, then the new one (12+ characters).
    SetPassword(Who),
    /// Reset a forgotten password with the one-time recovery code from the credentials file.
    ResetPassword(Who),
    /// Sign in, then associate your Microsoft account with this account.
    LinkMsa {
        /// Who signs in.
        #[command(flatten)]
        who: Who,
        /// The Microsoft account (an e-mail address).
        #[arg(long)]
        msa: String,
    },
}

/// The account and how secrets are read.
#[derive(Debug, Args)]
pub struct Who {
    /// Your user name or e-mail.
    #[arg(long)]
    pub user: String,
    /// Read the secrets from standard input, one per line, instead of the terminal.
    #[arg(long)]
    pub password_stdin: bool,
}

/// Reads secrets from stdin lines or the terminal.
struct Secrets {
    stdin: bool,
}

impl Secrets {
    fn read(&self, prompt: &str) -> Result<String> {
        if self.stdin {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            if line.is_empty() {
                return Err(bad_input(format!(
                    "standard input ended before the {}",
                    prompt.trim_end_matches(": ").to_lowercase()
                )));
            }
            Ok(line.trim_end_matches(['\n', '\r']).to_owned())
        } else {
            if !std::io::stdin().is_terminal() {
                return Err(bad_input(
                    "no terminal to read the password from: pass --password-stdin and give it on standard input",
                ));
            }
            rpassword::prompt_password(prompt).map_err(|e| anyhow!("cannot read the password: {e}"))
        }
    }

    /// A new password, confirmed when typed at a terminal.
    fn new_password(&self) -> Result<String> {
        let p = self.read("New password: ")?;
        if !self.stdin {
            let again = self.read("New password again: ")?;
            if again != p {
                return Err(bad_input(
                    "the two new passwords differ; nothing was changed",
                ));
            }
        }
        Ok(p)
    }
}

/// Records a failed sign-in in its own transaction, then returns the original error.
fn audit_failure(ctx: &mut Ctx, user: &str, action: &str, err: anyhow::Error) -> anyhow::Error {
    if err
        .downcast_ref::<AppError>()
        .is_some_and(|e| matches!(e, AppError::Auth(_)))
    {
        let actor = ctx.actor();
        let reason = err.to_string();
        let recorded = ctx.write_org(|db, org| {
            let subject = db
                .user_by_key(org.id, user)?
                .map_or_else(|| user.to_owned(), |u| u.username);
            db.audit(
                Some(org.id),
                actor.at,
                &actor.name,
                action,
                &subject,
                &reason,
            )
        });
        if let Err(e) = recorded {
            return e.context("could not record the failed sign-in");
        }
    }
    err
}

/// Runs an `employee` command.
pub fn run(cmd: EmployeeCmd, ctx: &mut Ctx) -> Result<Report> {
    match cmd {
        EmployeeCmd::SetPassword(who) => {
            let secrets = Secrets {
                stdin: who.password_stdin,
            };
            let user = ctx.read_org(|db, org| svc::find(db, org, &who.user))?;
            let current = secrets.read("Current password: ")?;
            let actor = ctx.actor();
            if let Err(e) = svc::authenticate(&user, &current, actor.at) {
                return Err(audit_failure(ctx, &who.user, "employee.sign-in-failed", e));
            }
            let new = secrets.new_password()?;
            ctx.write_org(|db, org| {
                svc::set_chosen_password(
                    db,
                    org,
                    &actor,
                    &user,
                    &current,
                    &new,
                    "employee.set-password",
                )
            })?;
            Ok(
                Report::new(json!({"username": user.username, "password": "changed"}))
                    .text(format!("Password of {} changed", user.username)),
            )
        }
        EmployeeCmd::ResetPassword(who) => {
            let secrets = Secrets {
                stdin: who.password_stdin,
            };
            let user = ctx.read_org(|db, org| svc::find(db, org, &who.user))?;
            let code = secrets.read("Recovery code: ")?;
            let new = secrets.new_password()?;
            let actor = ctx.actor();
            let done =
                ctx.write_org(|db, org| svc::reset_with_code(db, org, &actor, &user, &code, &new));
            if let Err(e) = done {
                return Err(audit_failure(ctx, &who.user, "employee.reset-failed", e));
            }
            Ok(
                Report::new(json!({"username": user.username, "password": "reset"})).text(format!(
                    "Password of {} reset; the recovery code is spent",
                    user.username
                )),
            )
        }
        EmployeeCmd::LinkMsa { who, msa } => {
            let secrets = Secrets {
                stdin: who.password_stdin,
            };
            let user = ctx.read_org(|db, org| svc::find(db, org, &who.user))?;
            let password = secrets.read("Password: ")?;
            let actor = ctx.actor();
            if let Err(e) = svc::authenticate(&user, &password, actor.at) {
                return Err(audit_failure(ctx, &who.user, "employee.sign-in-failed", e));
            }
            svc::require_chosen_password(&user)?;
            let (linked, alerts) = ctx.write_org(|db, org| {
                let linked = svc::link_msa(
                    db,
                    org,
                    &actor,
                    user.id,
                    &user.username,
                    &msa,
                    LinkedBy::Employee,
                )?;
                let alerts =
                    crate::membership::after_link(db, org, &actor, &user.username, &linked)?;
                Ok((linked, alerts))
            })?;
            super::users::report_link(ctx, &user.username, &linked);
            super::membership::print_alerts(&alerts);
            Ok(
                Report::new(super::users::link_json(&user.username, &linked))
                    .text(format!("{} linked to {}", linked.msa, user.username)),
            )
        }
    }
}
