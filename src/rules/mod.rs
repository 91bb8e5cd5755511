//! The rulebook and the evaluation engine.
//!
//! This module owns what a competency *is* (the [`rulebook`] types, parsed from TOML and
//! validated with `FILE:LINE` errors) and how an organization is judged against it (the
//! [`engine`]). The engine is pure: it takes a [`Rulebook`], a [`Snapshot`] of plain data
//! and an instant, does no I/O and reads no clock, so that evaluating "as of" any instant
//! gives that instant's answer and every result can be explained requirement by requirement.

pub mod designations;
mod designations_window;
pub mod engine;
pub mod explain;
pub mod limits;
pub mod matching;
pub mod rulebook;
pub mod snapshot;
pub mod validate;
pub mod whatif;
pub mod window;

pub use engine::{Evaluation, Gap, Risk, evaluate, gaps, risk};
pub use rulebook::{Level, Market, Metric, Rulebook};
pub use snapshot::Snapshot;
pub use validate::{RulebookError, nearest_codes};
pub use whatif::expire_before;
