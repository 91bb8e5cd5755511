//! User accounts, MSA associations and employee self-service: the domain rules.
//!
//! Rules kept here: user names are `<local part>@<org domain>` with a number appended on
//! collision; an e-mail is unique among an organization's active accounts; the last active
//! global admin cannot be removed; removal keeps the account (status `removed`) and ends
//! its MSA association; an MSA is associated with one account at a time, so linking it
//! elsewhere severs the old association; an account has at most one MSA. Every change is
//! audited; no secret is ever audited.

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::ValueEnum;

use crate::domain::credentials::{self, CredentialsFile, Issued, OsRandom};
use crate::error::{AppError, bad_input, not_found, refused};
use crate::store::{Db, MsaLink, NewUser, Org, UserRow};
use crate::support::fields;

/// A Partner Center role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum)]
pub enum Role {
    /// Global admin: everything, including other admins.
    GlobalAdmin,
    /// Account admin.
    AccountAdmin,
    /// MPN partner admin.
    MpnAdmin,
    /// User management admin.
    UserManagementAdmin,
    /// Referrals admin.
    ReferralsAdmin,
    /// Incentives admin.
    IncentivesAdmin,
    /// Report viewer.
    ReportViewer,
    /// Plain user (the default).
    User,
}

impl Role {
    /// The role's name as typed and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::GlobalAdmin => "global-admin",
            Role::AccountAdmin => "account-admin",
            Role::MpnAdmin => "mpn-admin",
            Role::UserManagementAdmin => "user-management-admin",
            Role::ReferralsAdmin => "referrals-admin",
            Role::IncentivesAdmin => "incentives-admin",
            Role::ReportViewer => "report-viewer",
            Role::User => "user",
        }
    }

    /// Parses a role name (case and `_`/space for `-` do not matter).
    pub fn parse(s: &str) -> Result<Role, String> {
        let norm: String = s
            .trim()
            .chars()
            .map(|c| {
                if c == '_' || c == ' ' {
                    '-'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        Role::value_variants()
            .iter()
            .copied()
            .find(|r| r.as_str() == norm)
            .ok_or_else(|| {
                let all: Vec<&str> = Role::value_variants().iter().map(|r| r.as_str()).collect();
                format!(
                    "{} is not a role (roles: {})",
                    crate::support::fields::shown(s.trim()),
                    all.join(", ")
                )
            })
    }

    /// Joins roles for storage, sorted and without duplicates; `user` when none.
    pub fn join(roles: &[Role]) -> String {
        let mut r: Vec<Role> = roles.to_vec();
        r.sort();
        r.dedup();
        if r.is_empty() {
            r.push(Role::User);
        }
        r.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(";")
    }
}

/// Who acts and when: passed to every service.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The OS user name (the audit trail's actor).
    pub name: String,
    /// The instant of the command.
    pub at: DateTime<Utc>,
}

/// What `users add` needs.
pub struct AddUser<'a> {
    /// Display name.
    pub name: &'a str,
    /// E-mail.
    pub email: &'a str,
    /// Roles.
    pub roles: &'a [Role],
    /// MSA to link at once.
    pub msa: Option<&'a str>,
    /// Issue a one-time recovery code for self-service reset.
    pub self_service_reset: bool,
}

/// What adding a user did.
#[derive(Debug, Clone)]
pub struct Added {
    /// The generated user name.
    pub username: String,
    /// The e-mail, normalized.
    pub email: String,
    /// The MSA link, if one was made.
    pub link: Option<Linked>,
}

/// What linking an MSA did.
#[derive(Debug, Clone)]
pub struct Linked {
    /// The MSA, normalized.
    pub msa: String,
    /// Already linked to this account: nothing changed.
    pub unchanged: bool,
    /// The association it had elsewhere, now severed.
    pub severed: Option<MsaLink>,
    /// The MSA this account had before, now replaced.
    pub replaced: Option<String>,
}

/// Picks a free user name for an e-mail in a domain: not the user name of any account, and
/// not the e-mail of another account (any organization, any status), so that a USER text
/// never names two accounts by construction.
pub fn free_username(db: &Db, email: &str, domain: &str) -> Result<String> {
    let local = fields::username_local(email);
    let mut candidate = format!("{local}@{domain}");
    let mut n = 1;
    while db.username_taken(&candidate)? || (candidate != email && db.email_in_use(&candidate)?) {
        n += 1;
        candidate = format!("{local}{n}@{domain}");
    }
    Ok(candidate)
}

