//! The per-evaluation facts, computed once: every individual active at the instant (an
//! account, its active associations merged), a bitset per individual of the catalogue codes
//! that count for them, and a posting list per code (who holds it, ascending).
//!
//! Invariants: bit `c` of an individual's row is set exactly when catalogue code `c` counts
//! for one of their active associations at the instant (the counting rules of
//! [`super::counting`]); each posting list holds the individuals whose bit is set, ascending
//! and without repeats. A requirement compiles to lists of catalogue indices; a code outside
//! the catalogue kills its alternative.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::Range;

use chrono::{DateTime, Utc};

use super::counting::{CatalogRule, When, association_active};
use crate::rules::engine::snapshot::Snapshot;
use crate::rules::parse::{PeopleRequirement, Rulebook};

/// Who holds what at one instant: the counting rules of SPEC §5 applied once, for scorers
/// other than the competency evaluation (the designations' skilling items).
pub struct Holdings<'a>(Prepared<'a>);

impl<'a> Holdings<'a> {
    /// Applies the counting rules to every achievement of the accounts active at `at`.
    pub fn new(rb: &'a Rulebook, snap: &'a Snapshot, at: DateTime<Utc>) -> Self {
        Holdings(Prepared::new(rb, snap, at))
    }

    /// The individuals (accounts active at the instant) holding every code of `all_of` and
    /// every code of one list of `any_of` (when there is one), by user name.
    pub fn qualifying(&self, all_of: &[String], any_of: &[Vec<String>]) -> Vec<u32> {
        let mut out = self.members(all_of, any_of);
        out.sort_by(|&a, &b| self.0.by_username(a, b));
        out
    }

    /// [`Holdings::qualifying`] in index order (no sort by user name): for counting.
    pub fn members(&self, all_of: &[String], any_of: &[Vec<String>]) -> Vec<u32> {
        let req = self.0.compile(&PeopleRequirement {
            count: 1,
            all_of: all_of.to_vec(),
            any_of: any_of.to_vec(),
        });
        let mut out: Vec<u32> = Vec::new();
        for list in &req.lists {
            let Some(&pivot) = list
                .iter()
                .min_by_key(|&&c| self.0.postings[c as usize].len())
            else {
                continue;
            };
            out.extend(
                self.0.postings[pivot as usize]
                    .iter()
                    .copied()
                    .filter(|&i| list.iter().all(|&c| self.0.holds(i, c))),
            );
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The rulebook the holdings were computed under.
    pub fn rulebook(&self) -> &'a Rulebook {
        self.0.rb
    }

    /// An individual's user name.
    pub fn username(&self, i: u32) -> &str {
        self.0.username(i)
    }

    /// An individual's account id.
    pub fn user_id(&self, i: u32) -> i64 {
        self.0.indiv[i as usize].user_id
    }

    /// Whether catalogue code `code` counts for individual `i` at the instant.
    pub fn holds(&self, i: u32, code: &str) -> bool {
        self.0.codes.get(code).is_some_and(|&c| self.0.holds(i, c))
    }

    /// Whether individual `i` holds every code of `all_of` and of one list of `any_of`
    /// (when there is one) without counting `without`: what they would still qualify for
    /// if that one certification lapsed.
    pub fn qualifies_without(
        &self,
        i: u32,
        all_of: &[String],
        any_of: &[Vec<String>],
        without: &str,
    ) -> bool {
        let ok = |c: &String| c != without && self.holds(i, c);
        all_of.iter().all(ok) && (any_of.is_empty() || any_of.iter().any(|l| l.iter().all(ok)))
    }
}

/// One account active at the instant, with its active associations.
pub(super) struct Individual {
    pub(super) user_id: i64,
    /// Range into `Prepared::persons`.
    pub(super) persons: Range<usize>,
}

/// A people requirement compiled to catalogue indices: the individual must hold every code
/// of at least one list (`all_of` plus one `any_of` list). An empty list means anyone;
/// no list at all means nobody (every alternative named a code outside the catalogue).
pub(super) struct CompiledReq {
    pub(super) lists: Vec<Vec<u32>>,
}

/// Per-evaluation facts about individuals, computed once.
pub(super) struct Prepared<'a> {
    pub(super) rb: &'a Rulebook,
    pub(super) snap: &'a Snapshot,
    pub(super) at: DateTime<Utc>,
    pub(super) codes: HashMap<&'a str, u32>,
    pub(super) rules: Vec<CatalogRule>,
    /// Words per individual in `held`.
    pub(super) words: usize,
    /// Accounts active at `at`, by user id.
    pub(super) indiv: Vec<Individual>,
    /// Indices into `snap.people`, grouped per individual.
    pub(super) persons: Vec<usize>,
    /// The first 16 bytes of each individual's user name, big-endian and zero-padded:
    /// ordering thousands of qualifiers by user name would otherwise chase a pointer into
    /// a scattered `Person` per comparison.
    pub(super) name_keys: Vec<u128>,
    /// Bit `c` of individual `i`'s row: catalogue code `c` counts for them at `at`.
    pub(super) held: Vec<u64>,
    /// For each catalogue code, the individuals holding it, ascending.
    pub(super) postings: Vec<Vec<u32>>,
}

