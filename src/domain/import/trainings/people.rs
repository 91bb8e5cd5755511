//! The report's people: one entry per MSA (not per row) with their CorpEmail and name,
//! then, with `--link-users` / `--create-users`, their accounts linked or created through the
//! services `users link-msa` and `users add` use (audited, severance rules of SPEC §4, one
//! credentials file).

use std::collections::HashMap;

use anyhow::Result;

use super::{Linking, Trainings};
use crate::domain::accounts::{self, Actor, AddUser, LinkedBy, Role};
use crate::domain::credentials::{CredentialsFile, OsRandom};
use crate::domain::effects::{self, Change};
use crate::domain::import::{Options, Summary};
use crate::store::{Db, Org};
use crate::support::fields;

/// A person of the report: their CorpEmail and name. Without linking only whether they
/// have a CorpEmail matters: it is then kept as an empty string, and the name not at all.
pub(super) struct Person {
    pub(super) corp: Option<String>,
    /// Rows taken so far that gave a CorpEmail (one refused at the end takes its back).
    pub(super) corp_rows: u64,
    pub(super) first: String,
    pub(super) last: String,
}

pub(super) fn note_person(
    people: &mut HashMap<String, Person>,
    corp_owner: &mut HashMap<String, String>,
    msa: String,
    corp: Option<String>,
    first: &str,
    last: &str,
) {
    if let Some(c) = corp.as_ref().filter(|c| !c.is_empty())
        && !corp_owner.contains_key(c)
    {
        corp_owner.insert(c.clone(), msa.clone());
    }
    let p = people.entry(msa).or_insert_with(|| Person {
        corp: None,
        corp_rows: 0,
        first: first.trim().to_owned(),
        last: last.trim().to_owned(),
    });
    if corp.is_some() {
        p.corp_rows += 1;
    }
    if p.corp.is_none() {
        p.corp = corp;
    }
}

/// Links (and with `--create-users` creates) the accounts of the report's people, in MSA
/// order so that the result never depends on hash order.
#[allow(clippy::too_many_arguments)]
pub(super) fn link_people(
    db: &Db,
    org: &Org,
    actor: &Actor,
    opts: &Options,
    linking: Linking,
    people: HashMap<String, Person>,
    mut creds: Option<&mut CredentialsFile>,
    t: &mut Trainings,
    summary: &mut Summary,
) -> Result<()> {
    let mut people: Vec<(String, Person)> = people.into_iter().collect();
    people.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rng = OsRandom::new();
    let mut severed_in: Vec<i64> = Vec::new();
    for (msa, p) in people {
        let Some(corp) = p.corp else { continue };
        let current = db.open_link_for_msa(&msa)?;
        let account = db.active_user_by_email(org.id, &corp)?;
        if let Some(l) = &current
            && l.org_id == org.id
        {
            match &account {
                Some(u) if u.id == l.user_id => t.already_linked += 1,
                _ => t.conflicts.push(format!(
                    "{msa} is linked to {}, not to the account of {corp}: left as it is",
                    l.username
                )),
            }
            continue;
        }
        let linked = match account {
            Some(u) => {
                if let Some(other) = db.open_link_for_user(u.id)? {
                    t.conflicts.push(format!(
                        "{} ({corp}) already has the MSA {}: {msa} not linked",
                        u.username, other.msa
                    ));
                    continue;
                }
                accounts::link_msa(db, org, actor, u.id, &u.username, &msa, LinkedBy::Admin)?
            }
            None if !linking.create => {
                t.without_account += 1;
                continue;
            }
            None => {
                let Some(creds) = creds.as_deref_mut() else {
                    // A dry run: the account would be created.
                    t.created += 1;
                    t.linked += 1;
                    continue;
                };
                let name = format!("{} {}", p.first, p.last);
                let name = if fields::name(&name).is_ok() {
                    name
                } else {
                    fields::username_local(&corp)
                };
                let added = accounts::add(
                    db,
                    org,
                    actor,
                    &mut rng,
                    creds,
                    &AddUser {
                        name: &name,
                        email: &corp,
                        roles: &[Role::User],
                        msa: Some(&msa),
                        self_service_reset: false,
                    },
                )?;
                t.created += 1;
                match added.link {
                    Some(l) => l,
                    None => continue,
                }
            }
        };
        t.linked += 1;
        if let Some(s) = linked.severed {
            summary.severed += 1;
            if summary.notes.len() < crate::domain::import::MAX_LISTED_ERRORS {
                summary.notes.push(crate::domain::import::severed_note(
                    &msa,
                    &s.username,
                    &s.org_name,
                    opts.dry_run,
                ));
            }
            if !severed_in.contains(&s.org_id) {
                severed_in.push(s.org_id);
            }
        }
    }
    if opts.dry_run {
        return Ok(());
    }
    // Another organization lost an MSA: that can break a competency its membership shows.
    let cause = format!(
        "MSA severed (linked to {} by a Trainings report import)",
        org.name
    );
    let change = Change::Severed(severed_in.into_iter().map(|o| (o, cause.clone())).collect());
    for raised in effects::after(db, org, actor, &change)? {
        if raised.elsewhere {
            summary.elsewhere.push(raised);
        } else {
            summary.alerts.extend(raised.alerts);
        }
    }
    Ok(())
}
