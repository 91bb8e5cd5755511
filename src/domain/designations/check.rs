//! The designations' part of the cron check: each enrolled designation judged against its
//! anniversary's window.
//!
//! Invariants: at-risk only when the window has begun and it has not qualified in it.

use super::*;

/// The designations' part of `membership check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Severity {
    /// Nothing to do.
    Ok,
    /// Not qualifying now (the window has not begun), or the renewal window is open.
    Warning,
    /// The anniversary's window has begun and it has not qualified in it.
    AtRisk,
}

impl Severity {
    /// The name as printed.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One enrolled designation judged for cron.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The designation id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its score now.
    pub score: f64,
    /// Qualifies now.
    pub qualified: bool,
    /// The state (enrolled or renewal-due).
    pub state: DState,
    /// The anniversary.
    pub anniversary: NaiveDate,
    /// The first day of the anniversary's qualification window.
    pub window_start: NaiveDate,
    /// When it first qualified in that window, if it has.
    pub qualified_in_window: Option<DateTime<Utc>>,
    /// The verdict.
    pub severity: Severity,
    /// Why, in words.
    pub reason: String,
}

/// What the designations' check found: every held designation, and every open designation
/// alert (the check prints them with their sentence, SPEC §9).
#[derive(Debug, Clone, Default)]
pub struct Check {
    /// Each enrolled (or renewal-due) designation.
    pub held: Vec<Checked>,
    /// The open designation alerts after this check's evaluation.
    pub alerts: Vec<Alert>,
}

impl Check {
    /// The most severe verdict, `None` when no designation is held.
    pub fn severity(&self) -> Option<Severity> {
        self.held.iter().map(|c| c.severity).max()
    }
}

/// Evaluates now, records alerts, and judges each enrolled designation (SPEC §9): at-risk
/// when its anniversary's window has begun and it has not qualified in it (nor does now);
/// warning when it does not qualify now but that window has not begun, or when the renewal
/// window is open; ok otherwise. Without designations in the rulebook: nothing held.
/// Reports its phases: loading, scoring, each held designation's window (each a point where
/// a Ctrl-C stops it).
pub fn check_reported(db: &Db, org: &Org, actor: &Actor, p: &dyn Progress) -> Result<Check> {
    let at = actor.at;
    // Nothing ever enrolled and no alert open: nothing held, no snapshot to load.
    if db.enrolments(org.id)?.is_empty() && db.designation_alerts(org.id, false)?.is_empty() {
        return Ok(Check::default());
    }
    let l = load_reported(db, org, p)?;
    progress::phase(p, &scoring(&l.snap), None)?;
    sync_with(db, org, actor, None, &l)?;
    let mut held = Vec::new();
    let latest = latest(db, org)?;
    let scores: BTreeMap<String, DesignationScore> = if latest.is_empty() {
        BTreeMap::new()
    } else {
        score_with(&l.rb, &l.snap, at, false)
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect()
    };
    for e in latest.values() {
        let state = held_state(&l.rb, e, at);
        if !state.is_held() {
            continue;
        }
        let s = scores.get(&e.designation);
        let qualified = s.is_some_and(DesignationScore::qualified);
        let from = window_start(&l.rb, start_of(e.anniversary));
        let began = at >= from;
        let since = if began {
            progress::phase(p, &window_phase(from), None)?;
            qualified_in_window(&l.rb, &l.snap, &e.designation, from, at)
        } else {
            None
        };
        let dates = Dates::new(e.anniversary, &l.rb.program);
        // Never "qualifies" of a designation that does not qualify now: the wording names
        // what fell instead (SPEC §9).
        let short = match s {
            Some(s) if !qualified => format!("does not qualify now: {}", shortfall(s)),
            _ => "does not qualify now".to_owned(),
        };
        let renewal = dates.window_open(at).then(|| {
            format!(
                "the renewal window is open until the end of {}",
                dates.window_closes()
            )
        });
        let (severity, reason) = if began && since.is_none() {
            (
                Severity::AtRisk,
                format!(
                    "has not qualified since {} (the window of the {} anniversary); {short}",
                    from.date_naive(),
                    e.anniversary
                ),
            )
        } else if !qualified && !began {
            (
                Severity::Warning,
                format!(
                    "{short}; the window of the {} anniversary begins on {}",
                    e.anniversary,
                    from.date_naive()
                ),
            )
        } else if !qualified {
            let qualified_on = since.map_or_else(String::new, |t| {
                format!("qualified on {} in the window; ", t.date_naive())
            });
            let text = match &renewal {
                Some(r) => format!("{qualified_on}{short}; {r}"),
                None => format!("{qualified_on}{short}"),
            };
            let severity = if renewal.is_some() {
                Severity::Warning
            } else {
                Severity::Ok
            };
            (severity, text)
        } else if let Some(r) = renewal {
            (Severity::Warning, r)
        } else {
            (Severity::Ok, "qualifies".to_owned())
        };
        held.push(Checked {
            id: e.designation.clone(),
            name: e.name.clone(),
            score: s.map_or(0.0, DesignationScore::score),
            qualified,
            state,
            anniversary: e.anniversary,
            window_start: from.date_naive(),
            qualified_in_window: since,
            severity,
            reason,
        });
    }
    progress::check()?;
    Ok(Check {
        held,
        alerts: db.designation_alerts(org.id, false)?,
    })
}

/// Why a designation does not qualify, in the counting track's terms: each required item
/// at 0 points ("net-customer-adds 0 of 30") and the total when below the threshold
/// ("total 40 of 70").
fn shortfall(s: &DesignationScore) -> String {
    let Some(t) = s.best_track() else {
        return "no track scores".to_owned();
    };
    let mut parts: Vec<String> = t
        .items
        .iter()
        .filter(|i| i.required && i.points <= 0.0)
        .map(|i| {
            format!(
                "{} {} of {}",
                i.name,
                crate::rules::explain::thousands(i.points),
                crate::rules::explain::thousands(i.max_points)
            )
        })
        .collect();
    if t.total < s.threshold || parts.is_empty() {
        parts.push(format!(
            "total {} of {}",
            crate::rules::explain::thousands(t.total),
            crate::rules::explain::thousands(s.threshold)
        ));
    }
    parts.join("; ")
}

/// The open alerts raised at or after `since` (the ones a command has just raised).
pub fn raised_since(db: &Db, org: &Org, since: DateTime<Utc>) -> Result<Vec<Alert>> {
    let since = since.timestamp();
    Ok(db
        .designation_alerts(org.id, false)?
        .into_iter()
        .filter(|a| a.raised_at.timestamp() >= since)
        .collect())
}

/// The organization's designation alerts (open ones unless `all`).
pub fn alerts(db: &Db, org: &Org, all: bool) -> Result<Vec<Alert>> {
    db.designation_alerts(org.id, all)
}