/// Adds an account with a temporary password written to `creds`.
pub fn add(
    db: &Db,
    org: &Org,
    actor: &Actor,
    rng: &mut OsRandom,
    creds: &mut CredentialsFile,
    req: &AddUser,
) -> Result<Added> {
    let name = fields::name(req.name).map_err(bad_input)?;
    let email = fields::email(req.email).map_err(bad_input)?;
    let msa = req
        .msa
        .map(|m| fields::email(m).map_err(|e| bad_input(format!("MSA: {e}"))))
        .transpose()?;
    if let Some(existing) = db.active_user_by_email(org.id, &email)? {
        return Err(refused(format!(
            "{email} is already the e-mail of active user {} in {}",
            existing.username, org.name
        )));
    }
    let username = free_username(db, &email, &org.domain)?;
    let password = rng.temporary_password()?;
    let recovery = if req.self_service_reset {
        Some(rng.recovery_code()?)
    } else {
        None
    };
    let recovery_hash = recovery.as_deref().map(credentials::hash_generated);
    let expires = credentials::temporary_expiry(actor.at);
    let roles = Role::join(req.roles);
    let user_id = db.insert_user(
        &NewUser {
            org_id: org.id,
            username: &username,
            name: &name,
            email: &email,
            roles: &roles,
            password_hash: &credentials::hash_generated(&password),
            password_expires_at: expires,
            recovery_hash: recovery_hash.as_deref(),
        },
        actor.at,
    )?;
    creds.write(&Issued {
        username: &username,
        email: &email,
        password: &password,
        expires,
        recovery_code: recovery.as_deref(),
    })?;
    db.audit(
        Some(org.id),
        actor.at,
        &actor.name,
        "users.add",
        &username,
        &format!(
            "name={name} email={email} roles={roles}{}",
            if req.self_service_reset {
                " self-service-reset"
            } else {
                ""
            }
        ),
    )?;
    let link = match msa {
        Some(msa) => Some(link_msa(
            db,
            org,
            actor,
            user_id,
            &username,
            &msa,
            LinkedBy::Admin,
        )?),
        None => None,
    };
    Ok(Added {
        username,
        email,
        link,
    })
}

/// Finds the account of the organization a USER text names (SPEC §4): its user name or
/// its e-mail; an active account before a removed one (of several removed accounts with
/// that e-mail, the most recent). When the text is the user name of one account and the
/// e-mail of another, it names neither: refused as ambiguous, naming both.
pub fn find(db: &Db, org: &Org, key: &str) -> Result<UserRow> {
    let found = db.users_by_key(org.id, key)?;
    let shown = fields::shown(key.trim());
    let any_active = found.iter().any(UserRow::is_active);
    // Most recent first; removed ones only when no account is active.
    let pool: Vec<&UserRow> = found
        .iter()
        .filter(|u| u.is_active() || !any_active)
        .collect();
    let text = key.trim().to_lowercase();
    let by_name = pool.iter().find(|u| u.username == text);
    let by_email = pool.iter().find(|u| u.email == text && u.username != text);
    match (by_name, by_email) {
        (Some(a), Some(b)) => Err(refused(format!(
            "{shown} is ambiguous in {}: it is the user name of {} ({}, e-mail {}, {}) and the \
             e-mail of {} ({}, {}); name the first by its e-mail ({}) or the second by its user \
             name ({})",
            org.name,
            a.username,
            a.name,
            a.email,
            a.status,
            b.username,
            b.name,
            b.status,
            a.email,
            b.username
        ))),
        (Some(u), None) | (None, Some(u)) => Ok((*u).clone()),
        (None, None) => Err(not_found(format!(
            "no user {shown} in {}: `competency users list --all` shows them",
            org.name
        ))),
    }
}

/// Finds an active account.
pub fn find_active(db: &Db, org: &Org, key: &str) -> Result<UserRow> {
    let u = find(db, org, key)?;
    if !u.is_active() {
        return Err(refused(format!(
            "user {} was removed{}: it cannot be changed",
            u.username,
            u.removed_at
                .map(|t| format!(" on {}", t.date_naive()))
                .unwrap_or_default()
        )));
    }
    Ok(u)
}

