//! Achievements and performance records: validation against the rulebook and recording.
//!
//! Achievements belong to the MSA (they follow the person); performance records belong to
//! the organization. Codes must be in the rulebook's catalogue; dates must be real and not
//! in the future; values must be finite and non-negative (the designation metrics excepted:
//! they compare a month with a year earlier). Recording the same thing twice changes nothing.

use anyhow::Result;
use chrono::NaiveDate;

use crate::domain::Actor;
use crate::error::{bad_input, not_found, refused};
use crate::rules::rulebook::CatalogEntry;
use crate::rules::{Association, Metric, Rulebook, nearest_codes};
use crate::store::{Db, NewAchievement, Org, PerformanceRow, Recorded};
use crate::support::fields;

/// Finds a code in the catalogue (case-insensitive), or explains which codes are near.
pub fn catalog_code<'r>(rb: &'r Rulebook, code: &str) -> Result<&'r CatalogEntry, String> {
    let trimmed = code.trim();
    rb.catalog
        .iter()
        .find(|c| c.code.eq_ignore_ascii_case(trimmed))
        .ok_or_else(|| {
            let near = nearest_codes(&rb.catalog, trimmed, 3);
            if near.is_empty() {
                format!(
                    "code {} is not in the rulebook's catalog",
                    fields::shown(trimmed)
                )
            } else {
                format!(
                    "code {} is not in the rulebook's catalog (did you mean {}?)",
                    fields::shown(trimmed),
                    near.join(", ")
                )
            }
        })
}

/// A validated achievement, ready to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAchievement {
    /// MSA, lower case.
    pub msa: String,
    /// Canonical catalogue code.
    pub code: String,
    /// Day earned.
    pub earned: NaiveDate,
    /// Own expiry.
    pub expires: Option<NaiveDate>,
}

/// Validates an achievement's fields; each error names the field.
pub fn validate_achievement(
    rb: &Rulebook,
    today: NaiveDate,
    msa: &str,
    code: &str,
    earned: &str,
    expires: Option<&str>,
) -> Result<ValidAchievement, String> {
    let msa = fields::email(msa).map_err(|e| format!("msa: {e}"))?;
    let entry = catalog_code(rb, code).map_err(|e| format!("code: {e}"))?;
    let earned_d = crate::support::clock::parse_date(earned).map_err(|e| format!("earned: {e}"))?;
    if earned_d > today {
        return Err(format!(
            "earned: {earned_d} is in the future (today is {today})"
        ));
    }
    let expires = match expires.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(e) => {
            let d = crate::support::clock::parse_date(e).map_err(|e| format!("expires: {e}"))?;
            if d <= earned_d {
                return Err(format!(
                    "expires: {d} is not after the day earned ({earned_d})"
                ));
            }
            Some(d)
        }
    };
    Ok(ValidAchievement {
        msa,
        code: entry.code.clone(),
        earned: earned_d,
        expires,
    })
}

/// Why `org` may not write the achievements of `msa` (SPEC §4): an organization writes
/// only those of MSAs associated with its own accounts or with none. `None` when it may.
/// Called inside the write transaction of the change.
pub fn foreign_msa(db: &Db, org: &Org, msa: &str) -> Result<Option<String>> {
    Ok(db
        .open_link_for_msa(msa)?
        .filter(|l| l.org_id != org.id)
        .map(|l| foreign_msa_message(org, msa, &l.org_name)))
}

/// Why `org` may not change the achievements of `msa`, associated with an account of
/// `owner` (another organization).
pub fn foreign_msa_message(org: &Org, msa: &str, owner: &str) -> String {
    format!(
        "{msa} is associated with an account of {owner}: {} can change only the \
         achievements of its own people's MSAs (or of MSAs associated with no account)",
        org.name
    )
}

