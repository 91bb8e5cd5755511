//! Loading the engine's [`Snapshot`] in three queries.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use anyhow::Result;
use chrono::NaiveDate;

use super::Db;
use super::sql::{OptionalExtension, Param, Row, Value, params};
use crate::rules::Market;
use crate::rules::snapshot::{Achievement, PerformanceRecord, Person, Snapshot};
use crate::support::clock::from_unix;

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
    /// must load in a few hundred milliseconds). People and achievements are both read in
    /// MSA order straight from indexes (`msa_links_msa`, and `achievements_by_msa`, which
    /// covers its rows), so each achievement meets its people in one merge pass: no
    /// sorting (beyond one MSA's few links, oldest first), and codes are shared between
    /// records (found by a cheap hash of their bytes).
    pub fn snapshot(&self, org_id: i64, market: Market) -> Result<Snapshot> {
        let (mut people, ours, all) = if self.conn().is_pg() {
            let people = self.pg_people(org_id)?;
            let (ours, all) = self.pg_link_counts(org_id, people.len())?;
            (people, ours, all)
        } else {
            let (ours, all) = self.conn().query_row(
                "SELECT (SELECT count(*) FROM msa_links WHERE org_id = ?1),
                        (SELECT count(*) FROM msa_links)",
                [org_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            (self.lite_people(org_id, ours)?, ours, all)
        };
        if !people.is_empty() {
            // When the organization holds most of the database's MSAs (the usual case), walk
            // the whole index; otherwise probe it once per MSA of the organization.
            let sql = if ours * 4 >= all {
                "SELECT msa, code, earned, expires, removed_at
                 FROM achievements INDEXED BY achievements_by_msa ORDER BY msa"
            } else {
                "SELECT a.msa, a.code, a.earned, a.expires, a.removed_at
                 FROM achievements a INDEXED BY achievements_by_msa
                 WHERE a.msa IN (SELECT msa FROM msa_links WHERE org_id = ?1) ORDER BY a.msa"
            };
            let mut codes = Codes::default();
            // `at`: the first person whose MSA is not below the current row's MSA. Both
            // sides are in the same (binary) order, so it only moves forward.
            let mut at = 0;
            // Streamed, as the people were: one pass, never the whole result in memory.
            // Columns are read as bytes: compared and parsed, never checked as text again
            // (a code only the first time it is met).
            let mut merge = |r: &Row<'_>| -> super::sql::Result<bool> {
                let msa = r.get_bytes(0)?.unwrap_or_default();
                while at < people.len() && people[at].msa.as_bytes() < msa {
                    at += 1;
                }
                if at == people.len() {
                    return Ok(false);
                }
                if people[at].msa.as_bytes() != msa {
                    return Ok(true);
                }
                let Some(earned) = r.get_bytes(2)?.and_then(fast_date) else {
                    return Ok(true);
                };
                let expires = r.get_bytes(3)?.and_then(fast_date);
                let a = Achievement {
                    code: codes.shared(r.get_bytes(1)?.unwrap_or_default())?,
                    earned,
                    expires,
                    removed: r.get::<_, Option<i64>>(4)?.map(from_unix),
                };
                // Several association intervals of one MSA sit next to each other.
                let mut i = at + 1;
                while i < people.len() && people[i].msa.as_bytes() == msa {
                    people[i].achievements.push(a.clone());
                    i += 1;
                }
                people[at].achievements.push(a);
                Ok(true)
            };
            if sql.contains("?1") {
                self.conn()
                    .prepare_cached(sql)?
                    .for_each([org_id], &mut merge)?;
            } else if self.conn().is_pg() {
                // The same rows in the same order, a page per query (see `Db::paged`).
                self.paged(
                    "SELECT msa, code, earned, expires, removed_at FROM achievements
                     WHERE (msa, code, earned) > (?1, ?2, ?3)
                     ORDER BY msa, code, earned LIMIT 4096",
                    &[],
                    vec![Key::Text(String::new()); 3],
                    |r| {
                        Ok(vec![
                            Key::Text(r.get(0)?),
                            Key::Text(r.get(1)?),
                            Key::Text(r.get(2)?),
                        ])
                    },
                    &mut merge,
                )?;
            } else {
                self.conn()
                    .prepare_cached(sql)?
                    .for_each(params![], &mut merge)?;
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

impl Db<'_> {
    /// SQLite's people of the organization: the links in MSA order from `msa_links_msa`,
    /// each with its user's name from a lookup by primary key.
    fn lite_people(&self, org_id: i64, links: i64) -> Result<Vec<Person>> {
        let mut people: Vec<Person> = Vec::with_capacity(links as usize);
        let mut st = self.conn().prepare_cached(
            "SELECT l.user_id, u.username || uo.domain, l.msa, l.started_at, l.ended_at
             FROM msa_links l INDEXED BY msa_links_msa JOIN users u ON u.id = l.user_id
             JOIN orgs uo ON uo.id = u.org_id
             WHERE l.org_id = ?1 ORDER BY l.msa, l.id",
        )?;
        st.for_each([org_id], |r| {
            people.push(person_from_row(r)?);
            Ok(true)
        })?;
        Ok(people)
    }

    /// PostgreSQL's people of the organization, in the same order as [`Db::lite_people`]
    /// but without the join and the sort its planner would choose (a hash join of both
    /// tables and a sort of the result, spilled to disk at 100,000 people: four times the
    /// cost of the two index scans here). The links are read in the order of the index
    /// `msa_links_msa` itself (an MSA's open link first, then its ended ones by id), each
    /// MSA's few links are put back oldest first here, and the users' names come from one
    /// scan of the organization's users, matched by id.
    fn pg_people(&self, org_id: i64) -> Result<Vec<Person>> {
        let mut links: Vec<(i64, Person)> = Vec::new();
        let ended_key = |id: i64, ended: Option<i64>| if ended.is_none() { 0 } else { id };
        self.paged(
            "SELECT l.id, l.user_id, l.msa, l.started_at, l.ended_at FROM msa_links l
             WHERE l.org_id = ?1
               AND (l.msa, (CASE WHEN l.ended_at IS NULL THEN 0 ELSE l.id END)) > (?2, ?3)
             ORDER BY l.msa, (CASE WHEN l.ended_at IS NULL THEN 0 ELSE l.id END) LIMIT 4096",
            &[Value::Int(org_id)],
            vec![Key::Text(String::new()), Key::Int(-1)],
            |r| {
                let key = ended_key(r.get(0)?, r.get(4)?);
                Ok(vec![Key::Text(r.get(2)?), Key::Int(key)])
            },
            &mut |r| {
                links.push((
                    r.get(0)?,
                    Person {
                        user_id: r.get(1)?,
                        username: String::new(),
                        msa: r.get(2)?,
                        associated: from_unix(r.get(3)?),
                        ended: r.get::<_, Option<i64>>(4)?.map(from_unix),
                        achievements: Vec::new(),
                    },
                ));
                Ok(true)
            },
        )?;
        oldest_first(&mut links);
        let mut names: Vec<(i64, String)> = Vec::with_capacity(links.len());
        // Stored user names lack their organization's domain (migration 10): every name
        // of this scan is in the organization's own domain, appended once here.
        let domain = self.org_domain(org_id)?;
        self.paged(
            "SELECT id, username FROM users WHERE org_id = ?1 AND id > ?2 ORDER BY id LIMIT 4096",
            &[Value::Int(org_id)],
            vec![Key::Int(i64::MIN)],
            |r| Ok(vec![Key::Int(r.get(0)?)]),
            &mut |r| {
                let stem: String = r.get(1)?;
                names.push((r.get(0)?, stem + &domain));
                Ok(true)
            },
        )?;
        let mut people = Vec::with_capacity(links.len());
        for (_, mut p) in links {
            p.username = match names.binary_search_by_key(&p.user_id, |n| n.0) {
                Ok(i) => names[i].1.clone(),
                // A link to another organization's user (never made, but the join of
                // SQLite's query would still name it), or to none (the join drops it).
                Err(_) => match self
                    .conn()
                    .query_row(
                        "SELECT u.username || o.domain FROM users u JOIN orgs o ON o.id = u.org_id
                         WHERE u.id = ?1",
                        [p.user_id],
                        |r| r.get(0),
                    )
                    .optional()?
                {
                    Some(name) => name,
                    None => continue,
                },
            };
            people.push(p);
        }
        Ok(people)
    }

    /// Reads a PostgreSQL query a page at a time, calling `f` for each row until it returns
    /// `false`. `sql` takes `fixed` parameters, then the key of the row a page starts after
    /// (`first`, then what `key_of` reads from each page's last row), and returns at most
    /// [`PAGE`] rows in key order: one index range scan per page.
    ///
    /// Why pages: the synchronous client streams a result at the cost of one trip through
    /// its runtime per row, half the client's time reading an evaluation's 400,000 rows;
    /// a page of rows is received in one trip. A cursor's `FETCH` would do the same but
    /// copies every row through a buffer on the server (a third more server time here);
    /// a page is a plain index scan. Memory stays bounded by a page.
    fn paged(
        &self,
        sql: &str,
        fixed: &[Value<'_>],
        first: Vec<Key>,
        key_of: impl Fn(&Row<'_>) -> super::sql::Result<Vec<Key>>,
        f: &mut dyn FnMut(&Row<'_>) -> super::sql::Result<bool>,
    ) -> Result<()> {
        let mut st = self.conn().prepare_cached(sql)?;
        let mut key = first;
        loop {
            let next = {
                let values: Vec<Value<'_>> = fixed
                    .iter()
                    .copied()
                    .chain(key.iter().map(Key::value))
                    .collect();
                let refs: Vec<&dyn Param> = values.iter().map(|v| v as &dyn Param).collect();
                let mut rows = st.query(refs.as_slice())?;
                let mut n = 0;
                let mut next = None;
                while let Some(r) = rows.next()? {
                    n += 1;
                    if !f(&r)? {
                        return Ok(());
                    }
                    if n == PAGE {
                        next = Some(key_of(&r)?);
                    }
                }
                next
            };
            match next {
                Some(k) => key = k,
                None => return Ok(()),
            }
        }
    }

    /// The organization's links and the database's, for choosing how to read the
    /// achievements: `ours` is already known, and in a database of one organization (the
    /// usual case) every link is ours, which saves counting the table.
    fn pg_link_counts(&self, org_id: i64, ours: usize) -> Result<(i64, i64)> {
        let ours = ours as i64;
        let orgs: i64 = self
            .conn()
            .query_row("SELECT count(*) FROM orgs", params![], |r| r.get(0))?;
        if orgs <= 1 {
            return Ok((ours, ours));
        }
        let others: i64 = self.conn().query_row(
            "SELECT count(*) FROM msa_links WHERE org_id <> ?1",
            [org_id],
            |r| r.get(0),
        )?;
        Ok((ours, ours + others))
    }
}

/// Rows per page of [`Db::paged`] (each query's `LIMIT`): a few hundred kilobytes.
const PAGE: usize = 4096;

/// A column of the key a page of [`Db::paged`] starts after.
#[derive(Clone)]
enum Key {
    Int(i64),
    Text(String),
}

impl Key {
    fn value(&self) -> Value<'_> {
        match self {
            Key::Int(i) => Value::Int(*i),
            Key::Text(s) => Value::Text(s),
        }
    }
}

/// Puts each MSA's links (adjacent, in index order: the open one first) oldest first.
fn oldest_first(links: &mut [(i64, Person)]) {
    let mut start = 0;
    while start < links.len() {
        let mut end = start + 1;
        while end < links.len() && links[end].1.msa == links[start].1.msa {
            end += 1;
        }
        if end - start > 1 {
            links[start..end].sort_unstable_by_key(|l| l.0);
        }
        start = end;
    }
}

impl Db<'_> {
    /// The MSA associations (current and past) of the organization, or of one MSA in it,
    /// without their achievements: what `achievements list` needs to ask the engine whether
    /// a record counts, without loading the whole organization's records.
    pub fn associations(&self, org_id: i64, msa: Option<&str>) -> Result<Vec<Person>> {
        let mut st = self.conn().prepare_cached(
            "SELECT l.user_id, u.username || uo.domain, l.msa, l.started_at, l.ended_at
             FROM msa_links l INDEXED BY msa_links_msa JOIN users u ON u.id = l.user_id
             JOIN orgs uo ON uo.id = u.org_id
             WHERE l.org_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR l.msa = ?2)
             ORDER BY l.msa, l.id",
        )?;
        let rows = st.query_map(params![org_id, msa], person_from_row)?;
        Ok(rows.collect::<super::sql::Result<_>>()?)
    }
}

/// A person from a row of `user_id, user name, msa, started_at, ended_at` (the links
/// queries' columns), without achievements yet.
fn person_from_row(r: &Row<'_>) -> super::sql::Result<Person> {
    Ok(Person {
        user_id: r.get(0)?,
        username: r.get(1)?,
        msa: r.get(2)?,
        associated: from_unix(r.get(3)?),
        ended: r.get::<_, Option<i64>>(4)?.map(from_unix),
        achievements: Vec::new(),
    })
}

/// The shared strings of the codes met so far: a catalogue has a few dozen to a few hundred
/// codes, each record's is found by a cheap hash of its bytes (a linear search compared
/// every code of the catalogue, most of the evaluation's reading time), and every record of
/// a code shares one allocation. A code's bytes are checked as UTF-8 once, when first met.
#[derive(Default)]
struct Codes(HashMap<Box<[u8]>, Arc<str>, BuildHasherDefault<Fnv>>);

impl Codes {
    fn shared(&mut self, code: &[u8]) -> super::sql::Result<Arc<str>> {
        if let Some(c) = self.0.get(code) {
            return Ok(Arc::clone(c));
        }
        let text = std::str::from_utf8(code)
            .map_err(|e| super::sql::Error::Type(format!("a code is not UTF-8 ({e})")))?;
        let c: Arc<str> = Arc::from(text);
        self.0.insert(code.into(), Arc::clone(&c));
        Ok(c)
    }
}

/// FNV-1a: a few multiplications for a short key, where the default SipHash costs more
/// than the search it saves. The keys are the database's own codes, not an adversary's.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
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
