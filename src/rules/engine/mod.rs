//! The evaluation engine: judges a [`Snapshot`] against a [`Rulebook`] at one instant.
//!
//! Pure: no I/O, no clock. Everything it returns explains itself — each requirement's
//! have/need, who counted and through which achievements — so `progress`, `gaps`, `risk`
//! and the membership alerts all read the same answer.
//!
//! How an evaluation runs, and why it is fast enough for 100,000 people:
//! 1. Once per evaluation, every individual active at `at` gets a bitset of the catalogue
//!    codes that count for them at `at`, plus a posting list per code (who holds it).
//! 2. For each option, the people who qualify for each people requirement are found from
//!    the posting list of the rarest code of each alternative; they are grouped into
//!    classes by the set of requirements they qualify for.
//! 3. A maximum flow over the classes (see [`matching`]) decides whether unique
//!    individuals can fill every count; concrete people are then picked from the classes.
//!
//! An *individual* is an account (`user_id`): a snapshot may hold several association
//! intervals of one account, and the active ones at `at` are merged, so that one human
//! never fills two requirements of an option and ending "their" association ends all of it.
//!
//! Files: [`results`] (what an evaluation returns), [`counting`] (SPEC §5's rules for one
//! achievement), `prepared` (the per-evaluation bitsets and posting lists), `classify`
//! (qualifiers grouped by requirement set), [`matching`] (the maximum flow), `evaluate`
//! (options, levels, competencies), `gaps` (gaps and risk), [`window`] and
//! `designations_window` (exact answers over windows of time), [`designations`] (the
//! designations' scorer: tracks and the one that counts), `designations_items` (what one
//! item of a track earns), [`pending`] (achievements waiting out the progress delay),
//! [`explain`] (the wording and the one number formatter),
//! [`whatif`] (pure edits of a snapshot) and [`snapshot`] (the plain data evaluated).

mod classify;
pub mod counting;
pub mod designations;
mod designations_items;
pub mod designations_reliance;
mod designations_window;
mod evaluate;
pub mod explain;
mod gaps;
pub mod matching;
pub mod pending;
pub mod points;
mod prepared;
pub mod results;
pub mod snapshot;
pub mod whatif;
pub mod window;

pub use counting::{
    achievement_counts, achievement_counts_in, association_active, counts_until, counts_until_in,
    retired_before_earned, start_of,
};
pub use evaluate::evaluate;
pub use gaps::{gaps, option_missing, risk};
pub use prepared::Holdings;
pub use results::{
    CompetencyEval, Evaluation, Gap, OptionEval, RequirementDetail, RequirementEval, Risk,
};

#[cfg(test)]
mod designations_reliance_tests;
#[cfg(test)]
mod reliance_tests;
#[cfg(test)]
mod tests;
