//! The JSON views of the `membership` commands (SPEC §7, §8, §9).

use super::*;

/// A competency and level: the profile's, a purchase's and the check's `competencies`.
#[derive(Serialize)]
pub(super) struct LevelView<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) level: &'static str,
}

pub(super) fn levels(list: &[Displayed]) -> Vec<LevelView<'_>> {
    list.iter()
        .map(|d| LevelView {
            id: &d.id,
            name: &d.name,
            level: d.level.as_str(),
        })
        .collect()
}

/// A renewal alert (`membership alerts`, `membership check`).
#[derive(Serialize)]
pub(in crate::cli) struct AlertView<'a> {
    pub(super) raised: String,
    pub(super) competency: &'a str,
    pub(super) name: &'a str,
    pub(super) level: &'static str,
    pub(super) message: &'a str,
    pub(super) requirement: &'a str,
    pub(super) cause: Option<&'a str>,
    pub(super) open: bool,
    pub(super) closed: Option<String>,
    pub(super) close_reason: Option<&'a str>,
}

impl<'a> AlertView<'a> {
    pub(super) fn new(a: &'a Alert) -> Self {
        AlertView {
            raised: rfc3339(a.raised),
            competency: &a.competency,
            name: &a.name,
            level: a.level.as_str(),
            message: &a.message,
            requirement: &a.requirement,
            cause: a.cause.as_deref(),
            open: a.open,
            closed: a.closed.map(rfc3339),
            close_reason: a.close_reason.as_deref(),
        }
    }
}

/// `membership status`: without a purchase, or with one.
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum StatusView<'a> {
    None(NoStatusView),
    Held(HeldStatusView<'a>),
}

/// `membership status` without any purchase.
#[derive(Serialize)]
pub(super) struct NoStatusView {
    pub(super) level: &'static str,
    pub(super) state: &'static str,
    pub(super) purchased: Option<String>,
    pub(super) anniversary: Option<String>,
}

/// `membership status` with a purchase (the latest decides).
#[derive(Serialize)]
pub(super) struct HeldStatusView<'a> {
    pub(super) level: &'static str,
    pub(super) last_level: &'static str,
    pub(super) state: &'static str,
    pub(super) purchased: String,
    pub(super) kind: &'a str,
    pub(super) term_start: String,
    pub(super) anniversary: String,
    pub(super) renewal_opens: String,
    pub(super) renewal_closes: String,
    pub(super) lapses: String,
    pub(super) fee_usd: f64,
    pub(super) list_fee_usd: f64,
    pub(super) discount: Option<&'a str>,
}

/// `membership upgrade` / `membership renew`.
#[derive(Serialize)]
pub(super) struct PurchasedView<'a> {
    pub(super) kind: &'a str,
    pub(super) level: &'static str,
    pub(super) previous_level: &'static str,
    pub(super) purchased: String,
    pub(super) term_start: String,
    pub(super) anniversary: String,
    pub(super) renewal_opens: String,
    pub(super) fee_usd: f64,
    pub(super) list_fee_usd: f64,
    pub(super) discount: Option<&'a str>,
    pub(super) competencies: Vec<LevelView<'a>>,
}

/// `membership profile`.
#[derive(Serialize)]
pub(super) struct ProfileView<'a> {
    pub(super) organization: &'a str,
    pub(super) level: &'static str,
    pub(super) state: &'static str,
    pub(super) anniversary: Option<String>,
    pub(super) competencies: Vec<LevelView<'a>>,
}

impl<'a> ProfileView<'a> {
    pub(super) fn new(p: &'a Profile) -> Self {
        ProfileView {
            organization: &p.organization,
            level: level_str(p.level),
            state: p.state.as_str(),
            anniversary: p.anniversary.map(|d| d.to_string()),
            competencies: levels(&p.competencies),
        }
    }
}

/// `membership benefits`.
#[derive(Serialize)]
pub(super) struct BenefitsView<'a> {
    pub(super) level: &'static str,
    pub(super) state: &'static str,
    pub(super) membership: &'a [String],
    pub(super) competencies: Vec<CompetencyBenefitsView<'a>>,
}

/// The benefits one displayed competency gives.
#[derive(Serialize)]
pub(super) struct CompetencyBenefitsView<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) level: &'static str,
    pub(super) benefits: &'a [String],
}

impl<'a> BenefitsView<'a> {
    pub(super) fn new(b: &'a svc::BenefitsView) -> Self {
        BenefitsView {
            level: level_str(b.level),
            state: b.state.as_str(),
            membership: &b.membership,
            competencies: b
                .competencies
                .iter()
                .map(|(d, list)| CompetencyBenefitsView {
                    id: &d.id,
                    name: &d.name,
                    level: d.level.as_str(),
                    benefits: list,
                })
                .collect(),
        }
    }
}