/// Who linked an MSA, for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkedBy {
    /// An administrator on the employee's behalf.
    Admin,
    /// An administrator moving it from a colleague's account (`--move`).
    AdminMove,
    /// The employee, authenticated.
    Employee,
}

/// Associates `msa` with the account, severing its association with another
/// organization's account and replacing the account's previous MSA. An MSA held by a
/// colleague (another account of the same organization) is never taken over: only an
/// administrator moves it, explicitly ([`LinkedBy::AdminMove`]).
pub fn link_msa(
    db: &Db,
    org: &Org,
    actor: &Actor,
    user_id: i64,
    username: &str,
    msa: &str,
    by: LinkedBy,
) -> Result<Linked> {
    let msa = fields::email(msa).map_err(|e| bad_input(format!("MSA: {e}")))?;
    let how = match by {
        LinkedBy::Admin => "by an administrator on the employee's behalf",
        LinkedBy::AdminMove => "by an administrator on the employee's behalf (--move)",
        LinkedBy::Employee => "by the employee",
    };
    let mut out = Linked {
        msa: msa.clone(),
        unchanged: false,
        severed: None,
        replaced: None,
    };
    if let Some(current) = db.open_link_for_msa(&msa)? {
        if current.user_id == user_id {
            out.unchanged = true;
            return Ok(out);
        }
        let colleague = current.org_id == org.id;
        if colleague && by == LinkedBy::Employee {
            return Err(refused(format!(
                "{msa} is the Microsoft account of {}, another account of {}: an employee cannot \
                 take over a colleague's; if it really is yours, an administrator can move it with \
                 `competency users link-msa {username} --msa {msa} --move`",
                current.username, org.name
            )));
        }
        if colleague && by == LinkedBy::Admin {
            return Err(refused(format!(
                "{msa} is the Microsoft account of {}, another account of {}: to move it to \
                 {username}, say so with `competency users link-msa {username} --msa {msa} --move`",
                current.username, org.name
            )));
        }
        let reason = if colleague {
            format!("moved to {username} by an administrator (--move)")
        } else {
            format!("linked to {username} ({})", org.name)
        };
        db.end_link(current.id, actor.at, &reason)?;
        db.audit(
            Some(current.org_id),
            actor.at,
            &actor.name,
            "msa.sever",
            &current.username,
            &format!("msa={msa} severed: {reason}"),
        )?;
        out.severed = Some(current);
    }
    if let Some(old) = db.open_link_for_user(user_id)? {
        db.end_link(old.id, actor.at, &format!("replaced by {msa}"))?;
        db.audit(
            Some(org.id),
            actor.at,
            &actor.name,
            "msa.unlink",
            username,
            &format!("msa={} replaced by {msa}", old.msa),
        )?;
        out.replaced = Some(old.msa);
    }
    db.insert_link(&msa, user_id, org.id, actor.at)?;
    db.audit(
        Some(org.id),
        actor.at,
        &actor.name,
        "msa.link",
        username,
        &format!("msa={msa} linked {how}"),
    )?;
    Ok(out)
}

/// What removing a user did.
#[derive(Debug, Clone)]
pub struct Removed {
    /// The account.
    pub user: UserRow,
    /// The MSA whose association ended.
    pub msa: Option<String>,
}

/// Removes an account: history kept, MSA association ended. Refuses the last active global
/// admin.
pub fn remove(db: &Db, org: &Org, actor: &Actor, key: &str, reason: &str) -> Result<Removed> {
    let user = find_active(db, org, key)?;
    if user.roles.iter().any(|r| r == Role::GlobalAdmin.as_str())
        && db.count_active_with_role(org.id, Role::GlobalAdmin.as_str())? <= 1
    {
        return Err(refused(format!(
            "{} is the last active global admin of {}: add another global admin first",
            user.username, org.name
        )));
    }
    let reason =
        &crate::support::fields::reason(reason).map_err(|e| bad_input(format!("--reason: {e}")))?;
    db.mark_user_removed(user.id, actor.at, reason)?;
    let mut msa = None;
    if let Some(link) = db.open_link_for_user(user.id)? {
        db.end_link(link.id, actor.at, "user removed")?;
        msa = Some(link.msa);
    }
    db.audit(
        Some(org.id),
        actor.at,
        &actor.name,
        "users.remove",
        &user.username,
        &format!(
            "reason={}{}",
            if reason.is_empty() {
                "(none given)"
            } else {
                reason
            },
            msa.as_deref()
                .map(|m| format!(" msa={m} association ended"))
                .unwrap_or_default()
        ),
    )?;
    Ok(Removed { user, msa })
}

