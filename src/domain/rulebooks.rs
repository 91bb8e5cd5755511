//! Rulebooks in use: replacing an organization's rulebook (stored, audited, and the
//! membership re-evaluated under the new rules in the same transaction) and reading its
//! stored text back.

use anyhow::Result;

use crate::domain::Actor;
use crate::domain::membership::Alert;
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

/// Replaces `org`'s rulebook with `text` (already parsed as `rb`, read from `origin`),
/// audits it and re-evaluates the membership; returns the alerts that raised.
pub fn replace(
    db: &Db,
    org: &Org,
    actor: &Actor,
    text: &str,
    rb: &Rulebook,
    origin: &str,
) -> Result<Vec<Alert>> {
    db.set_rulebook(org.id, text, actor.at)?;
    actor.audit(
        db,
        org.id,
        "rules.import",
        &org.slug,
        &format!("file={origin} ({})", describe(rb)),
    )?;
    let cause = format!("rulebook replaced by {origin}");
    crate::domain::membership::reevaluate(db, org, actor, Some(&cause))
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
