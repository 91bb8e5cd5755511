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

use crate::credentials::{self, CredentialsFile, Issued, OsRandom};
use crate::error::{AppError, bad_input, not_found, refused};
use crate::store::{Db, MsaLink, NewUser, Org, UserRow};
use crate::validate;

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
                    crate::validate::shown(s.trim()),
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

/// Picks a free user name for an e-mail in a domain.
pub fn free_username(db: &Db, email: &str, domain: &str) -> Result<String> {
    let local = validate::username_local(email);
    let mut candidate = format!("{local}@{domain}");
    let mut n = 1;
    while db.username_taken(&candidate)? {
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
    let name = validate::name(req.name).map_err(bad_input)?;
    let email = validate::email(req.email).map_err(bad_input)?;
    let msa = req
        .msa
        .map(|m| validate::email(m).map_err(|e| bad_input(format!("MSA: {e}"))))
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

/// Finds an account of the organization by user name or e-mail.
pub fn find(db: &Db, org: &Org, key: &str) -> Result<UserRow> {
    db.user_by_key(org.id, key)?.ok_or_else(|| {
        not_found(format!(
            "no user {} in {}: `competency users list --all` shows them",
            crate::validate::shown(key.trim()),
            org.name
        ))
    })
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
    /// The employee, authenticated.
    Employee,
}

/// Associates `msa` with the account, severing its association elsewhere and replacing
/// the account's previous MSA.
pub fn link_msa(
    db: &Db,
    org: &Org,
    actor: &Actor,
    user_id: i64,
    username: &str,
    msa: &str,
    by: LinkedBy,
) -> Result<Linked> {
    let msa = validate::email(msa).map_err(|e| bad_input(format!("MSA: {e}")))?;
    let how = match by {
        LinkedBy::Admin => "by an administrator on the employee's behalf",
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
        let reason = format!("linked to {username} ({})", org.name);
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
        &crate::validate::reason(reason).map_err(|e| bad_input(format!("--reason: {e}")))?;
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

/// Checks an employee's password. On failure returns [`AppError::Auth`]; the caller records
/// the failed attempt (in its own transaction, since the command itself fails).
pub fn authenticate(user: &UserRow, password: &str, at: DateTime<Utc>) -> Result<()> {
    if !user.is_active() {
        return Err(refused(format!("user {} was removed", user.username)));
    }
    if !credentials::verify(password, &user.password_hash) {
        return Err(AppError::Auth(format!("wrong password for {}", user.username)).into());
    }
    if user.password_temporary
        && let Some(exp) = user.password_expires_at
        && at >= exp
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
    Ok(())
}

/// Sets a password the employee chose (after [`authenticate`]).
pub fn set_chosen_password(
    db: &Db,
    org: &Org,
    actor: &Actor,
    user: &UserRow,
    current: &str,
    new: &str,
    action: &str,
) -> Result<()> {
    credentials::check_chosen(new).map_err(bad_input)?;
    if new == current {
        return Err(bad_input(
            "the new password must differ from the current one",
        ));
    }
    let hash = credentials::hash_chosen(new)?;
    db.set_password(user.id, &hash, false, None)?;
    db.audit(
        Some(org.id),
        actor.at,
        &actor.name,
        action,
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

/// Resets a self-service account's password with its one-time recovery code.
pub fn reset_with_code(
    db: &Db,
    org: &Org,
    actor: &Actor,
    user: &UserRow,
    code: &str,
    new: &str,
) -> Result<()> {
    if !user.is_active() {
        return Err(refused(format!("user {} was removed", user.username)));
    }
    if !user.self_service_reset {
        return Err(refused(format!(
            "{} was not added with --self-service-reset: only an administrator can reset its \
             password (`competency users reset-password {}`)",
            user.username, user.username
        )));
    }
    let Some(stored) = user.recovery_hash.as_deref() else {
        return Err(refused(format!(
            "the recovery code of {} was already used: ask an administrator for \
             `competency users reset-password {}`",
            user.username, user.username
        )));
    };
    if !credentials::verify(&credentials::normalize_code(code), stored) {
        return Err(AppError::Auth(format!("wrong recovery code for {}", user.username)).into());
    }
    credentials::check_chosen(new).map_err(bad_input)?;
    db.set_password(user.id, &credentials::hash_chosen(new)?, false, None)?;
    db.set_recovery_hash(user.id, None)?;
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
