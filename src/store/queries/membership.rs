//! Membership purchases, the competencies attained during each term, and renewal alerts.

use crate::store::sql::{OptionalExtension, Row, params};
use anyhow::{Result, anyhow};
use chrono::{DateTime, NaiveDate, Utc};

use super::orgs::Org;
use crate::rules::{Level, Market};
use crate::store::Db;
use crate::support::clock::from_unix;

/// One membership purchase as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PurchaseRow {
    /// Database id (also the id of the term it pays for).
    pub id: i64,
    /// `upgrade` (starts a term) or `renewal` (extends the membership by one term).
    pub kind: String,
    /// The level bought.
    pub level: Level,
    /// When it was bought.
    pub purchased_at: DateTime<Utc>,
    /// The first day of the term it pays for (a renewal's term starts at the previous
    /// anniversary).
    pub term_start: NaiveDate,
    /// The day the term ends.
    pub anniversary: NaiveDate,
    /// The day of the month anniversaries fall on (the day of the original purchase), so a
    /// Jan 31 membership comes back to the 31st after a short month.
    pub anchor_day: u32,
    /// The fee the rulebook lists for the level, USD.
    pub list_fee_usd: f64,
    /// The fee charged, USD.
    pub fee_usd: f64,
    /// The discount applied, if any, and why.
    pub discount: Option<String>,
}

impl PurchaseRow {
    /// Whether this purchase is a renewal.
    pub fn is_renewal(&self) -> bool {
        self.kind == "renewal"
    }
}

/// A purchase to insert.
#[derive(Debug, Clone)]
pub struct NewPurchase<'a> {
    /// `upgrade` or `renewal`.
    pub kind: &'a str,
    /// The level.
    pub level: Level,
    /// The term's first day.
    pub term_start: NaiveDate,
    /// The term's last day + 1 (the anniversary).
    pub anniversary: NaiveDate,
    /// The anchor day of the month.
    pub anchor_day: u32,
    /// The listed fee.
    pub list_fee_usd: f64,
    /// The fee charged.
    pub fee_usd: f64,
    /// The discount, marked.
    pub discount: Option<&'a str>,
}

/// A competency attained at a level during a term.
#[derive(Debug, Clone, PartialEq)]
pub struct AttainmentRow {
    /// The term (purchase id).
    pub term_id: i64,
    /// The competency id.
    pub competency: String,
    /// Its display name when attained.
    pub name: String,
    /// The level attained.
    pub level: Level,
    /// First found met in the term.
    pub attained_at: DateTime<Utc>,
    /// Last found met in the term.
    pub last_met_at: DateTime<Utc>,
}

/// A renewal alert as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    /// Database id.
    pub id: i64,
    /// The term it was raised in.
    pub term_id: i64,
    /// The competency id.
    pub competency: String,
    /// Its display name.
    pub name: String,
    /// The level displayed and no longer met.
    pub level: Level,
    /// The alert text.
    pub message: String,
    /// The requirement that fell short, with have / need.
    pub requirement: String,
    /// The change that caused it, when known.
    pub cause: Option<String>,
    /// When it was raised.
    pub raised_at: DateTime<Utc>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Why it was closed.
    pub close_reason: Option<String>,
}

fn level_of(s: &str) -> crate::store::sql::Result<Level> {
    match s {
        "silver" => Ok(Level::Silver),
        "gold" => Ok(Level::Gold),
        other => Err(crate::store::sql::Error::Type(format!("level {other:?}"))),
    }
}

fn date_of(s: &str) -> crate::store::sql::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| crate::store::sql::Error::Type(format!("date {s:?}")))
}

const PURCHASE_COLUMNS: &str = "id, kind, level, purchased_at, term_start, anniversary, anchor_day,
    list_fee_usd, fee_usd, discount";

fn purchase_from_row(r: &Row) -> crate::store::sql::Result<PurchaseRow> {
    Ok(PurchaseRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        level: level_of(r.get_ref(2)?.as_str()?)?,
        purchased_at: from_unix(r.get(3)?),
        term_start: date_of(r.get_ref(4)?.as_str()?)?,
        anniversary: date_of(r.get_ref(5)?.as_str()?)?,
        anchor_day: r.get(6)?,
        list_fee_usd: r.get(7)?,
        fee_usd: r.get(8)?,
        discount: r.get(9)?,
    })
}

const ALERT_COLUMNS: &str = "id, term_id, competency, name, level, message, requirement, cause,
    raised_at, closed_at, close_reason";

fn alert_from_row(r: &Row) -> crate::store::sql::Result<AlertRow> {
    Ok(AlertRow {
        id: r.get(0)?,
        term_id: r.get(1)?,
        competency: r.get(2)?,
        name: r.get(3)?,
        level: level_of(r.get_ref(4)?.as_str()?)?,
        message: r.get(5)?,
        requirement: r.get(6)?,
        cause: r.get(7)?,
        raised_at: from_unix(r.get(8)?),
        closed_at: r.get::<_, Option<i64>>(9)?.map(from_unix),
        close_reason: r.get(10)?,
    })
}

