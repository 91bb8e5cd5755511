//! The rulebook and the evaluation engine.
//!
//! This module owns what a competency *is* ([`parse`]: the rulebook types, parsed from TOML
//! and validated with `FILE:LINE` errors) and how an organization is judged against it
//! ([`engine`]). The engine is pure: it takes a [`Rulebook`], a [`Snapshot`] of plain data
//! and an instant, does no I/O and reads no clock, so that evaluating "as of" any instant
//! gives that instant's answer and every result can be explained requirement by requirement.
//!
//! `rules` imports nothing of ours but its own types (DESIGN.md); the limits it shares with
//! the rest of the program ([`limits`]) and the one number formatter
//! ([`explain::thousands`]) are defined here and re-exported by `support` and `output`.

pub mod engine;
pub mod parse;

// The paths the rest of the code used before `rules` was split into `parse` and `engine`,
// kept so that code keeps compiling unchanged.
pub use engine::{designations, explain, points, snapshot, whatif, window};
/// The rulebook types, under their former module name.
pub use parse as rulebook;
/// Parsing and validation, under its former module name.
pub use parse as validate;
pub use parse::limits;

pub use engine::{Evaluation, Gap, Risk, evaluate, gaps, risk};
pub use parse::{Association, Level, Market, Metric, Rulebook, kebab, nearest_codes};
pub use snapshot::Snapshot;
pub use whatif::expire_before;
