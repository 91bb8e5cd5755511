//! The report's people: one entry per MSA (not per row) with their CorpEmail and name,
//! then, with `--link-users` / `--create-users`, their accounts linked or created with the
//! rules, rows and audit entries of the services `users link-msa` and `users add` (severance
//! rules of SPEC §4, one credentials file), a chunk of people at a time (`accounts::Batch`:
//! a few statements per chunk on PostgreSQL, issue 26).

use std::collections::HashMap;

use anyhow::Result;

use super::{Linking, Trainings};
use crate::domain::accounts::{Actor, Batch, Target};
use crate::domain::credentials::CredentialsFile;
use crate::domain::effects::{self, Change};
use crate::domain::import::{Options, Summary};
use crate::store::{Db, Org};
use crate::support::fields;

/// A person of the report: their CorpEmail and name. Without linking only whether they
/// have a CorpEmail matters: it is then kept as an empty string, and the name not at all.
pub(super) struct Person {
    /// Its number in the order people were first noted (the key of its records in
    /// `pending`; meaningful while no one is taken out, i.e. until the rows are decided).
    pub(super) id: u32,
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
    let id = people.len() as u32;
    let p = people.entry(msa).or_insert_with(|| Person {
        id,
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

/// Why a row linking people is refused for its CorpEmail `corp`, given the rows taken
/// before it: its MSA got another CorpEmail earlier, or another MSA got this one.
pub(super) fn corp_refusal(
    people: &HashMap<String, Person>,
    corp_owner: &HashMap<String, String>,
    msa: &str,
    corp: &str,
) -> Option<String> {
    if let Some(p) = people.get(msa)
        && let Some(pc) = &p.corp
        && pc != corp
    {
        return Some(format!(
            "CorpEmail: {corp} differs from {pc}, given earlier for the same Email {msa}"
        ));
    }
    if let Some(m) = corp_owner.get(corp)
        && m != msa
    {
        return Some(format!(
            "Email: {corp} is the CorpEmail of {m} earlier in the file; an account links one MSA"
        ));
    }
    None
}

/// People asked about and written together (see `accounts::Batch`): a few round trips per
/// chunk on PostgreSQL, whatever the chunk's size.
const CHUNK: usize = 4096;

/// Links (and with `--create-users` creates) the accounts of the report's people, in MSA
/// order so that the result never depends on hash order, a chunk at a time.
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
    let mut people: Vec<(String, String, Person)> = people
        .into_iter()
        .filter_map(|(msa, p)| Some((msa, p.corp.clone()?, p)))
        .collect();
    people.sort_by(|a, b| a.0.cmp(&b.0));
    let mut severed_in: Vec<i64> = Vec::new();
    let mut batch = Batch::new(db, org, actor);
    let creating = linking.create && creds.is_some();
    for chunk in people.chunks(CHUNK) {
        let keys: Vec<(&str, &str)> = chunk
            .iter()
            .map(|(msa, corp, _)| (msa.as_str(), corp.as_str()))
            .collect();
        let met = batch.met(&keys, creating)?;
        for (msa, corp, p) in chunk {
            let current = met.links.get(msa);
            let account = met.accounts.get(corp);
            if let Some(l) = current
                && l.org_id == org.id
            {
                match account {
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
                    if let Some(other) = &u.msa {
                        t.conflicts.push(format!(
                            "{} ({corp}) already has the MSA {other}: {msa} not linked",
                            u.username
                        ));
                        continue;
                    }
                    batch.link(&met, Target::Existing(u.id), &u.username, msa)?
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
                        fields::username_local(corp)
                    };
                    let linked = batch.add(&met, creds, &name, corp, msa)?;
                    t.created += 1;
                    linked
                }
            };
            t.linked += 1;
            if let Some(s) = linked.severed {
                summary.severed += 1;
                if summary.notes.len() < crate::domain::import::MAX_LISTED_ERRORS {
                    summary.notes.push(crate::domain::import::severed_note(
                        msa,
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
        batch.flush()?;
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
