//! Performance records: they belong to the organization.

use crate::store::sql::params;
use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};

use super::achievements::Recorded;
use crate::rules::Metric;
use crate::store::Db;

/// A performance record as stored.
#[derive(Debug, Clone)]
pub struct PerformanceRow {
    /// Which metric.
    pub metric: Metric,
    /// Scope, empty when none.
    pub scope: String,
    /// Designation track the figure is for, empty when none.
    pub track: String,
    /// Customer association (`cpor`, `dpor`, `csp`), empty when none.
    pub association: String,
    /// Value.
    pub value: f64,
    /// Day the value is for.
    pub date: NaiveDate,
}

impl Db<'_> {
    /// Records a value; the same (metric, scope, track, association, date) again replaces
    /// the value.
    pub fn upsert_performance(
        &self,
        org_id: i64,
        row: &PerformanceRow,
        at: DateTime<Utc>,
    ) -> Result<Recorded> {
        let date = row.date.to_string();
        let mut find = self.conn().prepare_cached(
            "SELECT id, value FROM performance
             WHERE org_id = ?1 AND metric = ?2 AND scope = ?3 AND date = ?4
               AND track = ?5 AND association = ?6",
        )?;
        let existing: Option<(i64, f64)> = {
            let mut rows = find.query(params![
                org_id,
                row.metric.as_str(),
                row.scope,
                date,
                row.track,
                row.association
            ])?;
            match rows.next()? {
                Some(r) => Some((r.get(0)?, r.get(1)?)),
                None => None,
            }
        };
        match existing {
            None => {
                let mut ins = self.conn().prepare_cached(
                    "INSERT INTO performance
                        (org_id, metric, scope, value, date, recorded_at, track, association)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                ins.execute(params![
                    org_id,
                    row.metric.as_str(),
                    row.scope,
                    row.value,
                    date,
                    at.timestamp(),
                    row.track,
                    row.association
                ])?;
                Ok(Recorded::Added)
            }
            Some((_, v)) if v == row.value => Ok(Recorded::Unchanged),
            Some((id, _)) => {
                let mut up = self.conn().prepare_cached(
                    "UPDATE performance SET value = ?2, recorded_at = ?3 WHERE id = ?1",
                )?;
                up.execute(params![id, row.value, at.timestamp()])?;
                Ok(Recorded::Updated)
            }
        }
    }

    /// The organization's records, by date then metric.
    pub fn performance(&self, org_id: i64) -> Result<Vec<PerformanceRow>> {
        let mut st = self.conn().prepare_cached(
            "SELECT metric, scope, value, date, track, association FROM performance
             WHERE org_id = ?1 ORDER BY date, metric, scope, track, association",
        )?;
        let rows = st.query_map([org_id], |r| {
            let metric: String = r.get(0)?;
            let date: String = r.get(3)?;
            Ok((
                metric,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?,
                date,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (metric, scope, value, date, track, association) = row?;
            out.push(PerformanceRow {
                metric: Metric::parse(&metric)
                    .ok_or_else(|| anyhow::anyhow!("unknown metric {metric:?} in the database"))?,
                scope,
                track,
                association,
                value,
                date: NaiveDate::parse_from_str(&date, "%Y-%m-%d")?,
            });
        }
        Ok(out)
    }
}
