//! Read-only views: status, the business profile, the alerts list and the benefits.
//!
//! Invariants: nothing here writes; the profile shows what the term's history displays.

use super::*;

/// The business profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The organization's name.
    pub organization: String,
    /// The level held, `None` without a held membership.
    pub level: Option<Level>,
    /// The state.
    pub state: State,
    /// The anniversary of the latest term.
    pub anniversary: Option<NaiveDate>,
    /// The competencies displayed.
    pub competencies: Vec<Displayed>,
}

/// The membership at `at` (for `status`), with the rulebook that dates it.
pub fn status(db: &Db, org: &Org, at: DateTime<Utc>) -> Result<Option<Membership>> {
    let rb = records::rulebook(db, org)?;
    membership(db, org, &rb.program, at)
}

/// The business profile at `at`: what the attainments of the term in force display.
pub fn profile(db: &Db, org: &Org, at: DateTime<Utc>) -> Result<Profile> {
    profile_from(db, org, at, None)
}

/// [`profile`] from `judged`, the caller's evaluation of `org` at `at` (the report's), instead
/// of loading and evaluating the organization a second time.
pub fn profile_judged(db: &Db, org: &Org, at: DateTime<Utc>, judged: &Judged) -> Result<Profile> {
    profile_from(db, org, at, Some(judged))
}

fn profile_from(db: &Db, org: &Org, at: DateTime<Utc>, judged: Option<&Judged>) -> Result<Profile> {
    let rb = records::rulebook(db, org)?;
    let m = membership(db, org, &rb.program, at)?;
    let (level, competencies) = match &m {
        Some(m) if m.state.is_held() => {
            let rows = displayed_from(&db.attainments(&m.display_terms(at))?, m.level());
            let own;
            let judged = match judged {
                Some(j) => j,
                None => {
                    own = judge_with(db, org, rb, at, &Silent)?;
                    &own
                }
            };
            (
                Some(m.level()),
                displayed_at(judged, m, at, m.level(), &rows)
                    .into_values()
                    .collect(),
            )
        }
        _ => (None, Vec::new()),
    };
    Ok(Profile {
        organization: org.name.clone(),
        level,
        state: m.as_ref().map_or(State::None, |m| m.state),
        anniversary: m.as_ref().map(|m| m.dates.anniversary),
        competencies,
    })
}

/// The organization's alerts, open ones only unless `all`.
pub fn alerts(db: &Db, org: &Org, all: bool) -> Result<Vec<Alert>> {
    Ok(db
        .alerts(org.id, all)?
        .into_iter()
        .map(|row| Alert {
            org: org.name.clone(),
            ..Alert::from(row)
        })
        .collect())
}

/// The benefits the current membership gives.
#[derive(Debug, Clone)]
pub struct BenefitsView {
    /// The level held.
    pub level: Option<Level>,
    /// The state.
    pub state: State,
    /// The membership's benefits (Gold includes Silver's).
    pub membership: Vec<String>,
    /// Each displayed competency with the benefits of its level (and those below).
    pub competencies: Vec<(Displayed, Vec<String>)>,
}

/// The benefits of the held level and of each displayed competency, from the rulebook.
pub fn benefits(db: &Db, org: &Org, at: DateTime<Utc>) -> Result<BenefitsView> {
    let rb = records::rulebook(db, org)?;
    let p = profile(db, org, at)?;
    let Some(level) = p.level else {
        return Ok(BenefitsView {
            level: None,
            state: p.state,
            membership: Vec::new(),
            competencies: Vec::new(),
        });
    };
    let own = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<Vec<_>>();
    let competencies = p
        .competencies
        .into_iter()
        .map(|d| {
            let b = rb
                .competency(&d.id)
                .and_then(|c| c.benefits.as_ref())
                .map(|b| own(b.up_to(d.level)))
                .unwrap_or_default();
            (d, b)
        })
        .collect();
    Ok(BenefitsView {
        level: Some(level),
        state: p.state,
        membership: own(rb.membership_benefits(level)),
        competencies,
    })
}
