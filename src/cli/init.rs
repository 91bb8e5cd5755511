//! `init`: create the database and an organization.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use super::Ctx;
use crate::domain::orgs;
use crate::error::bad_input;
use crate::output::Report;
use crate::rules::rulebook::DEFAULT_RULEBOOK;
use crate::rules::{Market, Rulebook};
use crate::support::fields;

/// `init` arguments.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The organization's name (its slug is derived from it).
    #[arg(long)]
    pub name: String,
    /// The partner ID (MPN ID): a number.
    #[arg(long, value_name = "ID")]
    pub partner_id: String,
    /// The market: decides which thresholds apply.
    #[arg(long, value_parser = ["developed", "developing"], default_value = "developed")]
    pub market: String,
    /// The domain user names are made in [default: <slug>.onmicrosoft.com].
    #[arg(long)]
    pub domain: Option<String>,
    /// A rulebook TOML file to use instead of the embedded default, or an embedded rulebook
    /// by name: `solutions-partner` (the Solutions Partner designations).
    #[arg(long, value_name = "FILE")]
    pub rulebook: Option<PathBuf>,
}

/// Runs `init`.
pub fn run(a: InitArgs, ctx: &mut Ctx) -> Result<Report> {
    let name = fields::name(&a.name).map_err(|e| bad_input(format!("--name: {e}")))?;
    let partner_id =
        fields::partner_id(&a.partner_id).map_err(|e| bad_input(format!("--partner-id: {e}")))?;
    let market = Market::parse(&a.market).unwrap_or_default();
    let (source, origin) = match &a.rulebook {
        Some(path) => (
            String::from_utf8(
                super::rules::source(path)
                    .with_context(|| format!("cannot read the rulebook {}", path.display()))?,
            )
            .map_err(|_| bad_input(format!("{}: not UTF-8", path.display())))?,
            path.display().to_string(),
        ),
        None => (
            DEFAULT_RULEBOOK.to_owned(),
            "the default rulebook".to_owned(),
        ),
    };
    super::rules::warn(&Rulebook::parse(&source, &origin)?);
    let domain = a.domain.as_deref().map(|d| d.trim().to_lowercase());
    if let Some(d) = &domain {
        fields::domain_name(d).map_err(|e| bad_input(format!("--domain: {e}")))?;
    }
    let actor = ctx.actor();
    let db_path = ctx.db_path().to_path_buf();
    let new = orgs::NewOrganization {
        partner_id: &partner_id,
        name: &name,
        slug: None,
        domain: domain.as_deref(),
        market,
        rulebook: &source,
        origin: orgs::Origin::Init { rulebook: &origin },
    };
    let org = ctx.write_created(|db| orgs::create(db, &actor, &new, &db_path))?;
    ctx.info(format!(
        "Created {} ({}, partner ID {}) in {}",
        org.name,
        org.slug,
        org.partner_id,
        crate::store::shown_location(ctx.db_path())
    ));
    let db = crate::store::shown_location(ctx.db_path());
    Ok(Report::new(InitView {
        partner_id: &org.partner_id,
        name: &org.name,
        slug: &org.slug,
        domain: &org.domain,
        market: org.market.as_str(),
        db: &db,
    })
    .fields([super::org::identity(&org), vec![("Database", db.clone())]].concat()))
}

/// `init --format json` (SPEC §8).
#[derive(Serialize)]
struct InitView<'a> {
    partner_id: &'a str,
    name: &'a str,
    slug: &'a str,
    domain: &'a str,
    market: &'a str,
    db: &'a str,
}
