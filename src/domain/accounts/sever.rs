//! Severing: an MSA is associated with one account at a time (SPEC §4), so linking it to
//! an account ends the open association it had with another. This module owns that
//! decision and every word of it, for single links (`users add --msa`, `users link-msa`,
//! `employee link-msa`) and for imports (`users import`, the Trainings report's
//! `--link-users`) alike: why the association ended (the reason written on it), its audit
//! entry in the trail of the organization that lost it, the note the command prints ("would
//! be severed" on a dry run, never "is now"), and the cause the alerts of that organization
//! record.
//!
//! Invariants:
//! - **One reason**: an association taken by another organization's account is "linked to
//!   USER (ORG)"; one moved between two accounts of the same organization (only by an
//!   administrator, `--move`) is "moved to USER by an administrator (--move)".
//! - **A dry run says "would be"**: [`Severed`] knows whether the command keeps its writes,
//!   and so do its notes and effects (a dry run touches no organization).
//! - The caller writes the end of the association through its own connection ([`sever`]'s
//!   `end`): a single link through the store, an import through its prepared statements.

use anyhow::Result;

use crate::domain::Actor;
use crate::store::import::OpenLink;
use crate::store::trainees::Entry;
use crate::store::{Db, MsaLink, Org};

/// The open association of an MSA about to be severed: its link and the account holding it.
#[derive(Debug, Clone)]
pub struct Held {
    /// The link's id.
    pub link_id: i64,
    /// The account's user name.
    pub username: String,
    /// The account's organization.
    pub org_id: i64,
    /// That organization's name.
    pub org_name: String,
}

impl From<MsaLink> for Held {
    fn from(l: MsaLink) -> Self {
        Held {
            link_id: l.id,
            username: l.username,
            org_id: l.org_id,
            org_name: l.org_name,
        }
    }
}

impl From<OpenLink> for Held {
    fn from(l: OpenLink) -> Self {
        Held {
            link_id: l.id,
            username: l.username,
            org_id: l.org_id,
            org_name: l.org_name,
        }
    }
}

/// An association severed: an MSA's association with an account ended because the MSA was
/// linked to another account.
#[derive(Debug, Clone)]
pub struct Severance {
    /// The MSA, normalized.
    pub msa: String,
    /// The account that lost it.
    pub username: String,
    /// That account's organization.
    pub org_id: i64,
    /// That organization's name.
    pub org_name: String,
    /// Why it ended, as written on the association and in the audit trail.
    pub reason: String,
}

/// Ends `held`, the open association of `msa`, because the MSA is being linked to the account
/// `to` of `org`: the one place that decides why (see the module's invariants). `end` writes
/// the end of the association (its link id, the reason) through the caller's connection;
/// the caller audits [`Severance::entry`] with its other entries.
pub fn sever(
    msa: &str,
    held: Held,
    to: &str,
    org: &Org,
    end: impl FnOnce(i64, &str) -> Result<()>,
) -> Result<Severance> {
    let reason = if held.org_id == org.id {
        format!("moved to {to} by an administrator (--move)")
    } else {
        format!("linked to {to} ({})", org.name)
    };
    end(held.link_id, &reason)?;
    Ok(Severance {
        msa: msa.to_owned(),
        username: held.username,
        org_id: held.org_id,
        org_name: held.org_name,
        reason,
    })
}

impl Severance {
    /// Its entry in the audit trail of the organization that lost the MSA.
    pub fn entry(&self) -> Entry {
        Entry {
            org_id: self.org_id,
            action: "msa.sever",
            subject: self.username.clone(),
            detail: format!("msa={} severed: {}", self.msa, self.reason),
        }
    }

    /// The note a command prints about it: on a dry run nothing was written, so the
    /// association "would be" severed, never "is now".
    pub fn note(&self, dry_run: bool) -> String {
        format!(
            "{} was associated with {} in {}; that association {} severed",
            self.msa,
            self.username,
            self.org_name,
            if dry_run { "would be" } else { "is now" }
        )
    }

    /// Whether the MSA moved between two accounts of `org` (by `--move`), not away from
    /// another organization.
    pub fn moved_within(&self, org: &Org) -> bool {
        self.org_id == org.id
    }
}

/// The associations one command severed, in the order severed: what it counts, lists,
/// audits and hands to the effects.
#[derive(Debug, Default)]
pub struct Severed {
    dry_run: bool,
    list: Vec<(Severance, Option<u64>)>,
}

impl Severed {
    /// Severances of a command; `dry_run` when nothing it writes is kept.
    pub fn new(dry_run: bool) -> Self {
        Severed {
            dry_run,
            list: Vec::new(),
        }
    }

    /// Records `s`, severed by the row on `line` of the file if any.
    pub fn push(&mut self, s: Severance, line: Option<u64>) {
        self.list.push((s, line));
    }

    /// How many associations were severed.
    pub fn count(&self) -> u64 {
        self.list.len() as u64
    }

