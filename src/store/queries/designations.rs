//! Designation enrolments (one row per enrolment or renewal, with its term) and the renewal
//! alerts of enrolled designations (at most one open per designation, by a unique index).

use crate::store::sql::{Row, params};
use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};

use crate::store::Db;
use crate::support::clock::from_unix;

/// One enrolment or renewal of a designation.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrolmentRow {
    /// Database id.
    pub id: i64,
    /// The designation id.
    pub designation: String,
    /// Its name when enrolled.
    pub name: String,
    /// `enrolment` or `renewal`.
    pub kind: String,
    /// When.
    pub enrolled_at: DateTime<Utc>,
    /// The term's first day.
    pub term_start: NaiveDate,
    /// The term's anniversary.
    pub anniversary: NaiveDate,
    /// The day of the month anniversaries fall on.
    pub anchor_day: u32,
    /// The fee charged, USD (0 for a designation joining a paid term).
    pub fee_usd: f64,
    /// The score when enrolled.
    pub score: f64,
}

/// An enrolment to insert.
#[derive(Debug, Clone)]
pub struct NewEnrolment<'a> {
    /// The designation id.
    pub designation: &'a str,
    /// Its name.
    pub name: &'a str,
    /// `enrolment` or `renewal`.
    pub kind: &'a str,
    /// The term's first day.
    pub term_start: NaiveDate,
    /// The anniversary.
    pub anniversary: NaiveDate,
    /// The anchor day.
    pub anchor_day: u32,
    /// The fee charged.
    pub fee_usd: f64,
    /// The score at enrolment.
    pub score: f64,
}

/// A designation renewal alert.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignationAlertRow {
    /// Database id.
    pub id: i64,
    /// The designation id.
    pub designation: String,
    /// Its name.
    pub name: String,
    /// The alert text.
    pub message: String,
    /// The items that fell, e.g. "intermediate: 3 people, 12 of 20 points, was 20".
    pub items: String,
    /// The cause, when known.
    pub cause: Option<String>,
    /// When raised.
    pub raised_at: DateTime<Utc>,
    /// When closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Why closed.
    pub close_reason: Option<String>,
}

fn date(s: String) -> crate::store::sql::Result<NaiveDate> {
    s.parse()
        .map_err(|e| crate::store::sql::Error::Type(format!("date {s:?}: {e}")))
}

fn enrolment(r: &Row<'_>) -> crate::store::sql::Result<EnrolmentRow> {
    Ok(EnrolmentRow {
        id: r.get(0)?,
        designation: r.get(1)?,
        name: r.get(2)?,
        kind: r.get(3)?,
        enrolled_at: from_unix(r.get(4)?),
        term_start: date(r.get(5)?)?,
        anniversary: date(r.get(6)?)?,
        anchor_day: r.get(7)?,
        fee_usd: r.get(8)?,
        score: r.get(9)?,
    })
}

fn alert(r: &Row<'_>) -> crate::store::sql::Result<DesignationAlertRow> {
    Ok(DesignationAlertRow {
        id: r.get(0)?,
        designation: r.get(1)?,
        name: r.get(2)?,
        message: r.get(3)?,
        items: r.get(4)?,
        cause: r.get(5)?,
        raised_at: from_unix(r.get(6)?),
        closed_at: r.get::<_, Option<i64>>(7)?.map(from_unix),
        close_reason: r.get(8)?,
    })
}

impl Db<'_> {
    /// Records an enrolment or renewal.
    pub fn insert_enrolment(
        &self,
        org_id: i64,
        e: &NewEnrolment<'_>,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        self.conn()
            .prepare_cached(
                "INSERT INTO designation_enrolments (org_id, designation, name, kind, enrolled_at,
                    term_start, anniversary, anchor_day, fee_usd, score)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                org_id,
                e.designation,
                e.name,
                e.kind,
                at.timestamp(),
                e.term_start.to_string(),
                e.anniversary.to_string(),
                e.anchor_day,
                e.fee_usd,
                e.score
            ])?;
        Ok(self.conn().last_insert_rowid()?)
    }

    /// Every enrolment of the organization, oldest first.
    pub fn enrolments(&self, org_id: i64) -> Result<Vec<EnrolmentRow>> {
        let mut st = self.conn().prepare_cached(
            "SELECT id, designation, name, kind, enrolled_at, term_start, anniversary,
                    anchor_day, fee_usd, score
             FROM designation_enrolments WHERE org_id = ?1 ORDER BY id",
        )?;
        let rows = st.query_map([org_id], enrolment)?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }

    /// Records an open alert.
    pub fn insert_designation_alert(&self, org_id: i64, a: &DesignationAlertRow) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO designation_alerts (org_id, designation, name, message, items, cause,
                    raised_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                org_id,
                a.designation,
                a.name,
                a.message,
                a.items,
                a.cause,
                a.raised_at.timestamp()
            ])?;
        Ok(())
    }

    /// The organization's designation alerts (open ones only unless `all`), oldest first.
    pub fn designation_alerts(&self, org_id: i64, all: bool) -> Result<Vec<DesignationAlertRow>> {
        let mut st = self.conn().prepare_cached(
            "SELECT id, designation, name, message, items, cause, raised_at, closed_at,
                    close_reason
             FROM designation_alerts WHERE org_id = ?1 AND (?2 OR closed_at IS NULL)
             ORDER BY raised_at, id",
        )?;
        let rows = st.query_map(params![org_id, all], alert)?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }

    /// Closes an alert.
    pub fn close_designation_alert(&self, id: i64, at: DateTime<Utc>, reason: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE designation_alerts SET closed_at = ?2, close_reason = ?3
                 WHERE id = ?1 AND closed_at IS NULL",
            )?
            .execute(params![id, at.timestamp(), reason])?;
        Ok(())
    }
}

/// One track classification as stored (`designations track`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassificationRow {
    /// The designation id.
    pub designation: String,
    /// The track.
    pub track: String,
    /// In force from.
    pub since: DateTime<Utc>,
    /// When recorded.
    pub recorded_at: DateTime<Utc>,
}

impl Db<'_> {
    /// Records a classification (its history is kept: a later one of the same designation
    /// takes over from its `since`).
    pub fn insert_classification(
        &self,
        org_id: i64,
        designation: &str,
        track: &str,
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO designation_tracks (org_id, designation, track, since, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                org_id,
                designation,
                track,
                since.timestamp(),
                at.timestamp()
            ])?;
        Ok(())
    }

    /// Every classification of the organization, by designation, then `since`, then the
    /// order recorded.
    pub fn classifications(&self, org_id: i64) -> Result<Vec<ClassificationRow>> {
        let mut st = self.conn().prepare_cached(
            "SELECT designation, track, since, recorded_at FROM designation_tracks
             WHERE org_id = ?1 ORDER BY designation, since, id",
        )?;
        let rows = st.query_map([org_id], |r| {
            Ok(ClassificationRow {
                designation: r.get(0)?,
                track: r.get(1)?,
                since: from_unix(r.get(2)?),
                recorded_at: from_unix(r.get(3)?),
            })
        })?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }
}
