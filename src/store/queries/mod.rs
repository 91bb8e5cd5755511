//! The store's queries by area, written once for both backends: each file adds methods to
//! [`Db`](super::Db) in the store's SQL dialect, sent through [`super::sql::Conn`]. Nothing
//! here asks which backend it runs on: what differs is an operation of `Conn` (or a dialect
//! rewrite in `store/postgres/dialect.rs`).

mod achievements;
mod audit;
pub mod copy;
mod designations;
mod membership;
mod orgs;
mod performance;
mod snapshot;
pub mod users;

#[cfg(test)]
pub(crate) mod tests;

pub use achievements::{NewAchievement, Recorded};
pub use audit::AuditRow;
pub use designations::{ClassificationRow, DesignationAlertRow, EnrolmentRow, NewEnrolment};
pub use membership::{AlertRow, AttainmentRow, NewPurchase, PurchaseRow};
pub use orgs::{NewOrg, Org};
pub use performance::PerformanceRow;
pub use users::{MsaLink, NewUser, UserRow, hash_bytes, hash_text};
