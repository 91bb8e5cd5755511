//! Organizations and the rulebook each one uses.

use crate::store::sql::{OptionalExtension, Row, params};
use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::rules::Market;
use crate::store::Db;
use crate::support::clock::from_unix;

/// An organization.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Org {
    /// Database id.
    #[serde(skip)]
    pub id: i64,
    /// The partner ID (MPN ID).
    pub partner_id: String,
    /// Display name.
    pub name: String,
    /// URL-safe name derived from the display name.
    pub slug: String,
    /// The domain user names are made in.
    pub domain: String,
    /// Developed or developing market.
    pub market: Market,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// What `init` needs to create an organization.
pub struct NewOrg<'a> {
    /// The partner ID.
    pub partner_id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Slug.
    pub slug: &'a str,
    /// Domain.
    pub domain: &'a str,
    /// Market.
    pub market: Market,
    /// The rulebook TOML, already validated.
    pub rulebook: &'a str,
}

const ORG_COLUMNS: &str = "id, partner_id, name, slug, domain, market, created_at";

fn org_from_row(r: &Row) -> crate::store::sql::Result<Org> {
    let market: String = r.get(5)?;
    Ok(Org {
        id: r.get(0)?,
        partner_id: r.get(1)?,
        name: r.get(2)?,
        slug: r.get(3)?,
        domain: r.get(4)?,
        market: Market::parse(&market).unwrap_or_default(),
        created_at: from_unix(r.get(6)?),
    })
}

impl Db<'_> {
    /// Creates an organization; returns its id.
    pub fn insert_org(&self, org: &NewOrg, at: DateTime<Utc>) -> Result<i64> {
        self.conn().execute(
            "INSERT INTO orgs (partner_id, name, slug, domain, market, created_at, rulebook, rulebook_at,
                               rulebook_digest)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6, ?8)",
            params![
                org.partner_id,
                org.name,
                org.slug,
                org.domain,
                org.market.as_str(),
                at.timestamp(),
                org.rulebook,
                crate::rules::validate::validated_digest(org.rulebook)
            ],
        )?;
        Ok(self.conn().last_insert_rowid()?)
    }

    /// Every organization, by name.
    pub fn orgs(&self) -> Result<Vec<Org>> {
        let mut st = self
            .conn()
            .prepare_cached(&format!("SELECT {ORG_COLUMNS} FROM orgs ORDER BY name, id"))?;
        let rows = st.query_map(params![], org_from_row)?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }

    /// The organization with this partner ID or slug (case-insensitive).
    pub fn org_by_key(&self, key: &str) -> Result<Option<Org>> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {ORG_COLUMNS} FROM orgs
             WHERE lower(partner_id) = lower(?1) OR lower(slug) = lower(?1)"
        ))?;
        Ok(st.query_row([key], org_from_row).optional()?)
    }

    /// Whether a slug is taken.
    pub fn slug_taken(&self, slug: &str) -> Result<bool> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT 1 FROM orgs WHERE slug = ?1")?;
        Ok(st.exists([slug])?)
    }

    /// The rulebook TOML an organization uses.
    pub fn rulebook_source(&self, org_id: i64) -> Result<String> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT rulebook FROM orgs WHERE id = ?1")?;
        Ok(st.query_row([org_id], |r| r.get(0))?)
    }

    /// The rulebook TOML an organization uses and the digest stored with it when it was
    /// validated (`None` for a rulebook stored before digests were kept).
    pub fn rulebook_with_digest(&self, org_id: i64) -> Result<(String, Option<String>)> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT rulebook, rulebook_digest FROM orgs WHERE id = ?1")?;
        Ok(st.query_row([org_id], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }

    /// Replaces an organization's rulebook (the TOML, already validated).
    pub fn set_rulebook(&self, org_id: i64, toml: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn().execute(
            "UPDATE orgs SET rulebook = ?2, rulebook_at = ?3, rulebook_digest = ?4 WHERE id = ?1",
            params![
                org_id,
                toml,
                at.timestamp(),
                crate::rules::validate::validated_digest(toml)
            ],
        )?;
        Ok(())
    }

    /// Counts for the organization summary: (active users, removed users, linked MSAs).
    pub fn org_counts(&self, org_id: i64) -> Result<(i64, i64, i64)> {
        let mut st = self.conn().prepare_cached(
            "SELECT
                (SELECT count(*) FROM users WHERE org_id = ?1 AND status = 'active'),
                (SELECT count(*) FROM users WHERE org_id = ?1 AND status = 'removed'),
                (SELECT count(*) FROM msa_links WHERE org_id = ?1 AND ended_at IS NULL)",
        )?;
        Ok(st.query_row([org_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?)
    }
}