/// `membership what-if`.
#[derive(Serialize)]
pub(super) struct WhatIfView<'a> {
    pub(super) removed_users: &'a [String],
    pub(super) expire_before: Option<String>,
    pub(super) level: &'static str,
    pub(super) lost: Vec<LostView<'a>>,
    pub(super) alerts: Vec<BrokenView<'a>>,
    pub(super) renewal_possible: bool,
    pub(super) renewal_possible_now: bool,
}

/// A competency whose level would change.
#[derive(Serialize)]
pub(super) struct LostView<'a> {
    pub(super) competency: &'a str,
    pub(super) name: &'a str,
    pub(super) now: &'static str,
    pub(super) after: &'static str,
}

/// A displayed competency that would raise an alert.
#[derive(Serialize)]
pub(super) struct BrokenView<'a> {
    pub(super) competency: &'a str,
    pub(super) name: &'a str,
    pub(super) level: &'static str,
    pub(super) requirement: &'a str,
}

impl<'a> WhatIfView<'a> {
    pub(super) fn new(w: &'a WhatIf, held: Option<&Membership>) -> Self {
        WhatIfView {
            removed_users: &w.removed,
            expire_before: w.expire_before.map(|d| d.to_string()),
            level: level_str(held.map(Membership::level)),
            lost: w
                .changes
                .iter()
                .map(|c| LostView {
                    competency: &c.id,
                    name: &c.name,
                    now: level_str(c.now),
                    after: level_str(c.after),
                })
                .collect(),
            alerts: w
                .broken
                .iter()
                .map(|(d, why)| BrokenView {
                    competency: &d.id,
                    name: &d.name,
                    level: d.level.as_str(),
                    requirement: why,
                })
                .collect(),
            renewal_possible: held.is_some() && w.renewal_possible_after,
            renewal_possible_now: w.renewal_possible_now,
        }
    }
}

/// `membership check` (SPEC §7).
#[derive(Serialize)]
pub(super) struct CheckView<'a> {
    pub(super) status: &'static str,
    pub(super) level: &'static str,
    pub(super) state: &'static str,
    pub(super) anniversary: Option<String>,
    pub(super) renewal_opens: Option<String>,
    pub(super) renewal_window_open: bool,
    pub(super) renewal_eligible: bool,
    pub(super) alerts: Vec<AlertView<'a>>,
    pub(super) expiring: Vec<ExpiringView<'a>>,
    pub(super) competencies: Vec<LevelView<'a>>,
    /// Relied-on certifications whose renewal is open now (SPEC §9b).
    pub(super) renewals: &'a [crate::domain::renewals::Renewal],
}

impl<'a> CheckView<'a> {
    pub(super) fn new(c: &'a Check) -> Self {
        let m = c.membership.as_ref();
        CheckView {
            status: c.status.as_str(),
            level: level_str(m.filter(|m| m.state.is_held()).map(Membership::level)),
            state: m.map_or("none", |m| m.state.as_str()),
            anniversary: m.map(|m| m.dates.anniversary.to_string()),
            renewal_opens: m.map(|m| m.dates.renewal_opens.to_string()),
            renewal_window_open: c.window_open,
            renewal_eligible: c.renewal_eligible,
            alerts: c.alerts.iter().map(AlertView::new).collect(),
            expiring: c.expiring.iter().map(ExpiringView::new).collect(),
            competencies: levels(&c.displayed),
            renewals: &c.renewals,
        }
    }
}

/// `membership check` with designations held (SPEC §9): their part under `designations`.
#[derive(Serialize)]
pub(super) struct CheckAllView<'a> {
    #[serde(flatten)]
    pub(super) membership: CheckView<'a>,
    pub(super) designations: Vec<crate::cli::designations::CheckedView<'a>>,
    /// The open designation alerts, each with its sentence (SPEC §9).
    pub(super) designation_alerts: Vec<crate::cli::designations::AlertView<'a>>,
}

/// An achievement a displayed competency relies on that stops counting by the anniversary.
#[derive(Serialize)]
pub(super) struct ExpiringView<'a> {
    pub(super) competency: &'a str,
    pub(super) name: &'a str,
    pub(super) level: &'static str,
    pub(super) username: &'a str,
    pub(super) msa: &'a str,
    pub(super) code: &'a str,
    pub(super) expires: String,
}

impl<'a> ExpiringView<'a> {
    pub(super) fn new(e: &'a Expiring) -> Self {
        ExpiringView {
            competency: &e.competency,
            name: &e.name,
            level: e.level.as_str(),
            username: &e.username,
            msa: &e.msa,
            code: &e.code,
            expires: e.expires.to_string(),
        }
    }
}