/// Issues a new temporary password (and recovery code, for self-service accounts).
pub fn reset_password(
    db: &Db,
    org: &Org,
    actor: &Actor,
    rng: &mut OsRandom,
    creds: &mut CredentialsFile,
    key: &str,
) -> Result<UserRow> {
    let user = find_active(db, org, key)?;
    let password = rng.temporary_password()?;
    let expires = credentials::temporary_expiry(actor.at);
    db.set_password(
        user.id,
        &credentials::hash_generated(&password),
        true,
        Some(expires),
    )?;
    let recovery = if user.self_service_reset {
        let code = rng.recovery_code()?;
        db.set_recovery_hash(user.id, Some(&credentials::hash_generated(&code)))?;
        Some(code)
    } else {
        None
    };
    creds.write(&Issued {
        username: &user.username,
        email: &user.email,
        password: &password,
        expires,
        recovery_code: recovery.as_deref(),
    })?;
    db.audit(
        Some(org.id),
        actor.at,
        &actor.name,
        "users.reset-password",
        &user.username,
        "new temporary password issued by an administrator",
    )?;
    Ok(user)
}

/// Failed sign-ins that lock an account for the rest of [`THROTTLE_WINDOW_MINUTES`].
pub const THROTTLE_FAILURES: u32 = 5;
/// The window, in minutes, over which failed sign-ins are counted.
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;

