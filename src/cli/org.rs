//! `org list`, `org show`.

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;

use super::Ctx;
use crate::output::{Report, Table};
use crate::support::clock::rfc3339;

/// Organization commands.
#[derive(Debug, Subcommand)]
pub enum OrgCmd {
    /// Every organization in the database.
    List,
    /// One organization's summary (the --org one, or the only one).
    Show,
}

/// Runs an `org` command.
pub fn run(cmd: OrgCmd, ctx: &mut Ctx) -> Result<Report> {
    match cmd {
        OrgCmd::List => {
            let rows = ctx.store()?.read(|db| {
                let mut out = Vec::new();
                for o in db.orgs()? {
                    let counts = db.org_counts(o.id)?;
                    out.push((o, counts));
                }
                Ok(out)
            })?;
            let mut t = Table::new(&["Partner ID", "Slug", "Name", "Market", "Domain", "Users"]);
            let mut j = Vec::new();
            for (o, (active, _, _)) in &rows {
                t.row([
                    o.partner_id.clone(),
                    o.slug.clone(),
                    o.name.clone(),
                    o.market.as_str().to_owned(),
                    o.domain.clone(),
                    active.to_string(),
                ]);
                j.push(json!({
                    "partner_id": o.partner_id, "slug": o.slug, "name": o.name,
                    "market": o.market.as_str(), "domain": o.domain, "users": active,
                }));
            }
            Ok(Report::new(j).table(t))
        }
        OrgCmd::Show => {
            let (org, (active, removed, msas)) =
                ctx.read_org(|db, org| Ok((org.clone(), db.org_counts(org.id)?)))?;
            Ok(Report::new(json!({
                "partner_id": org.partner_id, "name": org.name, "slug": org.slug,
                "domain": org.domain, "market": org.market.as_str(),
                "created": rfc3339(org.created_at),
                "users": active, "removed_users": removed, "linked_msas": msas,
            }))
            .fields(vec![
                ("Organization", org.name.clone()),
                ("Slug", org.slug.clone()),
                ("Partner ID", org.partner_id.clone()),
                ("Domain", org.domain.clone()),
                ("Market", org.market.as_str().to_owned()),
                ("Created", rfc3339(org.created_at)),
                ("Active users", active.to_string()),
                ("Removed users", removed.to_string()),
                ("Linked MSAs", msas.to_string()),
            ]))
        }
    }
}
