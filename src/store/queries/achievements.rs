//! Achievements: they belong to the MSA, so they follow the person between organizations.

use crate::store::sql::params;
use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};

use crate::store::Db;

/// An achievement to record.
pub struct NewAchievement<'a> {
    /// The MSA, lower case.
    pub msa: &'a str,
    /// Catalogue code.
    pub code: &'a str,
    /// Day earned.
    pub earned: NaiveDate,
    /// The record's own expiry, if any.
    pub expires: Option<NaiveDate>,
}

/// An achievement as listed, with the account it belongs to in this organization.
#[derive(Debug, Clone)]
pub struct AchievementRow {
    /// The MSA.
    pub msa: String,
    /// The user name currently associated with the MSA in this organization, if any.
    pub username: Option<String>,
    /// Catalogue code.
    pub code: String,
    /// Day earned.
    pub earned: NaiveDate,
    /// The record's own expiry.
    pub expires: Option<NaiveDate>,
}

/// What recording an achievement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new record.
    Added,
    /// An existing record changed (its expiry, or it was removed before).
    Updated,
    /// It was already there, identical.
    Unchanged,
}

fn date(s: String) -> crate::store::sql::Result<NaiveDate> {
    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .map_err(|e| crate::store::sql::Error::Type(format!("date {s:?}: {e}")))
}

impl Db<'_> {
    /// Records an achievement; the same (MSA, code, earned) again is a no-op.
    pub fn upsert_achievement(&self, a: &NewAchievement, at: DateTime<Utc>) -> Result<Recorded> {
        let earned = a.earned.to_string();
        let expires = a.expires.map(|d| d.to_string());
        let mut find = self.conn().prepare_cached(
            "SELECT id, expires, removed_at IS NOT NULL FROM achievements
             WHERE msa = ?1 AND code = ?2 AND earned = ?3",
        )?;
        let existing: Option<(i64, Option<String>, bool)> = {
            let mut rows = find.query(params![a.msa, a.code, earned])?;
            match rows.next()? {
                Some(r) => Some((r.get(0)?, r.get(1)?, r.get(2)?)),
                None => None,
            }
        };
        match existing {
            None => {
                let mut ins = self.conn().prepare_cached(
                    "INSERT INTO achievements (msa, code, earned, expires, added_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                ins.execute(params![a.msa, a.code, earned, expires, at.timestamp()])?;
                Ok(Recorded::Added)
            }
            Some((_, old_expires, false)) if old_expires == expires => Ok(Recorded::Unchanged),
            Some((id, _, _)) => {
                let mut up = self.conn().prepare_cached(
                    "UPDATE achievements SET expires = ?2, removed_at = NULL WHERE id = ?1",
                )?;
                up.execute(params![id, expires])?;
                Ok(Recorded::Updated)
            }
        }
    }

    /// Marks every record of `code` for `msa` removed; returns how many.
    pub fn remove_achievement(&self, msa: &str, code: &str, at: DateTime<Utc>) -> Result<usize> {
        Ok(self.conn().execute(
            "UPDATE achievements SET removed_at = ?3
             WHERE msa = ?1 AND code = ?2 AND removed_at IS NULL",
            params![msa, code, at.timestamp()],
        )?)
    }

    /// The live (not removed) achievements of MSAs currently associated with the
    /// organization's accounts, or of one MSA, ordered by MSA, code and date.
    pub fn achievements(&self, org_id: i64, msa: Option<&str>) -> Result<Vec<AchievementRow>> {
        let mut st = self.conn().prepare_cached(
            "SELECT a.msa, u.username || uo.domain, a.code, a.earned, a.expires
             FROM achievements a
             LEFT JOIN msa_links l ON l.msa = a.msa AND l.ended_at IS NULL AND l.org_id = ?1
             LEFT JOIN users u ON u.id = l.user_id LEFT JOIN orgs uo ON uo.id = u.org_id
             WHERE a.removed_at IS NULL
               AND (CAST(?2 AS TEXT) IS NULL AND l.id IS NOT NULL OR a.msa = ?2)
             ORDER BY a.msa, a.code, a.earned",
        )?;
        let rows = st.query_map(params![org_id, msa], |r| {
            Ok(AchievementRow {
                msa: r.get(0)?,
                username: r.get(1)?,
                code: r.get(2)?,
                earned: date(r.get(3)?)?,
                expires: r.get::<_, Option<String>>(4)?.map(date).transpose()?,
            })
        })?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }

    /// How many live records of `code` an MSA has.
    pub fn count_achievements(&self, msa: &str, code: &str) -> Result<i64> {
        let mut st = self.conn().prepare_cached(
            "SELECT count(*) FROM achievements WHERE msa = ?1 AND code = ?2 AND removed_at IS NULL",
        )?;
        Ok(st.query_row(params![msa, code], |r| r.get(0))?)
    }
}
