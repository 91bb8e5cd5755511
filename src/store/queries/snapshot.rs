//! Loading the engine's [`Snapshot`] in three queries.

use std::sync::Arc;

use anyhow::Result;
use chrono::NaiveDate;

use crate::rules::Market;
use crate::rules::snapshot::{Achievement, Classification, PerformanceRecord, Person, Snapshot};
use crate::store::Db;
use crate::store::sql::{Row, params};
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
    /// sorting (beyond one MSA's few links, oldest first), no hashing per row, and codes are
    /// shared between records.
    pub fn snapshot(&self, org_id: i64, market: Market) -> Result<Snapshot> {
        let (ours, all): (i64, i64) = self.conn().query_row(
            "SELECT (SELECT count(*) FROM msa_links WHERE org_id = ?1),
                    (SELECT count(*) FROM msa_links)",
            [org_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut people: Vec<Person> = Vec::with_capacity(ours as usize);
        {
            // A link's account is always of the link's organization (links are made only
            // from an account of it), so the stored name (`local@`, migration 10) takes the
            // organization's domain, appended here once per row in Rust rather than by a
            // join to `orgs` and a concatenation in SQL for each of 100,000 rows.
            let domain = self.org_domain(org_id)?;
            let mut st = self.conn().prepare_cached(
                "SELECT l.user_id, u.username, l.msa, l.started_at, l.ended_at
                 FROM msa_links l INDEXED BY msa_links_msa JOIN users u ON u.id = l.user_id
                 WHERE l.org_id = ?1 ORDER BY l.msa, l.id",
            )?;
            // Streamed: PostgreSQL's rows are read as they arrive, not fetched whole first.
            st.for_each([org_id], |r| {
                let stem = r.get_ref(1)?.as_str()?;
                let mut username = String::with_capacity(stem.len() + domain.len());
                username.push_str(stem);
                username.push_str(&domain);
                people.push(Person {
                    user_id: r.get(0)?,
                    username,
                    msa: r.get(2)?,
                    associated: from_unix(r.get(3)?),
                    ended: r.get::<_, Option<i64>>(4)?.map(from_unix),
                    achievements: Vec::new(),
                });
                Ok(true)
            })?;
        }
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
            let mut st = self.conn().prepare_cached(sql)?;
            let mut codes: Vec<Arc<str>> = Vec::new();
            // `at`: the first person whose MSA is not below the current row's MSA. Both
            // sides are in the same (binary) order, so it only moves forward.
            let mut at = 0;
            // Streamed, as the people were: one pass, never the whole result in memory.
            let mut merge = |r: &Row<'_>| -> crate::store::sql::Result<bool> {
                let msa = r.get_ref(0)?.as_bytes()?;
                while at < people.len() && people[at].msa.as_bytes() < msa {
                    at += 1;
                }
                if at == people.len() {
                    return Ok(false);
                }
                if people[at].msa.as_bytes() != msa {
                    return Ok(true);
                }
                let Some(earned) = fast_date(r.get_ref(2)?.as_bytes()?) else {
                    return Ok(true);
                };
                let expires = match r.get_ref(3)?.as_bytes_or_null()? {
                    Some(s) => fast_date(s),
                    None => None,
                };
                let a = Achievement {
                    code: shared_code(&mut codes, r.get_ref(1)?.as_str()?),
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
                st.for_each([org_id], &mut merge)?;
            } else {
                st.for_each(params![], &mut merge)?;
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
                track: (!p.track.is_empty()).then_some(p.track),
                association: crate::rules::Association::parse(&p.association),
            })
            .collect();
        let classifications = self
            .classifications(org_id)?
            .into_iter()
            .map(|c| Classification {
                designation: c.designation,
                track: c.track,
                since: c.since,
            })
            .collect();
        Ok(Snapshot {
            market,
            people,
            performance,
            classifications,
        })
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
        let rows = st.query_map(params![org_id, msa], |r| {
            Ok(Person {
                user_id: r.get(0)?,
                username: r.get(1)?,
                msa: r.get(2)?,
                associated: from_unix(r.get(3)?),
                ended: r.get::<_, Option<i64>>(4)?.map(from_unix),
                achievements: Vec::new(),
            })
        })?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }
}

/// The shared string of a code: a catalogue has a few dozen codes, so a short list searched
/// linearly beats hashing, and every record of a code shares one allocation.
fn shared_code(codes: &mut Vec<Arc<str>>, code: &str) -> Arc<str> {
    if let Some(c) = codes.iter().find(|c| &***c == code) {
        return Arc::clone(c);
    }
    let c: Arc<str> = Arc::from(code);
    codes.push(Arc::clone(&c));
    c
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
