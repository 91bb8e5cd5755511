//! Accounts created and MSAs linked for many people at once: the Trainings report import's
//! `--link-users` / `--create-users` (issue 26). The rules, the rows and the audit entries
//! are those of [`super::add`] and [`super::link_msa`] by an administrator; only the pace
//! differs: what a chunk of people meets is asked once for the chunk ([`Batch::met`]) and
//! what it makes is written once for the chunk ([`Batch::flush`]), so that PostgreSQL
//! costs a few round trips per chunk instead of a dozen per person.
//!
//! With `--linked-since` ([`Batch::since`]) the links it makes start at that earlier date
//! instead of now ([`Batch::start`]): never before an association of the same MSA or
//! account in the organization ended (one person is never counted twice), and never over
//! one with another organization's account (the caller refuses those).
//!
//! Invariant: the people of a chunk are independent (distinct MSAs, distinct e-mails), so
//! what one of them makes changes no answer another got — except user names, which the
//! batch keeps for the accounts it made and consults beside the database's answers.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::links::{how, link_detail};
use super::sever::sever;
use super::{Actor, Linked, LinkedBy, Role, add_detail};
use crate::domain::credentials::{self, CredentialsFile, Issued, OsRandom};
use crate::error::bad_input;
use crate::store::trainees::{Earlier, Entry, Met, NewAccount};
use crate::store::{Db, Org};
use crate::support::fields;

/// The account an MSA is linked to.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// An account already in the database (its id).
    Existing(i64),
    /// The n-th account this batch made, written at the next [`Batch::flush`].
    New(usize),
}

/// The accounts, associations and audit entries of a chunk of people, written together.
pub struct Batch<'a> {
    db: &'a Db<'a>,
    org: &'a Org,
    actor: &'a Actor,
    rng: OsRandom,
    accounts: Vec<NewAccount>,
    links: Vec<(String, Target, DateTime<Utc>)>,
    /// `--linked-since`: the start asked for, and the organization's associations that
    /// ended after it.
    since: Option<(DateTime<Utc>, Earlier)>,
    audit: Vec<Entry>,
    /// The first user names of the last chunk's e-mails, asked by [`Batch::met`].
    asked: HashSet<String>,
    /// User names and e-mails of the accounts this batch made.
    names: HashSet<String>,
    emails: HashSet<String>,
}

impl<'a> Batch<'a> {
    /// A batch of `actor`'s changes in `org`.
    pub fn new(db: &'a Db<'a>, org: &'a Org, actor: &'a Actor) -> Self {
        Batch {
            db,
            org,
            actor,
            rng: OsRandom::new(),
            accounts: Vec::new(),
            links: Vec::new(),
            since: None,
            audit: Vec::new(),
            asked: HashSet::new(),
            names: HashSet::new(),
            emails: HashSet::new(),
        }
    }

    /// Links made from now on start at `since` (an instant before now) where nothing
    /// forbids it (see [`Batch::start`]).
    pub fn since(&mut self, since: DateTime<Utc>) -> Result<()> {
        let here = self.db.ended_here_after(self.org.id, since)?;
        self.since = Some((since, here));
        Ok(())
    }

    /// When a link of `msa` to `account` (an existing account's id, `None` for a new one)
    /// made now starts: now, or with [`Batch::since`] that instant or the end of the latest
    /// association of the MSA or the account in the organization if later. `Err` when the
    /// MSA was associated with another organization's account after that instant: the
    /// latest end of those associations, `None` while one is open.
    pub fn start(
        &self,
        elsewhere: &HashMap<String, Option<DateTime<Utc>>>,
        msa: &str,
        account: Option<i64>,
    ) -> std::result::Result<DateTime<Utc>, Option<DateTime<Utc>>> {
        let Some((since, here)) = &self.since else {
            return Ok(self.actor.at);
        };
        if let Some(until) = elsewhere.get(msa) {
            return Err(*until);
        }
        let mut start = *since;
        if let Some(ended) = here.msas.get(msa) {
            start = start.max(*ended);
        }
        if let Some(ended) = account.and_then(|a| here.accounts.get(&a)) {
            start = start.max(*ended);
        }
        Ok(start.min(self.actor.at))
    }

    /// With [`Batch::since`]: of `msas`, those associated with another organization's
    /// account after it (see [`Batch::start`]); empty without.
    pub fn elsewhere(&self, msas: &[String]) -> Result<HashMap<String, Option<DateTime<Utc>>>> {
        match &self.since {
            Some((since, _)) => self.db.elsewhere_after(self.org.id, msas, *since),
            None => Ok(HashMap::new()),
        }
    }

    /// What the people (MSA, e-mail) of a chunk meet: the open associations of their MSAs,
    /// the active accounts of their e-mails and, when `creating`, whether the user names
    /// their accounts would first get are free.
    pub fn met(&mut self, people: &[(&str, &str)], creating: bool) -> Result<Met> {
        let msas: Vec<String> = people.iter().map(|p| p.0.to_owned()).collect();
        let emails: Vec<String> = people.iter().map(|p| p.1.to_owned()).collect();
        let names: Vec<String> = if creating {
            emails.iter().map(|e| self.first_name(e)).collect()
        } else {
            Vec::new()
        };
        let met = self.db.people_met(self.org.id, &msas, &emails, &names)?;
        self.asked = names.into_iter().collect();
        Ok(met)
    }

