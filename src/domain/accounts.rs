//! User accounts, MSA associations and employee self-service: the domain rules.
//!
//! Rules kept here: user names are `<local part>@<org domain>` with a number appended on
//! collision; an e-mail is unique among an organization's active accounts; the last active
//! global admin cannot be removed; removal keeps the account (status `removed`) and ends
//! its MSA association; an MSA is associated with one account at a time, so linking it
//! elsewhere severs the old association; an account has at most one MSA. Every change is
//! audited; no secret is ever audited.

use anyhow::Result;
use clap::ValueEnum;

use crate::domain::credentials::{self, CredentialsFile, Issued, OsRandom};
use crate::error::{bad_input, not_found, refused};
use crate::store::{Db, NewUser, Org, UserRow};
use crate::support::fields;

/// A Partner Center role; its name (`global-admin`, …) is how it is typed and stored.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    ValueEnum,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantNames,
)]
#[strum(serialize_all = "kebab-case")]
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
        self.into()
    }

    /// Parses a role name (case and `_`/space for `-` do not matter).
    pub fn parse(s: &str) -> Result<Role, String> {
        crate::rules::kebab(s).parse().map_err(|_| {
            format!(
                "{} is not a role (roles: {})",
                crate::support::fields::shown(s.trim()),
                <Role as strum::VariantNames>::VARIANTS.join(", ")
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

/// Who acts and when; defined beside every service in [`crate::domain`].
pub use crate::domain::Actor;

mod batch;
mod links;
pub mod sever;
pub use batch::{Batch, Target};
pub use links::{Linked, LinkedBy, link, link_msa};
pub use sever::Severed;

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

/// The audit detail of an account added (never a secret).
fn add_detail(name: &str, email: &str, roles: &str, self_service_reset: bool) -> String {
    format!(
        "name={name} email={email} roles={roles}{}",
        if self_service_reset {
            " self-service-reset"
        } else {
            ""
        }
    )
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
            expires_at: expires,
        },
        recovery_hash.as_deref(),
        actor.at,
    )?;
    creds.write(&Issued {
        username: &username,
        email: &email,
        password: &password,
        expires,
        recovery_code: recovery.as_deref(),
    })?;
    actor.audit(
        db,
        org.id,
        "users.add",
        &username,
        &add_detail(&name, &email, &roles, req.self_service_reset),
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
    actor.audit(
        db,
        org.id,
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
    actor.audit(
        db,
        org.id,
        "users.reset-password",
        &user.username,
        "new temporary password issued by an administrator",
    )?;
    Ok(user)
}

/// The organization's accounts: the active ones, or all with `all`.
pub fn list(db: &Db, org: &Org, all: bool) -> Result<Vec<UserRow>> {
    db.users(org.id, all)
}

/// `users add`: adds the account (and links its MSA) and re-evaluates where the link
/// changed something; returns the account and the alerts per organization.
pub fn add_and_link(
    db: &Db,
    org: &Org,
    actor: &Actor,
    rng: &mut OsRandom,
    creds: &mut CredentialsFile,
    req: &AddUser,
) -> Result<(Added, Vec<crate::domain::effects::OrgAlerts>)> {
    let added = add(db, org, actor, rng, creds, req)?;
    let alerts = match &added.link {
        Some(linked) => {
            let change = crate::domain::effects::Change::Linked {
                username: &added.username,
                linked,
            };
            crate::domain::effects::after(db, org, actor, &change)?
        }
        None => Vec::new(),
    };
    Ok((added, alerts))
}

/// `users remove`: removes the account and re-evaluates the membership it counted for;
/// returns the account and the alerts per organization.
pub fn remove_and_reevaluate(
    db: &Db,
    org: &Org,
    actor: &Actor,
    key: &str,
    reason: &str,
) -> Result<(Removed, Vec<crate::domain::effects::OrgAlerts>)> {
    let removed = remove(db, org, actor, key, reason)?;
    let change = crate::domain::effects::Change::UserRemoved {
        username: &removed.user.username,
    };
    let alerts = crate::domain::effects::after(db, org, actor, &change)?;
    Ok((removed, alerts))
}