    /// The notes of the first `max` severances, each naming its line when it has one.
    pub fn notes(&self, max: usize) -> impl Iterator<Item = String> + '_ {
        self.list.iter().take(max).map(|(s, line)| match line {
            Some(n) => format!("{} (line {n})", s.note(self.dry_run)),
            None => s.note(self.dry_run),
        })
    }

    /// Audits every severance in the trail of the organization that lost the MSA, for a
    /// command that did not audit them as it severed them.
    pub fn audit(&self, db: &Db, actor: &Actor) -> Result<()> {
        let entries: Vec<Entry> = self.list.iter().map(|(s, _)| s.entry()).collect();
        db.audit_entries(actor.at, &actor.name, &entries)
    }

    /// The organizations that lost an MSA, in the order first severed, each with the cause
    /// its alerts record: the associations were linked to accounts of another organization
    /// `by` (e.g. "a users import"). Empty on a dry run: nothing was written.
    pub fn causes(&self, by: &str) -> Vec<(i64, String)> {
        if self.dry_run {
            return Vec::new();
        }
        let mut orgs: Vec<(i64, Vec<&Severance>)> = Vec::new();
        for (s, _) in &self.list {
            match orgs.iter_mut().find(|(o, _)| *o == s.org_id) {
                Some((_, list)) => list.push(s),
                None => orgs.push((s.org_id, vec![s])),
            }
        }
        orgs.into_iter()
            .map(|(o, list)| (o, cause(&list, Some(by))))
            .collect()
    }
}

/// The cause recorded with the alerts of the organization that lost `list` (one or more of
/// its associations), linked elsewhere by a single command or `by` an import.
pub fn cause(list: &[&Severance], by: Option<&str>) -> String {
    let by = by.map(|b| format!(" by {b}")).unwrap_or_default();
    match list {
        [one] => format!(
            "MSA {} of {} severed (linked to another organization{by})",
            one.msa, one.username
        ),
        many => format!(
            "MSAs of {} accounts severed (linked to another organization{by})",
            many.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: i64, name: &str) -> Org {
        Org {
            id,
            partner_id: id.to_string(),
            name: name.to_owned(),
            slug: name.to_lowercase(),
            domain: format!("{}.com", name.to_lowercase()),
            market: Default::default(),
            created_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn held(org_id: i64, username: &str, org_name: &str) -> Held {
        Held {
            link_id: 7,
            username: username.to_owned(),
            org_id,
            org_name: org_name.to_owned(),
        }
    }

    fn severed(h: Held, to: &str, org: &Org) -> (Severance, Option<(i64, String)>) {
        let mut ended = None;
        let s = sever("ann@outlook.com", h, to, org, |id, reason| {
            ended = Some((id, reason.to_owned()));
            Ok(())
        })
        .unwrap();
        (s, ended)
    }

    #[test]
    fn the_reason_says_where_the_msa_went_and_is_written_on_the_association() {
        let fab = org(2, "Fabrikam");
        let (s, ended) = severed(held(1, "ann@contoso.com", "Contoso"), "ann@fab.com", &fab);
        assert_eq!(s.reason, "linked to ann@fab.com (Fabrikam)");
        assert_eq!(ended, Some((7, s.reason.clone())));
        assert!(!s.moved_within(&fab));
        let e = s.entry();
        assert_eq!(
            (e.org_id, e.action, e.subject.as_str()),
            (1, "msa.sever", "ann@contoso.com")
        );
        assert_eq!(
            e.detail,
            "msa=ann@outlook.com severed: linked to ann@fab.com (Fabrikam)"
        );
        // Between two accounts of one organization it is a move (`--move`).
        let (s, _) = severed(held(2, "old@fab.com", "Fabrikam"), "ann@fab.com", &fab);
        assert_eq!(
            s.reason,
            "moved to ann@fab.com by an administrator (--move)"
        );
        assert!(s.moved_within(&fab));
    }

    #[test]
    fn a_dry_run_says_would_be_and_touches_no_organization() {
        let fab = org(2, "Fabrikam");
        for dry_run in [false, true] {
            let mut list = Severed::new(dry_run);
            let (a, _) = severed(held(1, "ann@contoso.com", "Contoso"), "a@fab.com", &fab);
            let (b, _) = severed(held(1, "bob@contoso.com", "Contoso"), "b@fab.com", &fab);
            let (c, _) = severed(held(3, "cy@northwind.com", "Northwind"), "c@fab.com", &fab);
            list.push(a, Some(2));
            list.push(b, None);
            list.push(c, None);
            assert_eq!(list.count(), 3);
            let notes: Vec<String> = list.notes(1).collect();
            let verb = if dry_run { "would be" } else { "is now" };
            assert_eq!(
                notes,
                [format!(
                    "ann@outlook.com was associated with ann@contoso.com in Contoso; that \
                     association {verb} severed (line 2)"
                )]
            );
            let causes = list.causes("a users import");
            if dry_run {
                assert!(causes.is_empty());
            } else {
                assert_eq!(
                    causes,
                    [
                        (
                            1,
                            "MSAs of 2 accounts severed (linked to another organization by a \
                             users import)"
                                .to_owned()
                        ),
                        (
                            3,
                            "MSA ann@outlook.com of cy@northwind.com severed (linked to \
                             another organization by a users import)"
                                .to_owned()
                        ),
                    ]
                );
            }
        }
    }
}
