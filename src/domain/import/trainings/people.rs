//! The report's people: one entry per MSA (not per row) with their CorpEmail and name,
//! then, with `--link-users` / `--create-users`, their accounts linked or created with the
//! rules, rows and audit entries of the services `users link-msa` and `users add` (severance
//! rules of SPEC §4, one credentials file), a chunk of people at a time (`accounts::Batch`:
//! a few statements per chunk on PostgreSQL, issue 26). With `--linked-since` the links
//! made start at that date (SPEC §6a), and an MSA associated with another organization's
//! account after it refuses the whole import.

use std::collections::HashMap;

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};

use super::{Linking, Trainings};
use crate::domain::accounts::{Actor, Batch, Severed, Target};
use crate::domain::credentials::CredentialsFile;
use crate::domain::import::{Options, Summary};
use crate::error::bad_input;
use crate::store::{Db, Org};
use crate::support::clock::{midnight, rfc3339};
use crate::support::fields;

/// A person of the report: their CorpEmail and name. Without linking only whether they
/// have a CorpEmail matters: it is then kept as an empty string, and the name not at all.
pub(super) struct Person {
    pub(super) corp: Option<String>,
    pub(super) first: String,
    pub(super) last: String,
}

/// Notes a row taken (in file order): its MSA's person, named by the first row, and the
/// CorpEmail the first row with one gives (claimed for the MSA in `corp_owner`).
pub(super) fn note_person(
    people: &mut HashMap<String, Person>,
    corp_owner: &mut HashMap<String, String>,
    msa: &str,
    corp: Option<String>,
    first: &str,
    last: &str,
) {
    if let Some(c) = corp.as_ref().filter(|c| !c.is_empty())
        && !corp_owner.contains_key(c)
    {
        corp_owner.insert(c.clone(), msa.to_owned());
    }
    if !people.contains_key(msa) {
        people.insert(
            msa.to_owned(),
            Person {
                corp: None,
                first: first.trim().to_owned(),
                last: last.trim().to_owned(),
            },
        );
    }
    let p = people.get_mut(msa).expect("just noted");
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

/// The MSAs `--linked-since` cannot link (SPEC §6a): associated with another
/// organization's account after the date. Any of them refuses the whole import, naming the
/// first and the date from which every one of them could count; the other organization is
/// never named (it is not this organization's business).
#[derive(Default)]
struct Refusals {
    /// The first MSA refused and the end of its association elsewhere (`None`: open).
    first: Option<(String, Option<DateTime<Utc>>)>,
    count: u64,
    /// Some MSA is still linked elsewhere: no date in the past helps.
    open: bool,
    /// The latest end of those associations.
    latest: Option<DateTime<Utc>>,
}

impl Refusals {
    fn note(&mut self, msa: &str, until: Option<DateTime<Utc>>) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some((msa.to_owned(), until));
        }
        match until {
            None => self.open = true,
            Some(u) => self.latest = self.latest.max(Some(u)),
        }
    }

    fn check(&self, opts: &Options, since: NaiveDate) -> Result<()> {
        let Some((msa, until)) = &self.first else {
            return Ok(());
        };
        let what = match until {
            None => format!("{msa} is linked to an account of another organization"),
            Some(u) => format!(
                "{msa} was linked to an account of another organization until {}",
                rfc3339(*u)
            ),
        };
        let more = match self.count - 1 {
            0 => String::new(),
            1 => " (and 1 more MSA)".to_owned(),
            n => format!(" (and {n} more MSAs)"),
        };
        let fix = match self.latest {
            Some(latest) if !self.open => {
                // The first day whose midnight is not before the latest end.
                let day = latest.date_naive();
                let day = if midnight(day) < latest {
                    day.succ_opt().unwrap_or(day)
                } else {
                    day
                };
                format!(
                    "import with --linked-since {day} or later, or without --linked-since \
                     (links then count from now)"
                )
            }
            _ => "import without --linked-since: links then count from now, and an MSA \
                  linked elsewhere moves here from now on"
                .to_owned(),
        };
        Err(bad_input(format!(
            "{}: --linked-since {since}: {what}{more}, so its link here cannot count from \
             {since}: one person counts for one organization at a time; {fix}; {}",
            opts.file.display(),
            if opts.dry_run {
                "dry run, nothing written"
            } else {
                "nothing was imported"
            }
        )))
    }
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
    let mut severed = Severed::new(opts.dry_run);
    let mut batch = Batch::new(db, org, actor);
    if let Some(since) = linking.since {
        batch.since(midnight(since))?;
    }
    let mut refusals = Refusals::default();
    let creating = linking.create && creds.is_some();
    for chunk in people.chunks(CHUNK) {
        let keys: Vec<(&str, &str)> = chunk
            .iter()
            .map(|(msa, corp, _)| (msa.as_str(), corp.as_str()))
            .collect();
        let met = batch.met(&keys, creating)?;
        let msas: Vec<String> = chunk.iter().map(|(msa, _, _)| msa.clone()).collect();
        let elsewhere = batch.elsewhere(&msas)?;
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
            let existing = match account {
                Some(u) => {
                    if let Some(other) = &u.msa {
                        t.conflicts.push(format!(
                            "{} ({corp}) already has the MSA {other}: {msa} not linked",
                            u.username
                        ));
                        continue;
                    }
                    Some(u)
                }
                None if !linking.create => {
                    t.without_account += 1;
                    continue;
                }
                None => None,
            };
            let start = match batch.start(&elsewhere, msa, existing.map(|u| u.id)) {
                Ok(start) => start,
                Err(until) => {
                    refusals.note(msa, until);
                    continue;
                }
            };
            if let Some(since) = linking.since
                && start > midnight(since)
                && summary.notes.len() < crate::domain::import::MAX_LISTED_ERRORS
            {
                summary.notes.push(format!(
                    "{msa} counts from {}, when an earlier association of it or its account \
                     here ended, not from {since} (one person is never counted twice)",
                    rfc3339(start)
                ));
            }
            let linked = match existing {
                Some(u) => batch.link(&met, Target::Existing(u.id), &u.username, msa, start)?,
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
                    let linked = batch.add(&met, creds, &name, corp, msa, start)?;
                    t.created += 1;
                    linked
                }
            };
            t.linked += 1;
            if let Some(s) = linked.severed {
                severed.push(s, None);
            }
        }
        batch.flush()?;
    }
    if let Some(since) = linking.since {
        refusals.check(opts, since)?;
    }
    crate::domain::import::after_severing(
        db,
        org,
        actor,
        &severed,
        "a Trainings report import",
        summary,
    )
}
