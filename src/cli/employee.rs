//! `employee …`: self-service for the employee behind an account.
//!
//! Passwords come from the terminal (not echoed) or, with `--password-stdin`, from lines of
//! standard input. The account and its secret are checked inside the write transaction of
//! the change ([`auth::sign_in`]), so nothing read before the secrets were typed is trusted.
//! A failed sign-in (one message whatever the reason) is recorded and committed, then the
//! command fails with exit 1; after 5 within 15 minutes the account is locked for the rest
//! of the window.

use std::io::{BufRead, IsTerminal};

use anyhow::{Result, anyhow};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::Ctx;
use crate::domain::accounts::{self as svc, LinkedBy};
use crate::domain::{Actor, auth};
use crate::error::bad_input;
use crate::output::Report;
use crate::store::{Db, Org, UserRow};

/// Self-service commands.
#[derive(Debug, Subcommand)]
pub enum EmployeeCmd {
    /// Change the password: the current one, then the new one (12+ characters).
    SetPassword(Who),
    /// Reset a forgotten password with the one-time recovery code from the credentials file.
    ResetPassword(Who),
    /// Sign in, then associate your Microsoft account with this account (one held by a
    /// colleague's account is refused: an administrator moves it with `users link-msa --move`).
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

/// Signs the employee in and runs `body` in the same write transaction: what was verified
/// (the account active, the secret current) is what `body` changes. A failed sign-in is
/// recorded (throttle count and audit row) and committed, then the command fails; an error
/// of `body` rolls everything back.
fn signed_in<T>(
    ctx: &mut Ctx,
    key: &str,
    secret: auth::Secret,
    action: &str,
    body: impl FnOnce(&Db, &Org, &Actor, &UserRow) -> Result<T>,
) -> Result<T> {
    let actor = ctx.actor();
    ctx.write_org_or_rollback(|db, org| auth::guarded(db, org, &actor, key, secret, action, body))?
}

/// Runs an `employee` command.
pub fn run(cmd: EmployeeCmd, ctx: &mut Ctx) -> Result<Report> {
    // Opened first: a database that cannot be opened fails before a secret is typed.
    ctx.open_database()?;
    match cmd {
        EmployeeCmd::SetPassword(who) => {
            let secrets = Secrets {
                stdin: who.password_stdin,
            };
            let current = secrets.read("Current password: ")?;
            let secret = auth::Secret::Password(&current);
            // Checked first so that a wrong password fails before the new one is typed;
            // checked again below, in the transaction that changes it.
            signed_in(
                ctx,
                &who.user,
                secret,
                "employee.sign-in-failed",
                |_, _, _, _| Ok(()),
            )?;
            let new = secrets.new_password()?;
            let username = signed_in(
                ctx,
                &who.user,
                secret,
                "employee.sign-in-failed",
                |db, org, actor, user| {
                    auth::set_chosen_password(db, org, actor, user, &current, &new)?;
                    Ok(user.username.clone())
                },
            )?;
            Ok(Report::new(PasswordView {
                username: &username,
                password: "changed",
            })
            .text(format!("Password of {username} changed")))
        }
        EmployeeCmd::ResetPassword(who) => {
            let secrets = Secrets {
                stdin: who.password_stdin,
            };
            let code = secrets.read("Recovery code: ")?;
            let new = secrets.new_password()?;
            let username = signed_in(
                ctx,
                &who.user,
                auth::Secret::RecoveryCode(&code),
                "employee.reset-failed",
                |db, org, actor, user| {
                    auth::reset_with_code(db, org, actor, user, &new)?;
                    Ok(user.username.clone())
                },
            )?;
            Ok(Report::new(PasswordView {
                username: &username,
                password: "reset",
            })
            .text(format!(
                "Password of {username} reset; the recovery code is spent"
            )))
        }
        EmployeeCmd::LinkMsa { who, msa } => {
            let secrets = Secrets {
                stdin: who.password_stdin,
            };
            let password = secrets.read("Password: ")?;
            let (username, linked, alerts) = signed_in(
                ctx,
                &who.user,
                auth::Secret::Password(&password),
                "employee.sign-in-failed",
                |db, org, actor, user| {
                    auth::require_chosen_password(user)?;
                    let linked = svc::link_msa(
                        db,
                        org,
                        actor,
                        user.id,
                        &user.username,
                        &msa,
                        LinkedBy::Employee,
                    )?;
                    let change = crate::domain::effects::Change::Linked {
                        username: &user.username,
                        linked: &linked,
                    };
                    let alerts = crate::domain::effects::after(db, org, actor, &change)?;
                    Ok((user.username.clone(), linked, alerts))
                },
            )?;
            super::users::report_link(ctx, &username, &linked);
            super::membership::print_org_alerts(&alerts);
            Ok(Report::new(super::users::LinkView::new(&username, &linked))
                .text(format!("{} linked to {username}", linked.msa)))
        }
    }
}

/// `employee set-password` / `reset-password --format json` (SPEC §8).
#[derive(Serialize)]
struct PasswordView<'a> {
    username: &'a str,
    password: &'static str,
}