/// Records one achievement and audits it.
pub fn add_achievement(
    db: &Db,
    org: &Org,
    actor: &Actor,
    a: &ValidAchievement,
) -> Result<Recorded> {
    if let Some(why) = foreign_msa(db, org, &a.msa)? {
        return Err(refused(why));
    }
    let r = db.upsert_achievement(
        &NewAchievement {
            msa: &a.msa,
            code: &a.code,
            earned: a.earned,
            expires: a.expires,
        },
        actor.at,
    )?;
    if r != Recorded::Unchanged {
        actor.audit(
            db,
            org.id,
            if r == Recorded::Added {
                "achievements.add"
            } else {
                "achievements.update"
            },
            &a.msa,
            &format!(
                "code={} earned={}{}",
                a.code,
                a.earned,
                a.expires
                    .map(|e| format!(" expires={e}"))
                    .unwrap_or_default()
            ),
        )?;
    }
    Ok(r)
}

/// Removes every record of a code for an MSA; an error when there is none.
pub fn remove_achievement(
    db: &Db,
    org: &Org,
    actor: &Actor,
    rb: &Rulebook,
    msa: &str,
    code: &str,
) -> Result<usize> {
    let msa = fields::email(msa).map_err(|e| bad_input(format!("--msa: {e}")))?;
    if let Some(why) = foreign_msa(db, org, &msa)? {
        return Err(refused(why));
    }
    let code = catalog_code(rb, code)
        .map(|c| c.code.clone())
        .unwrap_or_else(|_| code.trim().to_owned());
    let n = db.remove_achievement(&msa, &code, actor.at)?;
    if n == 0 {
        return Err(not_found(format!(
            "{msa} has no achievement {}: `competency achievements list --msa {msa}` shows its records",
            fields::shown_plain(&code)
        )));
    }
    actor.audit(
        db,
        org.id,
        "achievements.remove",
        &msa,
        &format!("code={code} records={n}"),
    )?;
    Ok(n)
}

/// Validates a performance record's fields; each error names the field. `track` and
/// `association` are checked for their form here, against the rulebook by
/// [`ScopeRules::check_input`].
pub fn validate_performance(
    today: NaiveDate,
    metric: &str,
    value: &str,
    date: &str,
    scope: Option<&str>,
    track: Option<&str>,
    association: Option<&str>,
) -> Result<PerformanceRow, String> {
    let metric = Metric::parse(metric).ok_or_else(|| {
        let all: Vec<&str> = Metric::ALL.iter().map(|m| m.as_str()).collect();
        format!(
            "metric: {} is not a metric ({})",
            fields::shown(metric.trim()),
            all.join(", ")
        )
    })?;
    let v = fields::number("value", value)?;
    // Out-of-range values are quoted as given: `{v}` would spell 1e300 with 301 digits.
    if v < 0.0 && !metric.allows_negative() {
        return Err(format!("value: {} is negative", value.trim()));
    }
    if v.abs() > 1e15 {
        return Err(format!(
            "value: {} is implausibly large (over 10^15)",
            value.trim()
        ));
    }
    let date = crate::support::clock::parse_date(date).map_err(|e| format!("date: {e}"))?;
    if date > today {
        return Err(format!("date: {date} is in the future (today is {today})"));
    }
    if fields::starts_formula(scope.unwrap_or("").trim_start_matches(' ')) {
        return Err(format!(
            "scope: {} starts with a character a spreadsheet would run as a formula",
            fields::shown(scope.unwrap_or("").trim())
        ));
    }
    let scope = scope.unwrap_or("").trim().to_lowercase();
    if fields::unsafe_char(&scope).is_some() || scope.len() > 64 {
        return Err(
            "scope: control characters, bidirectional overrides or more than 64 characters".into(),
        );
    }
    let track = track.unwrap_or("").trim().to_lowercase();
    if !track.is_empty() && (crate::rules::kebab(&track) != track || track.len() > 32) {
        return Err(format!(
            "track: {} is not a track name (enterprise, smb)",
            fields::shown(&track)
        ));
    }
    let association = match association.map(str::trim).filter(|a| !a.is_empty()) {
        None => String::new(),
        Some(a) => Association::parse(a)
            .ok_or_else(|| {
                format!(
                    "association: {} is not an association (cpor, dpor, csp)",
                    fields::shown(a)
                )
            })?
            .as_str()
            .to_owned(),
    };
    Ok(PerformanceRow {
        metric,
        scope,
        track,
        association,
        value: v,
        date,
    })
}

