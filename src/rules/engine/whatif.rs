//! What-if edits of a snapshot: pure changes to a copy, evaluated like any snapshot, so
//! `membership what-if` answers "what would be lost" without touching the database.

use chrono::{DateTime, NaiveDate, Utc};

use super::counts_until;
use super::snapshot::Snapshot;
use crate::rules::parse::Rulebook;

impl Snapshot {
    /// Ends every association of these accounts at `at`, as `users remove` would: from `at`
    /// on none of their achievements counts. Associations already ended earlier keep their
    /// end; unknown ids are ignored.
    pub fn without_users(&mut self, user_ids: &[i64], at: DateTime<Utc>) {
        for person in self
            .people
            .iter_mut()
            .filter(|p| user_ids.contains(&p.user_id))
        {
            if person.ended.is_none_or(|ended| ended > at) {
                person.ended = Some(at);
            }
        }
    }
}

/// Treats every achievement that stops counting before `date` as already expired.
///
/// "Stops counting" is [`counts_until`]: the effective expiry (the record's own, else
/// earned + `valid_days`) or the end of a retired exam's grace, whichever is first. "Before"
/// is strict, as the flag `--expire-before DATE` reads: a record whose last counting day is
/// the eve of `date` or earlier is affected, one expiring *on* `date` is not. (To ask what is
/// lost by the start of day D, which includes records expiring on D, pass D + 1 day.)
///
/// Such a record gets `expires = earned`, so it counts at no instant; its other fields stay
/// as they were, and records that already stopped counting are unaffected in effect.
pub fn expire_before(snap: &mut Snapshot, rb: &Rulebook, date: NaiveDate) {
    for person in &mut snap.people {
        for ach in &mut person.achievements {
            if counts_until(rb, ach).is_some_and(|until| until < date) {
                ach.expires = Some(ach.earned);
            }
        }
    }
}
