//! Loading the engine's [`Snapshot`] in three queries.

use std::sync::Arc;

use anyhow::Result;
use chrono::NaiveDate;

use super::Db;
use crate::clock::from_unix;
use crate::fasthash::FastMap;
use crate::rules::Market;
use crate::rules::snapshot::{Achievement, PerformanceRecord, Person, Snapshot};

/// Parses a stored `YYYY-MM-DD` without chrono's general-purpose parser: this runs once per
/// achievement of the organization, on the hot path of every evaluation.
fn fast_date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

impl Db<'_> {
    /// Everything the engine needs for one organization: every MSA association it ever had
    /// (with its end), the achievements of those MSAs, and its performance records.
    ///
    /// This is the hot path of every evaluation (100,000 people and 300,000 achievements
    /// must load in a few hundred milliseconds): no sorting in SQL, one pass over the rows,
    /// codes shared between records, MSAs found by a 128-bit keyed hash, and achievements
    /// handed to their people in person order.
    pub fn snapshot(&self, org_id: i64, market: Market) -> Result<Snapshot> {
        // Sizes first, so nothing is rehashed or regrown on the way.
        let (ours, all): (i64, i64) = self.conn().query_row(
            "SELECT (SELECT count(*) FROM msa_links WHERE org_id = ?1),
                    (SELECT count(*) FROM msa_links)",
            [org_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut people = Vec::with_capacity(ours as usize);
        // MSA → people, keyed by a 128-bit keyed hash of the MSA rather than a copy of it:
        // no allocation per person, small entries, and no string comparison on lookup
        // (which would fetch the person's MSA from a random place in memory). With keys
        // drawn at random per process, two MSAs sharing a key is as likely as guessing them.
        let key = MsaKey::new();
        let mut by_msa: FastMap<u128, PersonIdx> =
            FastMap::with_capacity_and_hasher(ours as usize, Default::default());
        {
            let mut st = self.conn().prepare_cached(
                "SELECT l.user_id, u.username, l.msa, l.started_at, l.ended_at
                 FROM msa_links l JOIN users u ON u.id = l.user_id
                 WHERE l.org_id = ?1",
            )?;
            let mut rows = st.query([org_id])?;
            while let Some(r) = rows.next()? {
                let msa: String = r.get(2)?;
                let idx = people.len();
                by_msa
                    .entry(key.of(msa.as_bytes()))
                    .and_modify(|e| e.push(idx))
                    .or_insert(PersonIdx::One(idx));
                people.push(Person {
                    user_id: r.get(0)?,
                    username: r.get(1)?,
                    msa,
                    associated: from_unix(r.get(3)?),
                    ended: r.get::<_, Option<i64>>(4)?.map(from_unix),
                    achievements: Vec::new(),
                });
            }
        }
        if !people.is_empty() {
            // When the organization holds most of the database's MSAs (the usual case), one
            // sequential scan of the table beats a B-tree probe per MSA; otherwise probe.
            let sql = if ours * 4 >= all {
                "SELECT msa, code, earned, expires, removed_at FROM achievements"
            } else {
                "SELECT a.msa, a.code, a.earned, a.expires, a.removed_at FROM achievements a
                 WHERE a.msa IN (SELECT msa FROM msa_links WHERE org_id = ?1)"
            };
            let mut st = self.conn().prepare_cached(sql)?;
            let mut rows = if sql.contains("?1") {
                st.query([org_id])?
            } else {
                st.query([])?
            };
            let mut codes: FastMap<String, Arc<str>> = FastMap::default();
            // Achievements are collected with their person's index and handed over in
            // person order afterwards: table order is unrelated to people order, and
            // touching a random person per row is what costs most at 300,000 rows.
            let mut found: Vec<(u32, Achievement)> = Vec::new();
            // Records of one MSA usually sit together (files list a person's exams in a
            // row): the previous row's lookup is reused without hashing again.
            let mut last: (Vec<u8>, Option<&PersonIdx>) = (Vec::new(), None);
            while let Some(r) = rows.next()? {
                let msa = r.get_ref(0)?.as_bytes()?;
                if last.0 != msa {
                    last.0.clear();
                    last.0.extend_from_slice(msa);
                    last.1 = by_msa.get(&key.of(msa));
                }
                let Some(idx) = last.1 else {
                    continue;
                };
                let Some(earned) = fast_date(r.get_ref(2)?.as_bytes()?) else {
                    continue;
                };
                let expires = match r.get_ref(3)?.as_bytes_or_null()? {
                    Some(s) => fast_date(s),
                    None => None,
                };
                let code = r.get_ref(1)?.as_str()?;
                // One allocation per distinct code, shared by every record of it.
                let code = match codes.get(code) {
                    Some(c) => Arc::clone(c),
                    None => {
                        let shared: Arc<str> = Arc::from(code);
                        codes.insert(code.to_owned(), Arc::clone(&shared));
                        shared
                    }
                };
                let a = Achievement {
                    code,
                    earned,
                    expires,
                    removed: r.get::<_, Option<i64>>(4)?.map(from_unix),
                };
                match idx {
                    PersonIdx::One(i) => found.push((*i as u32, a)),
                    PersonIdx::Many(v) => {
                        for &i in v {
                            found.push((i as u32, a.clone()));
                        }
                    }
                }
            }
            // Stable: each person keeps the table order of their records, so output is
            // the same from run to run.
            found.sort_by_key(|(i, _)| *i);
            let mut found = found.into_iter().peekable();
            for (i, person) in people.iter_mut().enumerate() {
                while let Some((_, a)) = found.next_if(|(j, _)| *j as usize == i) {
                    person.achievements.push(a);
                }
            }
        }
        let performance = self
            .performance(org_id)?
            .into_iter()
            .map(|p| PerformanceRecord {
                metric: p.metric,
                scope: p.scope,
                value: p.value,
                date: p.date,
            })
            .collect();
        Ok(Snapshot {
            market,
            people,
            performance,
        })
    }
}

/// A 128-bit hash of an MSA under two random SipHash keys drawn per snapshot: the key of
/// the snapshot's MSA index (see [`Db::snapshot`]).
struct MsaKey(std::hash::RandomState, std::hash::RandomState);

impl MsaKey {
    fn new() -> Self {
        MsaKey(std::hash::RandomState::new(), std::hash::RandomState::new())
    }

    fn of(&self, msa: &[u8]) -> u128 {
        use std::hash::BuildHasher;
        (u128::from(self.0.hash_one(msa)) << 64) | u128::from(self.1.hash_one(msa))
    }
}

/// The snapshot entries of one MSA: almost always one association, so no vector.
enum PersonIdx {
    One(usize),
    Many(Vec<usize>),
}

impl PersonIdx {
    fn push(&mut self, i: usize) {
        match self {
            PersonIdx::One(first) => *self = PersonIdx::Many(vec![*first, i]),
            PersonIdx::Many(v) => v.push(i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fast_date;

    #[test]
    fn fast_date_parses_and_rejects() {
        assert_eq!(fast_date(b"2026-02-28").unwrap().to_string(), "2026-02-28");
        assert!(fast_date(b"2026-02-30").is_none());
        assert!(fast_date(b"20x6-02-01").is_none());
        assert!(fast_date(b"2026-2-1").is_none());
    }
}