/// What an employee proves who they are with.
#[derive(Clone, Copy)]
pub enum Secret<'a> {
    /// The account's password (temporary or chosen).
    Password(&'a str),
    /// The one-time recovery code of a self-service account.
    RecoveryCode(&'a str),
}

/// The one message of every failed sign-in, whatever the reason (unknown user, removed
/// account, wrong or revoked password, wrong or spent code): it tells an attacker nothing.
/// The audit trail records the reason.
pub fn sign_in_failed(key: &str, secret: Secret) -> anyhow::Error {
    let hint = match secret {
        Secret::Password(_) => "",
        Secret::RecoveryCode(_) => {
            ": a recovery code works once, and only for an account added with \
             --self-service-reset; otherwise an administrator issues a new password with \
             `competency users reset-password USER`"
        }
    };
    AppError::Auth(format!(
        "sign-in failed for {}{hint}",
        fields::shown(key.trim())
    ))
    .into()
}

/// Signs an employee in. Call it inside the write transaction of the command it guards,
/// so that what it checked (the account active, the password or code current) is what the
/// command changes: a password revoked, a code spent or an account removed by another
/// process meanwhile authenticates nothing.
///
/// `Ok(Ok(user))`: signed in (earlier failures forgotten). `Ok(Err(e))`: refused, and the
/// failure was recorded (throttle count and audit row with `action`): the caller commits,
/// then fails with `e`. `Err`: any other error (roll back).
pub fn sign_in(
    db: &Db,
    org: &Org,
    actor: &Actor,
    key: &str,
    secret: Secret,
    action: &str,
) -> Result<Result<UserRow, anyhow::Error>> {
    let user = match find(db, org, key) {
        Ok(u) => u,
        Err(e)
            if e.downcast_ref::<AppError>()
                .is_some_and(|e| matches!(e, AppError::NotFound(_))) =>
        {
            db.audit(
                Some(org.id),
                actor.at,
                &actor.name,
                action,
                &fields::shown(key.trim()),
                "no such account",
            )?;
            return Ok(Err(sign_in_failed(key, secret)));
        }
        Err(e) => return Err(e),
    };
    let window = chrono::Duration::minutes(THROTTLE_WINDOW_MINUTES);
    if let Some(fifth) =
        db.nth_recent_sign_in_failure(user.id, actor.at - window, actor.at, THROTTLE_FAILURES)?
    {
        let until = fifth + window;
        db.audit(
            Some(org.id),
            actor.at,
            &actor.name,
            "employee.sign-in-throttled",
            &user.username,
            &format!(
                "refused without checking the secret: {THROTTLE_FAILURES} failed sign-ins \
                 within {THROTTLE_WINDOW_MINUTES} minutes; locked until {}",
                crate::support::clock::rfc3339(until)
            ),
        )?;
        return Ok(Err(refused(format!(
            "sign-in failed for {}: {THROTTLE_FAILURES} failed sign-ins within \
             {THROTTLE_WINDOW_MINUTES} minutes; try again after {}",
            fields::shown(key.trim()),
            crate::support::clock::rfc3339(until)
        ))));
    }
    let failure = if !user.is_active() {
        Some("the account was removed")
    } else {
        match secret {
            Secret::Password(p) if !credentials::verify(p, &user.password_hash) => {
                Some("wrong password")
            }
            Secret::Password(_) => None,
            Secret::RecoveryCode(_) if !user.self_service_reset => {
                Some("a recovery code was given, but the account has no self-service reset")
            }
            Secret::RecoveryCode(c) => match user.recovery_hash.as_deref() {
                None => Some("the recovery code was already spent"),
                Some(h) if !credentials::verify(&credentials::normalize_code(c), h) => {
                    Some("wrong recovery code")
                }
                Some(_) => None,
            },
        }
    };
    if let Some(reason) = failure {
        db.record_sign_in_failure(user.id, actor.at)?;
        db.audit(
            Some(org.id),
            actor.at,
            &actor.name,
            action,
            &user.username,
            reason,
        )?;
        return Ok(Err(sign_in_failed(key, secret)));
    }
    if matches!(secret, Secret::Password(_))
        && user.password_temporary
        && let Some(exp) = user.password_expires_at
        && actor.at >= exp
    {
        return Err(AppError::Auth(format!(
            "the temporary password of {} expired on {}: ask an administrator for \
             `competency users reset-password {}`",
            user.username,
            exp.date_naive(),
            user.username
        ))
        .into());
    }
    db.clear_sign_in_failures(user.id)?;
    Ok(Ok(user))
}

/// Sets a password the employee chose, signed in with the current one in this same
/// transaction ([`sign_in`]): the update applies only to the password authenticated.
pub fn set_chosen_password(
    db: &Db,
    org: &Org,
    actor: &Actor,
    user: &UserRow,
    current: &str,
    new: &str,
) -> Result<()> {
    credentials::check_chosen(new, &user.username, &user.email).map_err(bad_input)?;
    if new == current {
        return Err(bad_input(
            "the new password must differ from the current one",
        ));
    }
    let hash = credentials::hash_chosen(new)?;
    if !db.replace_password_if(user.id, &user.password_hash, &hash)? {
        return Err(sign_in_failed(&user.username, Secret::Password(current)));
    }
    db.audit(
        Some(org.id),
        actor.at,
        &actor.name,
        "employee.set-password",
        &user.username,
        "password changed by the employee",
    )?;
    Ok(())
}

/// Requires that the account's password is not temporary (any self-service command but
/// `set-password`).
pub fn require_chosen_password(user: &UserRow) -> Result<()> {
    if user.password_temporary {
        return Err(refused(format!(
            "{} still has a temporary password: change it first with \
             `competency employee set-password --user {}`",
            user.username, user.username
        )));
    }
    Ok(())
}

/// Resets a self-service account's password with its one-time recovery code, signed in
/// with that code in this same transaction ([`sign_in`]): the code is spent by a guarded
/// update, so of two runs racing with one code exactly one succeeds.
pub fn reset_with_code(db: &Db, org: &Org, actor: &Actor, user: &UserRow, new: &str) -> Result<()> {
    credentials::check_chosen(new, &user.username, &user.email).map_err(bad_input)?;
    let Some(code_hash) = user.recovery_hash.as_deref() else {
        return Err(sign_in_failed(&user.username, Secret::RecoveryCode("")));
    };
    if !db.spend_recovery_code(user.id, code_hash, &credentials::hash_chosen(new)?)? {
        return Err(sign_in_failed(&user.username, Secret::RecoveryCode("")));
    }
    db.audit(
        Some(org.id),
        actor.at,
        &actor.name,
        "employee.reset-password",
        &user.username,
        "password reset with the one-time recovery code (code spent)",
    )?;
    Ok(())
}
