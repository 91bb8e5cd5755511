//! What-if: scores as if people left, achievements were added or figures set. Reads only.

use super::*;

/// One designation before and after supposed changes.
#[derive(Debug, Clone)]
pub struct WhatIf {
    /// The score now.
    pub before: DesignationScore,
    /// The score with the changes.
    pub after: DesignationScore,
    /// The counting track's items that changed ([`fell`]).
    pub changes: Vec<String>,
}

/// Scores every designation as if these users had left now, these achievements (MSA:CODE)
/// had been earned and counted now, and these metrics
/// (METRIC[:SCOPE[:TRACK[:ASSOCIATION]]]=VALUE) had these values now. Reads only.
pub fn what_if(
    db: &Db,
    org: &Org,
    at: DateTime<Utc>,
    remove_users: &[String],
    add_achievements: &[String],
    set: &[String],
) -> Result<Vec<WhatIf>> {
    if remove_users.is_empty() && add_achievements.is_empty() && set.is_empty() {
        return Err(bad_input(
            "say what to suppose: --remove-user USER, --add-achievement MSA:CODE and/or --set \
             METRIC[:SCOPE[:TRACK[:ASSOCIATION]]]=VALUE (each repeatable)",
        ));
    }
    let l = load(db, org)?;
    if l.rb.designations.is_empty() {
        return Err(no_designations(org));
    }
    let mut snap = l.snap.clone();
    let mut ids = Vec::new();
    for key in remove_users {
        ids.push(accounts::find(db, org, key)?.id);
    }
    snap.without_users(&ids, at);
    let delay = TimeDelta::hours(i64::from(l.rb.program.progress_delay_hours));
    for spec in add_achievements {
        let (msa, code) = spec
            .split_once(':')
            .ok_or_else(|| bad_input(format!("--add-achievement {spec:?}: expected MSA:CODE")))?;
        let msa = msa.trim().to_lowercase();
        let code = code.trim();
        if l.rb.catalog_entry(code).is_none() {
            return Err(bad_input(format!(
                "--add-achievement: {code:?} is not in the catalog (nearest: {})",
                l.rb.nearest_codes(code, 3).join(", ")
            )));
        }
        let person = snap
            .people
            .iter_mut()
            .find(|p| p.msa == msa && crate::rules::engine::association_active(p, at))
            .ok_or_else(|| {
                bad_input(format!(
                    "--add-achievement: {msa} is not linked to an active account of {}",
                    org.name
                ))
            })?;
        // Supposed to count now: earned and associated a full delay ago.
        let earned = (at - delay - TimeDelta::days(1)).date_naive();
        person.associated = person.associated.min(at - delay);
        person.achievements.push(Achievement {
            code: code.into(),
            earned,
            expires: None,
            removed: None,
        });
    }
    // Validated as `performance record` validates a record: a figure no rule reads would
    // change nothing and hide a typo.
    let scope_rules = crate::domain::records::ScopeRules::new(&l.rb);
    for spec in set {
        let (key, value) = spec.split_once('=').ok_or_else(|| {
            bad_input(format!(
                "--set {spec:?}: expected METRIC[:SCOPE[:TRACK[:ASSOCIATION]]]=VALUE"
            ))
        })?;
        let mut parts = key.splitn(4, ':');
        let metric = parts.next().unwrap_or("").trim();
        let scope = parts.next().unwrap_or("").trim().to_lowercase();
        let track = parts
            .next()
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty());
        let association = match parts.next().map(str::trim).filter(|a| !a.is_empty()) {
            None => None,
            Some(a) => Some(crate::rules::Association::parse(a).ok_or_else(|| {
                bad_input(format!(
                    "--set {key}: {a:?} is not an association: cpor, dpor or csp"
                ))
            })?),
        };
        let metric = Metric::parse(metric).ok_or_else(|| {
            bad_input(format!(
                "--set {key}: {metric:?} is not a metric: {}",
                Metric::ALL.map(Metric::as_str).join(", ")
            ))
        })?;
        let value = crate::support::fields::number("--set", value).map_err(bad_input)?;
        scope_rules
            .check_input(&crate::store::PerformanceRow {
                metric,
                scope: scope.clone(),
                track: track.clone().unwrap_or_default(),
                association: association
                    .map(|a| a.as_str().to_owned())
                    .unwrap_or_default(),
                value,
                date: at.date_naive(),
            })
            .map_err(|e| bad_input(format!("--set {key}: {e}")))?;
        let track = track.as_deref();
        let scope = scope.as_str();
        let today = at.date_naive();
        snap.performance.retain(|r| {
            !(r.metric == metric
                && r.scope.eq_ignore_ascii_case(scope.trim())
                && r.track.as_deref() == track
                && r.association == association
                && r.date >= today)
        });
        snap.performance.push(PerformanceRecord {
            metric,
            scope: scope.trim().to_lowercase(),
            value,
            date: today,
            track: track.map(str::to_lowercase),
            association,
        });
    }
    let after = score(&l.rb, &snap, at);
    Ok(score(&l.rb, &l.snap, at)
        .into_iter()
        .zip(after)
        .map(|(before, after)| WhatIf {
            changes: fell(&before, &after),
            before,
            after,
        })
        .collect())
}

/// The items of the counting track that changed, e.g.
/// "intermediate: 3 people, 12 of 20 points, was 16".
pub fn fell(before: &DesignationScore, after: &DesignationScore) -> Vec<String> {
    let (Some(b), Some(a)) = (before.best_track(), after.tracks.get(before.best)) else {
        return Vec::new();
    };
    b.items
        .iter()
        .zip(&a.items)
        .filter(|(x, y)| x.points != y.points)
        .map(|(x, y)| {
            format!(
                "{}, was {}",
                item_text(y),
                crate::rules::explain::thousands(x.points)
            )
        })
        .collect()
}

/// "intermediate: 3 people, 12 of 20 points" or "net-customer-adds (azure): 2, 20 of 30 points".
pub fn item_text(i: &ItemScore) -> String {
    let value = match i.kind {
        ItemKind::Skilling => {
            let n = i.value as usize;
            format!("{n} {}", plural(n))
        }
        ItemKind::Metric => crate::rules::explain::thousands(i.value),
    };
    format!(
        "{}: {value}, {} of {} points",
        i.name,
        crate::rules::explain::thousands(i.points),
        crate::rules::explain::thousands(i.max_points)
    )
}
