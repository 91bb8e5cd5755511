//! The end of an import's transaction: whether it commits, what must be on disk before
//! the commit (credentials, rejects), its audit entry and the re-evaluation its changed
//! records call for (SPEC §7).
//!
//! This module owns "all or nothing" (SPEC §6): [`Fate`] is the one decision of what
//! becomes of an import's writes, asked by the import while it runs (a doomed import makes
//! no secret), by [`settle`] to commit or roll back, and by the command to fail or to say
//! "dry run". Invariant: the summary of a rolled-back import says what a real run would
//! have done; only a [`Fate::Kept`] import audits, keeps files and re-evaluates.

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
    let commit = s.fate() == Fate::Kept;
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

/// What becomes of an import's writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Committed: no bad row, or `--skip-invalid` (the bad rows are set aside).
    Kept,
    /// `--dry-run` of a file a real run would commit: rolled back, the summary says what
    /// would have been written.
    DryRun,
    /// All or nothing, and a bad row was found: rolled back and the command fails, a dry
    /// run included (it says the import would fail).
    Failed,
}

/// The one "all or nothing" rule: a bad row dooms the whole import unless `skip_invalid`;
/// otherwise a dry run keeps nothing and a real run keeps everything valid.
pub fn fate(dry_run: bool, skip_invalid: bool, rejected: u64) -> Fate {
    if rejected > 0 && !skip_invalid {
        Fate::Failed
    } else if dry_run {
        Fate::DryRun
    } else {
        Fate::Kept
    }
}

impl Options {
    /// What becomes of the import's writes once `rejected` rows were found bad.
    pub fn fate(&self, rejected: u64) -> Fate {
        fate(self.dry_run, self.skip_invalid, rejected)
    }

    /// Whether a file whose rows are all valid is kept: the credentials of the accounts it
    /// makes must then be issued (not on a dry run).
    pub fn keeps_a_clean_file(&self) -> bool {
        self.fate(0) == Fate::Kept
    }

    /// Whether bad rows are set aside (to a rejects file) while the valid ones are kept.
    pub fn sets_bad_rows_aside(&self) -> bool {
        self.fate(1) == Fate::Kept
    }
}

impl Summary {
    /// What becomes of the import's writes, given the bad rows it found.
    pub fn fate(&self) -> Fate {
        fate(self.dry_run, self.skip_invalid, self.rejected)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_row_dooms_the_import_unless_skipped_and_a_dry_run_keeps_nothing() {
        for (dry_run, skip_invalid, rejected, expected) in [
            (false, false, 0, Fate::Kept),
            (false, false, 1, Fate::Failed),
            (false, true, 3, Fate::Kept),
            (true, false, 0, Fate::DryRun),
            // A dry run of a doomed file says it would fail.
            (true, false, 2, Fate::Failed),
            (true, true, 2, Fate::DryRun),
        ] {
            assert_eq!(
                fate(dry_run, skip_invalid, rejected),
                expected,
                "dry_run={dry_run} skip_invalid={skip_invalid} rejected={rejected}"
            );
        }
        let mut o = Options::new("f.csv".into(), crate::domain::progress::none());
        assert!(o.keeps_a_clean_file() && !o.sets_bad_rows_aside());
        o.skip_invalid = true;
        assert!(o.keeps_a_clean_file() && o.sets_bad_rows_aside());
        o.dry_run = true;
        assert!(!o.keeps_a_clean_file() && !o.sets_bad_rows_aside());
    }
}