impl Db<'_> {
    /// An organization by database id (an MSA link names its organization by id).
    pub fn org_by_id(&self, id: i64) -> Result<Org> {
        let mut st = self.conn().prepare_cached(
            "SELECT partner_id, name, slug, domain, market, created_at FROM orgs WHERE id = ?1",
        )?;
        st.query_row([id], |r| {
            let market: String = r.get(4)?;
            Ok(Org {
                id,
                partner_id: r.get(0)?,
                name: r.get(1)?,
                slug: r.get(2)?,
                domain: r.get(3)?,
                market: Market::parse(&market).unwrap_or_default(),
                created_at: from_unix(r.get(5)?),
            })
        })
        .optional()?
        .ok_or_else(|| anyhow!("no organization with id {id}"))
    }

    /// Records a purchase made at `at`; returns its id.
    pub fn insert_purchase(&self, org_id: i64, p: &NewPurchase, at: DateTime<Utc>) -> Result<i64> {
        let mut st = self.conn().prepare_cached(
            "INSERT INTO membership_purchases (org_id, kind, level, purchased_at, term_start,
                anniversary, anchor_day, list_fee_usd, fee_usd, discount)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        st.execute(params![
            org_id,
            p.kind,
            p.level.as_str(),
            at.timestamp(),
            p.term_start.to_string(),
            p.anniversary.to_string(),
            p.anchor_day,
            p.list_fee_usd,
            p.fee_usd,
            p.discount
        ])?;
        Ok(self.conn().last_insert_rowid()?)
    }

    /// The organization's two most recent purchases, newest first.
    pub fn latest_purchases(&self, org_id: i64) -> Result<Vec<PurchaseRow>> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {PURCHASE_COLUMNS} FROM membership_purchases WHERE org_id = ?1
             ORDER BY id DESC LIMIT 2"
        ))?;
        let rows = st.query_map([org_id], purchase_from_row)?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }

    /// Every purchase of the organization, oldest first.
    pub fn purchases(&self, org_id: i64) -> Result<Vec<PurchaseRow>> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {PURCHASE_COLUMNS} FROM membership_purchases WHERE org_id = ?1 ORDER BY id"
        ))?;
        let rows = st.query_map([org_id], purchase_from_row)?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }

    /// Records that a competency is met at a level during a term at `at`: the first time
    /// it is attained, later times only move `last_met_at`.
    pub fn record_attainment(
        &self,
        term_id: i64,
        competency: &str,
        name: &str,
        level: Level,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let mut st = self.conn().prepare_cached(
            "INSERT INTO membership_attainments
                (term_id, competency, name, level, attained_at, last_met_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT (term_id, competency, level)
             DO UPDATE SET last_met_at = CASE
                 WHEN excluded.last_met_at > membership_attainments.last_met_at
                 THEN excluded.last_met_at ELSE membership_attainments.last_met_at END",
        )?;
        st.execute(params![
            term_id,
            competency,
            name,
            level.as_str(),
            at.timestamp()
        ])?;
        Ok(())
    }

    /// The attainments of these terms.
    pub fn attainments(&self, term_ids: &[i64]) -> Result<Vec<AttainmentRow>> {
        let mut st = self.conn().prepare_cached(
            "SELECT term_id, competency, name, level, attained_at, last_met_at
             FROM membership_attainments WHERE term_id = ?1 ORDER BY competency, level",
        )?;
        let mut out = Vec::new();
        for id in term_ids {
            let rows = st.query_map([id], |r| {
                Ok(AttainmentRow {
                    term_id: r.get(0)?,
                    competency: r.get(1)?,
                    name: r.get(2)?,
                    level: level_of(r.get_ref(3)?.as_str()?)?,
                    attained_at: from_unix(r.get(4)?),
                    last_met_at: from_unix(r.get(5)?),
                })
            })?;
            for row in rows {
                out.push(row?);
            }
        }
        Ok(out)
    }

    /// Records a new open alert; returns its id.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_alert(
        &self,
        org_id: i64,
        term_id: i64,
        competency: &str,
        name: &str,
        level: Level,
        message: &str,
        requirement: &str,
        cause: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        let mut st = self.conn().prepare_cached(
            "INSERT INTO membership_alerts (org_id, term_id, competency, name, level, message,
                requirement, cause, raised_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        st.execute(params![
            org_id,
            term_id,
            competency,
            name,
            level.as_str(),
            message,
            requirement,
            cause,
            at.timestamp()
        ])?;
        Ok(self.conn().last_insert_rowid()?)
    }

    /// Closes an alert.
    pub fn close_alert(&self, id: i64, at: DateTime<Utc>, reason: &str) -> Result<()> {
        let mut st = self.conn().prepare_cached(
            "UPDATE membership_alerts SET closed_at = ?2, close_reason = ?3
             WHERE id = ?1 AND closed_at IS NULL",
        )?;
        st.execute(params![id, at.timestamp(), reason])?;
        Ok(())
    }

    /// The organization's alerts, oldest first; open ones only unless `all`.
    pub fn alerts(&self, org_id: i64, all: bool) -> Result<Vec<AlertRow>> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {ALERT_COLUMNS} FROM membership_alerts
             WHERE org_id = ?1 AND (?2 OR closed_at IS NULL) ORDER BY raised_at, id"
        ))?;
        let rows = st.query_map(params![org_id, all], alert_from_row)?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }
}