/// A record's (track, association) as the rulebook declares inputs, `None` for none.
type InputKey = (Option<String>, Option<Association>);

fn input_text(k: &InputKey) -> String {
    match k {
        (None, None) => "no track or association".to_owned(),
        (Some(t), None) => format!("track {t}"),
        (None, Some(a)) => format!("association {}", a.as_str()),
        (Some(t), Some(a)) => format!("track {t} with association {}", a.as_str()),
    }
}

/// The scopes the rulebook's metric requirements use, per metric: a performance record with
/// another scope (a typo such as `azur`, or none where every rule names one) would never
/// count, so it is refused (SPEC §4).
pub struct ScopeRules {
    /// For each metric (by [`Metric::as_str`]): the scopes used, and whether some
    /// requirement counts every record of the metric (no scope).
    used: std::collections::HashMap<&'static str, (std::collections::BTreeSet<String>, bool)>,
    /// For each (metric, scope) a designation reads: the (track, association) of each input
    /// declared for it (SPEC §9 "Inputs"). A competency's metric adds (none, none).
    inputs: std::collections::HashMap<(Metric, String), std::collections::BTreeSet<InputKey>>,
}

impl ScopeRules {
    /// The scopes `rb` uses.
    pub fn new(rb: &Rulebook) -> ScopeRules {
        let mut used: std::collections::HashMap<
            &'static str,
            (std::collections::BTreeSet<String>, bool),
        > = std::collections::HashMap::new();
        let mut inputs: std::collections::HashMap<
            (Metric, String),
            std::collections::BTreeSet<InputKey>,
        > = std::collections::HashMap::new();
        let mut note = |metric: Metric, scope: Option<&str>, key: InputKey| {
            let entry = used.entry(metric.as_str()).or_default();
            let scope = scope.map(|s| s.trim().to_lowercase()).unwrap_or_default();
            if scope.is_empty() {
                entry.1 = true;
            } else {
                entry.0.insert(scope.clone());
            }
            inputs.entry((metric, scope)).or_default().insert(key);
        };
        for competency in rb.competencies.values() {
            for level in crate::rules::Level::ALL {
                for option in competency.options(level) {
                    for req in &option.metrics {
                        note(req.metric, req.scope.as_deref(), (None, None));
                    }
                }
            }
        }
        // Designations' metric items use scopes too (SPEC §9): `--scope azure` counts there.
        for designation in rb.designations.values() {
            for track in designation.all_tracks() {
                let by_track = designation.inputs_by_track.then(|| track.name.to_owned());
                for item in track.metrics {
                    for (metric, association) in item.inputs() {
                        note(
                            metric,
                            item.scope.as_deref(),
                            (by_track.clone(), association),
                        );
                    }
                }
            }
        }
        ScopeRules { used, inputs }
    }