    fn first_name(&self, email: &str) -> String {
        format!("{}@{}", fields::username_local(email), self.org.domain)
    }

    /// [`super::free_username`], from what [`Batch::met`] found for the first user name
    /// and the accounts this batch made (a numbered name is asked on its own: rare).
    fn free_username(&self, met: &Met, email: &str) -> Result<String> {
        let local = fields::username_local(email);
        let domain = &self.org.domain;
        let mut candidate = format!("{local}@{domain}");
        let mut n = 1;
        loop {
            let asked = self.asked.contains(&candidate);
            let taken = self.names.contains(&candidate)
                || if asked {
                    met.taken.contains(&candidate)
                } else {
                    self.db.username_taken(&candidate)?
                };
            let used = candidate != email
                && (self.emails.contains(&candidate)
                    || if asked {
                        met.emails.contains(&candidate)
                    } else {
                        self.db.email_in_use(&candidate)?
                    });
            if !taken && !used {
                return Ok(candidate);
            }
            n += 1;
            candidate = format!("{local}{n}@{domain}");
        }
    }

    /// [`super::add`] of a plain user with `msa`, whose e-mail has no active account in
    /// the organization (the caller found none in `met`): its temporary password goes to
    /// `creds`, the account is written at the next [`Batch::flush`], its link starting at
    /// `start` (see [`Batch::start`]).
    pub fn add(
        &mut self,
        met: &Met,
        creds: &mut CredentialsFile,
        name: &str,
        email: &str,
        msa: &str,
        start: DateTime<Utc>,
    ) -> Result<Linked> {
        let name = fields::name(name).map_err(bad_input)?;
        let email = fields::email(email).map_err(bad_input)?;
        let msa = fields::email(msa).map_err(|e| bad_input(format!("MSA: {e}")))?;
        let username = self.free_username(met, &email)?;
        let password = self.rng.temporary_password()?;
        let expires = credentials::temporary_expiry(self.actor.at);
        let roles = Role::join(&[Role::User]);
        let password_hash = credentials::hash_generated(&password);
        creds.write(&Issued {
            username: &username,
            email: &email,
            password: &password,
            expires,
            recovery_code: None,
        })?;
        self.audit.push(Entry {
            org_id: self.org.id,
            action: "users.add",
            subject: username.clone(),
            detail: add_detail(&name, &email, &roles, false),
        });
        self.names.insert(username.clone());
        self.emails.insert(email.clone());
        self.accounts.push(NewAccount {
            username: username.clone(),
            name,
            email,
            roles,
            password_hash,
            expires_at: expires,
        });
        let target = Target::New(self.accounts.len() - 1);
        self.link(met, target, &username, &msa, start)
    }

    /// [`super::link_msa`] by an administrator ([`LinkedBy::Admin`]) of `msa` to an account
    /// with no MSA (`username`), where `msa` is no colleague's (the caller checked both):
    /// an association with another organization's account is severed now, the new one
    /// written at the next [`Batch::flush`], starting at `start` (see [`Batch::start`]; an
    /// earlier start than now is audited with it).
    pub fn link(
        &mut self,
        met: &Met,
        target: Target,
        username: &str,
        msa: &str,
        start: DateTime<Utc>,
    ) -> Result<Linked> {
        let msa = fields::email(msa).map_err(|e| bad_input(format!("MSA: {e}")))?;
        let mut out = Linked {
            msa: msa.clone(),
            unchanged: false,
            severed: None,
            replaced: None,
        };
        if let Some(current) = met.links.get(&msa) {
            if current.org_id == self.org.id {
                anyhow::bail!(
                    "internal error: {msa} is a colleague's, not to be linked in a batch"
                );
            }
            let (db, at) = (self.db, self.actor.at);
            let s = sever(
                &msa,
                current.clone().into(),
                username,
                self.org,
                |id, reason| db.end_link(id, at, reason),
            )?;
            self.audit.push(s.entry());
            out.severed = Some(s);
        }
        let mut detail = link_detail(&msa, how(LinkedBy::Admin));
        if start < self.actor.at {
            detail.push_str(&format!(
                ", counting from {} (--linked-since)",
                crate::support::clock::rfc3339(start)
            ));
        }
        self.audit.push(Entry {
            org_id: self.org.id,
            action: "msa.link",
            subject: username.to_owned(),
            detail,
        });
        self.links.push((msa, target, start));
        Ok(out)
    }

    /// Writes what the chunk made: accounts, then associations, then audit entries, each
    /// in the order made (so ids are those a person-by-person run gives).
    pub fn flush(&mut self) -> Result<()> {
        let at = self.actor.at;
        let ids = self.db.insert_accounts(self.org.id, &self.accounts, at)?;
        let links: Vec<(String, i64, DateTime<Utc>)> = self
            .links
            .drain(..)
            .map(|(m, t, start)| {
                let id = match t {
                    Target::Existing(id) => id,
                    Target::New(i) => ids[i],
                };
                (m, id, start)
            })
            .collect();
        self.db.insert_links_of(self.org.id, &links)?;
        self.db.audit_entries(at, &self.actor.name, &self.audit)?;
        self.accounts.clear();
        self.audit.clear();
        Ok(())
    }
}
