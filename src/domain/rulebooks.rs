//! Rulebooks in use: replacing an organization's rulebook (stored, audited, and the
//! membership re-evaluated under the new rules in the same transaction) and reading its
//! stored text back.

use anyhow::Result;

use crate::domain::membership::Alert;
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
    let raised = effects::after(db, org, actor, &effects::Change::Rulebook { origin })?;
    Ok(effects::alerts(raised))
}

/// The stored TOML text of `org`'s rulebook, comments and layout as imported.
pub fn source(db: &Db, org: &Org) -> Result<String> {
    db.rulebook_source(org.id)
}
