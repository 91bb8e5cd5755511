//! The audit trail: every change, with the time from the Clock and the OS user as actor.

use crate::store::sql::params;
use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::store::Db;
use crate::support::clock::from_unix;

/// One audit entry.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (OS user name).
    pub actor: String,
    /// What kind of change, e.g. `users.add`.
    pub action: String,
    /// What it was done to, e.g. a user name.
    pub subject: String,
    /// Details (never a secret).
    pub detail: String,
}

impl Db<'_> {
    /// Records one change.
    pub fn audit(
        &self,
        org_id: Option<i64>,
        at: DateTime<Utc>,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<()> {
        let mut st = self.conn().prepare_cached(
            "INSERT INTO audit (org_id, at, actor, action, subject, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        st.execute(params![
            org_id,
            at.timestamp(),
            actor,
            action,
            subject,
            detail
        ])?;
        Ok(())
    }

    /// Audit entries of an organization (and database-wide ones), oldest first, from
    /// `since`, at most `limit` of the most recent.
    pub fn audit_rows(
        &self,
        org_id: i64,
        since: Option<DateTime<Utc>>,
        limit: Option<u32>,
    ) -> Result<Vec<AuditRow>> {
        let mut st = self.conn().prepare_cached(
            "SELECT at, actor, action, subject, detail FROM (
                SELECT id, at, actor, action, subject, detail FROM audit
                WHERE (org_id = ?1 OR org_id IS NULL) AND at >= ?2
                ORDER BY at DESC, id DESC LIMIT ?3
             ) AS recent ORDER BY at, id",
        )?;
        let rows = st.query_map(
            params![
                org_id,
                since.map_or(i64::MIN, |t| t.timestamp()),
                limit.map_or(i64::MAX, i64::from)
            ],
            |r| {
                Ok(AuditRow {
                    at: from_unix(r.get(0)?),
                    actor: r.get(1)?,
                    action: r.get(2)?,
                    subject: r.get(3)?,
                    detail: r.get(4)?,
                })
            },
        )?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }
}
