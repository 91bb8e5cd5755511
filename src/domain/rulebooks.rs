//! Rulebooks in use: replacing an organization's rulebook (stored, audited, and the
//! membership re-evaluated under the new rules in the same transaction) and reading its
//! stored text back.

use anyhow::Result;

use crate::domain::membership::{self, Alert, Dates, State};
use crate::domain::{Actor, effects};
use crate::rules::Rulebook;
use crate::store::{Db, Org};

/// A rulebook's size in words: `N competencies[, N designations], N catalog entries`.
pub fn describe(rb: &Rulebook) -> String {
    if rb.designations.is_empty() {
        format!(
            "{} competencies, {} catalog entries",
            rb.competencies.len(),
            rb.catalog.len()
        )
    } else {
        format!(
            "{} competencies, {} designations, {} catalog entries",
            rb.competencies.len(),
            rb.designations.len(),
            rb.catalog.len()
        )
    }
}

/// What a rulebook import changed besides the rules themselves.
pub struct Replaced {
    /// The alerts the re-evaluation raised.
    pub alerts: Vec<Alert>,
    /// The current term's windows, when the new program periods move them.
    pub term: Option<TermChange>,
}

/// How a rulebook import moved the current term's windows: `renewal_opens_days` and
/// `grace_days` apply to the term already bought (its anniversary is stored, its windows
/// are not), so a shorter grace can lapse a membership at once. Said on stderr, never
/// silently.
pub struct TermChange {
    /// The term's dates under the rulebook replaced.
    pub before: Dates,
    /// The term's dates under the new rulebook.
    pub after: Dates,
    /// The state at the import's instant under the rulebook replaced.
    pub state_before: State,
    /// The state at the import's instant under the new rulebook.
    pub state_after: State,
}

/// Replaces `org`'s rulebook with `text` (already parsed as `rb`, read from `origin`),
/// audits it and re-evaluates the membership; returns the alerts that raised and how the
/// current term's windows moved.
pub fn replace(
    db: &Db,
    org: &Org,
    actor: &Actor,
    text: &str,
    rb: &Rulebook,
    origin: &str,
) -> Result<Replaced> {
    let old = crate::domain::records::rulebook(db, org)?;
    let held = membership::membership(db, org, &old.program, actor.at)?;
    db.set_rulebook(org.id, text, actor.at)?;
    actor.audit(
        db,
        org.id,
        "rules.import",
        &org.slug,
        &format!("file={origin} ({})", describe(rb)),
    )?;
    let raised = effects::after(db, org, actor, &effects::Change::Rulebook { origin })?;
    let alerts = effects::alerts(raised);
    let term = held.and_then(|m| {
        let after = Dates::new(m.current.anniversary, &rb.program);
        (after != m.dates).then(|| TermChange {
            before: m.dates,
            after,
            state_before: m.state,
            state_after: after.state_at(actor.at),
        })
    });
    Ok(Replaced { alerts, term })
}

/// The stored TOML text of `org`'s rulebook, comments and layout as imported.
pub fn source(db: &Db, org: &Org) -> Result<String> {
    db.rulebook_source(org.id)
}

/// When `stored` is a Solutions Partner rulebook (it has designations) older than the
/// embedded `solutions-partner` one (by `[program] edition`; none is oldest), the sentence
/// saying so and how to move; existing databases keep their stored rulebook until then.
pub fn embedded_newer(stored: &Rulebook) -> Option<String> {
    if stored.designations.is_empty() {
        return None;
    }
    let embedded = Rulebook::parse_validated(
        crate::rules::rulebook::SOLUTIONS_PARTNER_RULEBOOK,
        "solutions-partner",
    )
    .ok()?;
    let (new, old) = (&embedded.program.edition, &stored.program.edition);
    (new.is_some() && new > old).then(|| {
        format!(
            "the embedded solutions-partner rulebook (edition {}) is newer than this one \
             (edition {}): `competency rules import solutions-partner` to use it",
            new.as_deref().unwrap_or("none"),
            old.as_deref().unwrap_or("none")
        )
    })
}
