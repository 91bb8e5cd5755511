//! Associating a Microsoft account (MSA) with a user account: one account per MSA at a
//! time, so linking it elsewhere severs the old association (another organization's) or is
//! refused (a colleague's, unless an administrator moves it); an account has at most one
//! MSA, so a new one replaces the old. Every change is audited.

use anyhow::Result;

use super::sever::{Severance, sever};
use super::{Actor, find_active};
use crate::error::{bad_input, refused};
use crate::store::{Db, Org};
use crate::support::fields;

/// What linking an MSA did.
#[derive(Debug, Clone)]
pub struct Linked {
    /// The MSA, normalized.
    pub msa: String,
    /// Already linked to this account: nothing changed.
    pub unchanged: bool,
    /// The association it had elsewhere, now severed.
    pub severed: Option<Severance>,
    /// The MSA this account had before, now replaced.
    pub replaced: Option<String>,
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

/// How the audit trail says who linked an MSA.
pub(super) fn how(by: LinkedBy) -> &'static str {
    match by {
        LinkedBy::Admin => "by an administrator on the employee's behalf",
        LinkedBy::AdminMove => "by an administrator on the employee's behalf (--move)",
        LinkedBy::Employee => "by the employee",
    }
}

/// The audit detail of a link (`how`: see [`how`]).
pub(super) fn link_detail(msa: &str, how: &str) -> String {
    format!("msa={msa} linked {how}")
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
    let how = how(by);
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
        let s = sever(&msa, current.into(), username, org, |id, reason| {
            db.end_link(id, actor.at, reason)
        })?;
        let e = s.entry();
        actor.audit(db, e.org_id, e.action, &e.subject, &e.detail)?;
        out.severed = Some(s);
    }
    if let Some(old) = db.open_link_for_user(user_id)? {
        db.end_link(old.id, actor.at, &format!("replaced by {msa}"))?;
        actor.audit(
            db,
            org.id,
            "msa.unlink",
            username,
            &format!("msa={} replaced by {msa}", old.msa),
        )?;
        out.replaced = Some(old.msa);
    }
    db.insert_link(&msa, user_id, org.id, actor.at)?;
    actor.audit(db, org.id, "msa.link", username, &link_detail(&msa, how))?;
    Ok(out)
}

/// `users link-msa`: links `msa` to the active account `key` and re-evaluates wherever the
/// association moved; returns the user name, the link and the alerts per organization.
pub fn link(
    db: &Db,
    org: &Org,
    actor: &Actor,
    key: &str,
    msa: &str,
    by: LinkedBy,
) -> Result<(String, Linked, Vec<crate::domain::effects::OrgAlerts>)> {
    let u = find_active(db, org, key)?;
    let l = link_msa(db, org, actor, u.id, &u.username, msa, by)?;
    let change = crate::domain::effects::Change::Linked {
        username: &u.username,
        linked: &l,
    };
    let alerts = crate::domain::effects::after(db, org, actor, &change)?;
    Ok((u.username, l, alerts))
}
