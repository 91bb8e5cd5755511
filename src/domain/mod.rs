//! The domain services: one module per subject. They take the store, an actor and plain
//! arguments and return plain typed data; they never print and never draw progress (they
//! report it through [`progress::Progress`], which `cli` implements).

pub mod accounts;
pub mod achievements;
pub mod auth;
pub mod copy;
pub mod credentials;
pub mod designations;
pub mod import;
pub mod judge;
pub mod membership;
pub mod orgs;
pub mod performance;
pub mod progress;
pub mod records;
pub mod report;
pub mod rulebooks;

use chrono::{DateTime, Utc};

/// Who acts and when: passed to every service.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The OS user name (the audit trail's actor).
    pub name: String,
    /// The instant of the command.
    pub at: DateTime<Utc>,
}