    /// Checks a record's metric, scope, track and association: the scope as [`Self::check`],
    /// then the track and association against the inputs the rulebook declares for that
    /// metric and scope (a record naming one not declared, or omitting one required, is
    /// refused with the accepted ones).
    pub fn check_input(&self, row: &PerformanceRow) -> Result<(), String> {
        self.check(row.metric, &row.scope)?;
        let key: InputKey = (
            (!row.track.is_empty()).then(|| row.track.clone()),
            Association::parse(&row.association),
        );
        let Some(accepted) = self.inputs.get(&(row.metric, row.scope.clone())) else {
            return if key == (None, None) {
                Ok(())
            } else {
                Err(format!(
                    "track: no rule of the rulebook reads {} by track or association; leave them \
                     empty",
                    row.metric.as_str()
                ))
            };
        };
        if accepted.contains(&key) {
            return Ok(());
        }
        let field = if accepted.iter().any(|a| a.0 == key.0) {
            "association"
        } else {
            "track"
        };
        let scope = if row.scope.is_empty() {
            String::new()
        } else {
            format!(" ({})", row.scope)
        };
        let list: Vec<String> = accepted.iter().map(input_text).collect();
        Err(format!(
            "{field}: the rulebook reads {}{scope} with {}, not with {}",
            row.metric.as_str(),
            list.join("; or "),
            input_text(&key)
        ))
    }

    /// Checks a (lower-case, trimmed) scope for `metric`; the error names the scopes the
    /// rules use, nearest first.
    pub fn check(&self, metric: Metric, scope: &str) -> Result<(), String> {
        let (scopes, unscoped) = match self.used.get(metric.as_str()) {
            Some((s, u)) => (s, *u),
            None => {
                if scope.is_empty() {
                    return Ok(());
                }
                return Err(format!(
                    "scope: no rule of the rulebook uses {} with a scope, so {} would never \
                     count; leave the scope empty",
                    metric.as_str(),
                    fields::shown(scope)
                ));
            }
        };
        if scope.is_empty() {
            if unscoped {
                return Ok(());
            }
            return Err(format!(
                "scope: every rule of the rulebook counts {} only with a scope ({}); give \
                 one with the record",
                metric.as_str(),
                scopes.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if scopes.contains(scope) {
            return Ok(());
        }
        let mut near: Vec<(usize, &String)> = scopes
            .iter()
            .map(|s| (strsim::levenshtein(s, scope), s))
            .collect();
        near.sort();
        let listed: Vec<&str> = near.iter().map(|(_, s)| s.as_str()).collect();
        let hint = match near.first() {
            Some((d, s)) if *d <= s.chars().count().max(2) / 2 => format!(" (did you mean {s}?)"),
            _ => String::new(),
        };
        Err(format!(
            "scope: no rule of the rulebook uses {} for {}{hint}; the scopes it uses: {}{}",
            fields::shown(scope),
            metric.as_str(),
            if listed.is_empty() {
                "none".to_owned()
            } else {
                listed.join(", ")
            },
            if unscoped { " (or no scope)" } else { "" }
        ))
    }
}

/// Records one performance value and audits it.
pub fn record_performance(
    db: &Db,
    org: &Org,
    actor: &Actor,
    row: &PerformanceRow,
) -> Result<Recorded> {
    let r = db.upsert_performance(org.id, row, actor.at)?;
    if r != Recorded::Unchanged {
        actor.audit(
            db,
            org.id,
            "performance.record",
            row.metric.as_str(),
            &format!(
                "value={} date={}{}{}{}",
                row.value,
                row.date,
                if row.scope.is_empty() {
                    String::new()
                } else {
                    format!(" scope={}", row.scope)
                },
                if row.track.is_empty() {
                    String::new()
                } else {
                    format!(" track={}", row.track)
                },
                if row.association.is_empty() {
                    String::new()
                } else {
                    format!(" association={}", row.association)
                }
            ),
        )?;
    }
    Ok(r)
}

/// The organization's rulebook, parsed. One that passed validation when it was stored (its
/// digest matches) is not validated again: commands do not pay for it on every run.
pub fn rulebook(db: &Db, org: &Org) -> Result<Rulebook> {
    let (src, digest) = db.rulebook_with_digest(org.id)?;
    let file = format!("the rulebook of {}", org.slug);
    if digest.is_some_and(|d| d == crate::rules::validate::validated_digest(&src)) {
        Ok(Rulebook::parse_validated(&src, &file)?)
    } else {
        Ok(Rulebook::parse(&src, &file)?)
    }
}