impl<'a> Prepared<'a> {
    pub(super) fn new(rb: &'a Rulebook, snap: &'a Snapshot, at: DateTime<Utc>) -> Self {
        let mut codes = HashMap::new();
        for (i, entry) in rb.catalog.iter().enumerate() {
            codes.entry(entry.code.as_str()).or_insert(i as u32);
        }
        let rules: Vec<CatalogRule> = rb
            .catalog
            .iter()
            .map(|e| CatalogRule::new(e, &rb.program))
            .collect();

        let mut active: Vec<(i64, usize)> = snap
            .people
            .iter()
            .enumerate()
            .filter(|(_, p)| association_active(p, at))
            .map(|(i, p)| (p.user_id, i))
            .collect();
        active.sort_unstable();
        let persons: Vec<usize> = active.iter().map(|a| a.1).collect();
        let mut indiv = Vec::new();
        let mut start = 0;
        for i in 1..=active.len() {
            if i == active.len() || active[i].0 != active[start].0 {
                indiv.push(Individual {
                    user_id: active[start].0,
                    persons: start..i,
                });
                start = i;
            }
        }

        let words = rb.catalog.len().div_ceil(64).max(1);
        let mut held = vec![0u64; indiv.len() * words];
        let mut postings = vec![Vec::new(); rb.catalog.len()];
        let when = When::new(at, &rb.program);
        for (i, ind) in indiv.iter().enumerate() {
            let row = &mut held[i * words..(i + 1) * words];
            for &p in &persons[ind.persons.clone()] {
                let person = &snap.people[p];
                for ach in &person.achievements {
                    let Some(&c) = codes.get(&*ach.code) else {
                        continue;
                    };
                    let (w, bit) = (c as usize / 64, 1u64 << (c % 64));
                    if row[w] & bit == 0 && rules[c as usize].counts(person.associated, ach, &when)
                    {
                        row[w] |= bit;
                        postings[c as usize].push(i as u32);
                    }
                }
            }
        }

        let name_keys = indiv
            .iter()
            .map(|ind| {
                let mut key = [0u8; 16];
                let name = snap.people[persons[ind.persons.start]].username.as_bytes();
                let n = name.len().min(16);
                key[..n].copy_from_slice(&name[..n]);
                u128::from_be_bytes(key)
            })
            .collect();

        Prepared {
            rb,
            snap,
            at,
            codes,
            rules,
            words,
            indiv,
            persons,
            name_keys,
            held,
            postings,
        }
    }

    pub(super) fn holds(&self, i: u32, code: u32) -> bool {
        let (w, b) = (code as usize / 64, code % 64);
        self.held[i as usize * self.words + w] >> b & 1 == 1
    }

    pub(super) fn username(&self, i: u32) -> &str {
        &self.snap.people[self.persons[self.indiv[i as usize].persons.start]].username
    }

    /// Lowest user name first; the user id breaks ties so the order is total. A smaller
    /// key means a smaller name (bytes order like `str`), so names are read only on ties.
    pub(super) fn by_username(&self, a: u32, b: u32) -> Ordering {
        let (ka, kb) = (self.name_keys[a as usize], self.name_keys[b as usize]);
        if ka != kb {
            return ka.cmp(&kb);
        }
        self.username(a).cmp(self.username(b)).then(
            self.indiv[a as usize]
                .user_id
                .cmp(&self.indiv[b as usize].user_id),
        )
    }

    pub(super) fn compile(&self, req: &PeopleRequirement) -> CompiledReq {
        let alternatives: Vec<Vec<&String>> = if req.any_of.is_empty() {
            vec![req.all_of.iter().collect()]
        } else {
            req.any_of
                .iter()
                .map(|list| req.all_of.iter().chain(list).collect())
                .collect()
        };
        let lists = alternatives
            .into_iter()
            .filter_map(|codes| {
                let mut list: Vec<u32> = Vec::with_capacity(codes.len());
                for code in codes {
                    // A code outside the catalogue never counts: the alternative is dead.
                    let c = *self.codes.get(code.as_str())?;
                    if !list.contains(&c) {
                        list.push(c);
                    }
                }
                Some(list)
            })
            .collect();
        CompiledReq { lists }
    }

    pub(super) fn qualifies(&self, i: u32, req: &CompiledReq) -> bool {
        req.lists
            .iter()
            .any(|list| list.iter().all(|&c| self.holds(i, c)))
    }

    /// [`Prepared::qualifies`] with catalogue code `without` taken away from `i`.
    pub(super) fn qualifies_without(&self, i: u32, req: &CompiledReq, without: u32) -> bool {
        req.lists
            .iter()
            .any(|list| list.iter().all(|&c| c != without && self.holds(i, c)))
    }

    /// [`Prepared::mask_of`] with catalogue code `without` taken away from `i`.
    pub(super) fn mask_without(&self, i: u32, reqs: &[CompiledReq], without: u32) -> u64 {
        reqs.iter()
            .take(64)
            .enumerate()
            .filter(|(_, req)| self.qualifies_without(i, req, without))
            .fold(0, |m, (r, _)| m | 1 << r)
    }

    /// The set of requirements (bit `r`) individual `i` qualifies for.
    pub(super) fn mask_of(&self, i: u32, reqs: &[CompiledReq]) -> u64 {
        reqs.iter()
            .take(64)
            .enumerate()
            .filter(|(_, req)| self.qualifies(i, req))
            .fold(0, |m, (r, _)| m | 1 << r)
    }
}
