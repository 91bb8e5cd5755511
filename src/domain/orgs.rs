//! Organizations: creating one (`init`, and the demo's sample), choosing the one a command
//! acts on, listing them with their head counts, and the audit trail they own.
//!
//! Creating is one function for every caller: the partner ID is unique, the slug is derived
//! from the name and made unique, the domain defaults to `<slug>.onmicrosoft.com`, and the
//! creation is audited — all in the caller's write transaction.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use crate::domain::Actor;
use crate::error::{bad_input, not_found, refused};
use crate::rules::Market;
use crate::store::{AuditRow, Db, NewOrg, Org};
use crate::support::fields;

/// Why an organization is created: decides its audit line.
pub enum Origin<'a> {
    /// `init`, with the rulebook's origin (a file, or "the default rulebook").
    Init {
        /// Where the rulebook came from, for the audit trail.
        rulebook: &'a str,
    },
    /// The demo's sample organization.
    Demo,
}

/// What creating an organization needs (already validated fields).
pub struct NewOrganization<'a> {
    /// The partner ID (MPN ID).
    pub partner_id: &'a str,
    /// The display name.
    pub name: &'a str,
    /// The slug to start from [default: derived from the name]; made unique.
    pub slug: Option<&'a str>,
    /// The user-name domain [default: `<slug>.onmicrosoft.com`].
    pub domain: Option<&'a str>,
    /// The market.
    pub market: Market,
    /// The rulebook's TOML source.
    pub rulebook: &'a str,
    /// Why it is created.
    pub origin: Origin<'a>,
}

/// Creates an organization and audits it; refused when the partner ID exists. `db_path`
/// only names the database in the refusal.
pub fn create(db: &Db, actor: &Actor, new: &NewOrganization, db_path: &Path) -> Result<Org> {
    let partner_id = new.partner_id;
    if let Some(existing) = db.org_by_key(partner_id)?
        && existing.partner_id.eq_ignore_ascii_case(partner_id)
    {
        return Err(refused(format!(
            "partner ID {partner_id} already exists in {} as {:?} ({})",
            crate::store::shown_location(db_path),
            existing.name,
            existing.slug
        )));
    }
    let base = new
        .slug
        .map_or_else(|| fields::slug(new.name), str::to_owned);
    let mut slug = base.clone();
    let mut n = 1;
    while db.slug_taken(&slug)? || db.org_by_key(&slug)?.is_some() {
        n += 1;
        slug = format!("{base}-{n}");
    }
    let domain = new
        .domain
        .map_or_else(|| format!("{slug}.onmicrosoft.com"), str::to_owned);
    let id = db.insert_org(
        &NewOrg {
            partner_id,
            name: new.name,
            slug: &slug,
            domain: &domain,
            market: new.market,
            rulebook: new.rulebook,
        },
        actor.at,
    )?;
    let detail = match new.origin {
        Origin::Init { rulebook } => format!(
            "name={} partner_id={partner_id} market={} domain={domain} rulebook={rulebook}",
            new.name,
            new.market.as_str()
        ),
        Origin::Demo => "demo organization (competency demo)".to_owned(),
    };
    actor.audit(db, id, "org.init", &slug, &detail)?;
    db.org_by_key(&slug)?
        .context("the new organization vanished")
}

/// Head counts of an organization.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    /// Active user accounts.
    pub active: i64,
    /// Removed user accounts.
    pub removed: i64,
    /// Microsoft accounts linked now.
    pub linked_msas: i64,
}

/// The head counts of `org`.
pub fn counts(db: &Db, org: &Org) -> Result<Counts> {
    let (active, removed, linked_msas) = db.org_counts(org.id)?;
    Ok(Counts {
        active,
        removed,
        linked_msas,
    })
}

/// Every organization in the database with its head counts.
pub fn list(db: &Db) -> Result<Vec<(Org, Counts)>> {
    db.orgs()?
        .into_iter()
        .map(|o| {
            let c = counts(db, &o)?;
            Ok((o, c))
        })
        .collect()
}

/// The audit trail of `org`: changes at or after `since`, the `limit` most recent.
pub fn audit_trail(
    db: &Db,
    org: &Org,
    since: Option<DateTime<Utc>>,
    limit: Option<u32>,
) -> Result<Vec<AuditRow>> {
    db.audit_rows(org.id, since, limit)
}

/// Resolves the organization: `key` (partner ID or slug), else the only one; with several
/// and none chosen, an error listing them. `db_path` names the database in errors.
pub fn resolve(db: &Db, key: Option<&str>, db_path: &Path) -> Result<Org> {
    if let Some(key) = key {
        return db.org_by_key(key)?.ok_or_else(|| {
            let list = db.orgs().map(|o| org_list(&o)).unwrap_or_default();
            not_found(format!(
                "no organization {} in {}{list}",
                fields::shown(key),
                crate::store::shown_location(db_path)
            ))
        });
    }
    let orgs = db.orgs()?;
    match orgs.len() {
        0 => Err(not_found(format!(
            "no organization in {}: create one with `competency init --name NAME --partner-id ID`",
            crate::store::shown_location(db_path)
        ))),
        1 => Ok(orgs.into_iter().next().expect("one")),
        _ => Err(bad_input(format!(
            "{} organizations in {}: choose one with --org{}",
            orgs.len(),
            crate::store::shown_location(db_path),
            org_list(&orgs)
        ))),
    }
}

fn org_list(orgs: &[Org]) -> String {
    if orgs.is_empty() {
        return String::new();
    }
    let names: Vec<String> = orgs
        .iter()
        .map(|o| format!("{} ({}, partner ID {})", o.slug, o.name, o.partner_id))
        .collect();
    format!(" (organizations: {})", names.join("; "))
}
