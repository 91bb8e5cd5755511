//! The rows of a Trainings import that links people (`--link-users` / `--create-users`)
//! where the store decides rows at the end (PostgreSQL, issue 26).
//!
//! Linking needs each row's fate before the next row is read: a refused row names no
//! person and claims no CorpEmail, so a later row may take that CorpEmail (SQLite decides
//! each row as it comes). Asking the server row by row cost a round trip per row, so the
//! rows wait here instead, a chunk at a time, and are then decided in file order with
//! SQLite's rules and messages, from memory and one question per chunk:
//! 1. the CorpEmail checks against the rows taken before (`people::corp_refusal`);
//! 2. an MSA associated with another organization's account (asked for the chunk's MSAs
//!    at once, only when such associations exist);
//! 3. a key (MSA, code, earned) a taken row already gave, with that row's expiry.
//!
//! The rows taken go to the store, which adds, updates or leaves them set-based at the
//! end; the refused ones are held with their message, reported in file order with the
//! invalid ones. Memory: the chunk, and a few bytes per taken key (ids, not strings).

use std::collections::HashMap;

use anyhow::Result;
use chrono::{Datelike, NaiveDate};

use super::people::{Person, corp_refusal, note_person};
use crate::domain::import::achievements::decided;
use crate::domain::records::ValidAchievement;
use crate::rules::Rulebook;
use crate::store::stage::{AchievementStage, Decision, Verdict};
use crate::store::{Db, Org};

/// Rows that wait before they are decided.
const CHUNK: usize = 4096;

/// A valid row waiting for its decision.
pub(super) struct Waiting {
    pub(super) line: u64,
    pub(super) span: (u64, u64),
    pub(super) a: ValidAchievement,
    pub(super) corp: Option<String>,
    pub(super) first: String,
    pub(super) last: String,
}

/// What deciding the rows reads and changes, besides the stage.
pub(super) struct Decide<'a, 'd> {
    pub(super) db: &'a Db<'d>,
    pub(super) org: &'a Org,
    pub(super) rb: &'a Rulebook,
    pub(super) check_owner: bool,
    pub(super) people: &'a mut HashMap<String, Person>,
    pub(super) corp_owner: &'a mut HashMap<String, String>,
    pub(super) retired_passes: &'a mut u64,
}

/// The waiting rows, and the keys the taken rows gave.
#[derive(Default)]
pub(super) struct Pending {
    rows: Vec<Waiting>,
    codes: HashMap<String, u16>,
    /// (person, code, earned day) of each taken row: the expiry it gave.
    taken: HashMap<(u32, u16, i32), Option<NaiveDate>>,
}

impl Pending {
    /// Adds a row; true when the chunk is full (the caller decides it then).
    pub(super) fn push(&mut self, row: Waiting) -> bool {
        self.rows.push(row);
        self.rows.len() >= CHUNK
    }

    fn code(&mut self, code: &str) -> u16 {
        if let Some(c) = self.codes.get(code) {
            return *c;
        }
        let c = self.codes.len() as u16;
        self.codes.insert(code.to_owned(), c);
        c
    }

    /// Decides the waiting rows in file order (see the module).
    pub(super) fn decide(
        &mut self,
        stage: &mut AchievementStage<'_>,
        d: &mut Decide,
    ) -> Result<()> {
        let rows = std::mem::take(&mut self.rows);
        let foreign = if d.check_owner {
            let mut msas: Vec<String> = rows.iter().map(|r| r.a.msa.clone()).collect();
            msas.sort_unstable();
            msas.dedup();
            d.db.foreign_msas(d.org.id, &msas)?
        } else {
            HashMap::new()
        };
        for r in rows {
            let a = &r.a;
            let code = self.code(&a.code);
            let day = a.earned.num_days_from_ce();
            let key = d.people.get(&a.msa).map(|p| (p.id, code, day));
            let refused = if let Some(c) = &r.corp
                && let Some(m) = corp_refusal(d.people, d.corp_owner, &a.msa, c)
            {
                Some(m)
            } else if let Some(owner) = foreign.get(&a.msa) {
                let why = Decision::Foreign(owner.clone());
                decided(d.org, "Email", &a.msa, &a.code, a.earned, why).err()
            } else if let Some(first) = key.and_then(|k| self.taken.get(&k)) {
                let why = Decision::Repeated(first.map(|e| e.to_string()));
                decided(d.org, "Email", &a.msa, &a.code, a.earned, why).err()
            } else {
                None
            };
            if let Some(message) = refused {
                if !stage.hold(r.line, r.span, &message)? {
                    anyhow::bail!(
                        "internal error: line {}: a refused row was not held",
                        r.line
                    );
                }
                continue;
            }
            let gives_corp = r.corp.is_some();
            let verdict = stage.add(
                r.line, r.span, &a.msa, &a.code, a.earned, a.expires, gives_corp,
            )?;
            if verdict != Verdict::Later {
                anyhow::bail!(
                    "internal error: line {}: a waiting row was decided at once",
                    r.line
                );
            }
            if crate::rules::engine::retired_before_earned(d.rb, &a.code, a.earned).is_some() {
                *d.retired_passes += 1;
            }
            note_person(
                d.people,
                d.corp_owner,
                r.a.msa.clone(),
                r.corp,
                &r.first,
                &r.last,
            );
            let id = d.people.get(&r.a.msa).map_or(0, |p| p.id);
            self.taken.insert((id, code, day), r.a.expires);
        }
        Ok(())
    }
}
