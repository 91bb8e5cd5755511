//! The domain services: one module per subject. They take the store, an actor and plain
//! arguments and return plain typed data; they never print and never draw progress (they
//! report it through [`progress::Progress`], which `cli` implements).

pub mod accounts;
pub mod achievements;
pub mod auth;
pub mod copy;
pub mod credentials;
pub mod designations;
pub mod effects;
pub mod import;
pub mod judge;
pub mod membership;
pub mod orgs;
pub mod performance;
pub mod progress;
pub mod records;
pub mod renewals;
pub mod report;
pub mod rulebook_diff;
pub mod rulebooks;
pub mod terms;

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::store::Db;

/// Who acts and when: passed to every service.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The OS user name (the audit trail's actor).
    pub name: String,
    /// The instant of the command.
    pub at: DateTime<Utc>,
}

impl Actor {
    /// Writes one entry of organization `org_id`'s audit trail: this actor, now, did
    /// `action` to `subject` (`detail` says what).
    pub fn audit(
        &self,
        db: &Db,
        org_id: i64,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<()> {
        db.audit(Some(org_id), self.at, &self.name, action, subject, detail)
    }
}
