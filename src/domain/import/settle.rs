//! The end of an import's transaction: whether it commits, what must be on disk before
//! the commit (credentials, rejects), its audit entry and the re-evaluation its changed
//! records call for (SPEC §7).

use anyhow::Result;

use super::{Options, Rejects, Summary};
use crate::domain::credentials::CredentialsFile;
use crate::domain::{Actor, effects};
use crate::store::{Db, Org};

/// Decides whether the import commits, syncs the files that must survive it, audits it and
/// re-evaluates the membership; returns the summary and the decision.
pub fn settle(
    db: &Db,
    org: &Org,
    actor: &Actor,
    opts: &Options,
    mut s: Summary,
    creds: Option<&mut CredentialsFile>,
    rejects: Option<&mut Rejects>,
) -> Result<(Summary, bool)> {
    let commit = s.should_commit(opts.skip_invalid);
    if commit {
        if let Some(c) = creds.filter(|c| c.count() > 0) {
            crate::domain::progress::phase(&*opts.progress, "saving the credentials file", None)?;
            c.sync()?;
            s.credentials_file = Some(c.path().display().to_string());
        }
        if let Some(r) = rejects.filter(|_| s.rejected > 0) {
            r.sync()?;
            s.rejects_file = Some(r.path().display().to_string());
        }
        if s.changed_anything() {
            audit(db, org, actor, &s)?;
        }
    }
    // Changed or new records can lose a competency the membership displays (an earlier
    // expiry, a lower latest figure on a new date) or meet one again: evaluate at once, as
    // every change does (SPEC §7). A users import evaluates what its links severed itself.
    if commit && s.kind != "users" {
        let change = effects::Change::Imported {
            kind: s.kind,
            file: &s.file,
            added: s.added,
            updated: s.updated,
        };
        let raised = effects::after(db, org, actor, &change)?;
        s.alerts.extend(effects::alerts(raised));
    }
    s.committed = commit;
    Ok((s, commit))
}

/// The audit entry of an import: `<kind>.import` on the file, with its counts.
pub fn audit(db: &Db, org: &Org, actor: &Actor, s: &Summary) -> Result<()> {
    db.audit(
        Some(org.id),
        actor.at,
        &actor.name,
        &format!("{}.import", s.kind),
        &s.file,
        &s.audit_detail(),
    )
}
