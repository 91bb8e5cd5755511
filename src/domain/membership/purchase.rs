//! Purchases: upgrades and renewals, with the refusals that say what is missing.
//!
//! Invariants: a purchase needs a competency met at its level now (Gold counting as Silver);
//! Gold holders cannot buy Silver; renewals only inside the renewal window; the fee is the
//! rulebook's (25 % off Silver → Gold when a Silver competency was attained this term); each
//! purchase is audited and evaluated once, in its own transaction.

use super::*;

/// What a purchase did.
#[derive(Debug, Clone)]
pub struct Purchased {
    /// The purchase recorded.
    pub purchase: PurchaseRow,
    /// The level held before, if a membership was held.
    pub previous: Option<Level>,
    /// The competencies the profile now displays.
    pub competencies: Vec<Displayed>,
    /// The renewal window of the new term.
    pub dates: Dates,
}

/// How far an option is from being met, for ranking refusals (smaller is closer): options
/// short of people only come first, by how many people are missing; then options short of
/// a performance figure, by the sum of their relative shortfalls `(need - have) / need`,
/// then people. A missing certified person can be found in weeks; a revenue gap cannot.
pub(super) fn refusal_rank(option: &OptionEval) -> (bool, f64, u64) {
    let mut people = 0u64;
    let mut metric = 0.0;
    let mut metric_short = false;
    for r in option.requirements.iter().filter(|r| !r.met) {
        match r.detail {
            RequirementDetail::People { .. } => people += (r.need - r.have).max(0.0) as u64,
            RequirementDetail::Metric { .. } => {
                metric_short = true;
                if r.need > 0.0 {
                    metric += ((r.need - r.have) / r.need).max(0.0);
                }
            }
        }
    }
    if metric_short {
        (true, metric, people)
    } else {
        (false, people as f64, 0)
    }
}

pub(super) fn rank_cmp(a: &(bool, f64, u64), b: &(bool, f64, u64)) -> std::cmp::Ordering {
    a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2))
}

/// The (at most three) competencies closest to being met at `level`, each through its
/// closest option by [`refusal_rank`], phrased with what they miss.
pub(super) fn closest_options(judged: &Judged, level: Level) -> Vec<String> {
    let rb = &judged.rulebook;
    let mut ranked: Vec<((bool, f64, u64), String)> = Vec::new();
    for ce in &judged.eval.competencies {
        let Some(comp) = rb.competency(&ce.id) else {
            continue;
        };
        let le = ce.level(level);
        if le.met {
            continue;
        }
        let best = comp
            .options(level)
            .iter()
            .zip(&le.options)
            .map(|(opt, oe)| (refusal_rank(oe), opt, oe))
            .min_by(|a, b| rank_cmp(&a.0, &b.0));
        if let Some((rank, opt, oe)) = best {
            let missing = option_missing(rb, opt, oe, judged.eval.at.date_naive());
            let option = if le.options.len() > 1 {
                format!(", option {:?}", oe.name)
            } else {
                String::new()
            };
            ranked.push((
                rank,
                format!(
                    "{} ({}{option}) needs {}",
                    ce.name,
                    ce.id,
                    missing.join(", ")
                ),
            ));
        }
    }
    // Stable: equal ranks keep the rulebook's id order.
    ranked.sort_by(|a, b| rank_cmp(&a.0, &b.0));
    ranked.into_iter().take(3).map(|r| r.1).collect()
}

/// The first instant after `at` and no later than `later` at which some competency is met
/// at `level`, with it: achievements and links count a fixed delay after they happen, so
/// the candidates are those moments.
pub(super) fn met_soon(
    judged: &Judged,
    level: Level,
    later: DateTime<Utc>,
) -> Option<(DateTime<Utc>, String, String)> {
    let at = judged.eval.at;
    let delay = chrono::TimeDelta::hours(i64::from(judged.rulebook.program.progress_delay_hours));
    let mut instants: Vec<DateTime<Utc>> = judged
        .snapshot
        .people
        .iter()
        .flat_map(|p| {
            p.achievements
                .iter()
                .map(move |a| start_of(a.earned).max(p.associated))
                .chain(std::iter::once(p.associated))
        })
        .filter_map(|t| t.checked_add_signed(delay))
        .filter(|t| *t > at && *t <= later)
        .collect();
    instants.sort_unstable();
    instants.dedup();
    // Each candidate is an evaluation: past a few hundred (a bulk import spread over the
    // day), name the end of the delay instead, when everything recent has counted.
    if instants.len() > 200 {
        instants.clear();
    }
    instants.push(later);
    instants.into_iter().find_map(|t| {
        let soon = evaluate(&judged.rulebook, &judged.snapshot, t);
        soon.competencies
            .iter()
            .find(|c| c.level(level).met)
            .map(|ce| (t, ce.name.clone(), ce.id.clone()))
    })
}

pub(super) fn refuse_nothing_met(judged: &Judged, level: Level, what: &str) -> anyhow::Error {
    // Achievements and links count only after the progress delay: a competency about to be
    // met is worth naming with the instant it will be.
    let delay = chrono::TimeDelta::hours(i64::from(judged.rulebook.program.progress_delay_hours));
    if let Some(later) = judged.eval.at.checked_add_signed(delay)
        && let Some((when, name, id)) = met_soon(judged, level, later)
    {
        return refused(format!(
            "no competency is met at {level} yet, so {what}: {name} ({id}) will be met at {} \
             once recent achievements and MSA links have counted for {} hours; try again \
             then",
            crate::support::clock::rfc3339(when),
            judged.rulebook.program.progress_delay_hours
        ));
    }
    let closest = closest_options(judged, level);
    let hint = if closest.is_empty() {
        String::new()
    } else {
        format!("; the closest: {}", closest.join("; "))
    };
    refused(format!(
        "no competency is met at {level} now, so {what}{hint}: `competency competencies gaps` \
         lists what each competency lacks"
    ))
}

pub(super) fn level_name(level: Level) -> &'static str {
    match level {
        Level::Silver => "Silver",
        Level::Gold => "Gold",
    }
}

pub(super) fn fee(rb: &Rulebook, level: Level) -> f64 {
    match level {
        Level::Silver => rb.fees.silver as f64,
        Level::Gold => rb.fees.gold as f64,
    }
}

/// Buys a membership at `level`: refused unless a competency is met at that level now;
/// Gold holders cannot buy Silver; a holder of the same level renews instead. Silver → Gold
/// (25 % off when a competency displayed at Silver is the one met at Gold) and a purchase
/// after a lapse start a new term today.
pub fn upgrade(db: &Db, org: &Org, actor: &Actor, level: Level) -> Result<Purchased> {
    let at = actor.at;
    let rulebook = records::rulebook(db, org)?;
    let m = membership(db, org, &rulebook.program, at)?;
    let held = m.as_ref().filter(|m| m.state.is_held());
    if let Some(h) = held {
        let a = h.dates.anniversary;
        if h.level() == Level::Gold && level == Level::Silver {
            return Err(refused(format!(
                "{} holds a Gold membership until {a}: Gold includes the Silver benefits, and a \
                 Gold holder cannot buy Silver",
                org.name
            )));
        }
        if h.level() == level {
            return Err(refused(format!(
                "{} already holds a {} membership until {a}: renew it with `competency \
                 membership renew` between {} and {}",
                org.name,
                level_name(level),
                h.dates.renewal_opens,
                h.dates.window_closes()
            )));
        }
    }
    let judged = judge_with(db, org, rulebook, at, &Silent)?;
    let met: Vec<&CompetencyEval> = judged
        .eval
        .competencies
        .iter()
        .filter(|ce| ce.level(level).met)
        .collect();
    if met.is_empty() {
        return Err(refuse_nothing_met(
            &judged,
            level,
            &format!("{} cannot buy {}", org.name, level_name(level)),
        ));
    }
    let list = fee(&judged.rulebook, level);
    let mut charged = list;
    let mut discount = None;
    let previous = held.map(Membership::level);
    if let Some(h) = held.filter(|h| h.level() == Level::Silver && level == Level::Gold) {
        let rows = displayed_from(&db.attainments(&h.display_terms(at))?, Level::Silver);
        let shown = displayed_at(&judged, h, at, Level::Silver, &rows);
        if let Some(ce) = met.iter().find(|ce| shown.contains_key(&ce.id)) {
            charged = list * (1.0 - SILVER_TO_GOLD_DISCOUNT);
            discount = Some(format!(
                "25% Silver-to-Gold upgrade discount ({} from Silver to Gold)",
                ce.id
            ));
        }
    }
    let today = at.date_naive();
    let term = judged.rulebook.program.term_months;
    let anniversary = storable_anniversary(add_term(today, term, today.day()))?;
    let id = db.insert_purchase(
        org.id,
        &NewPurchase {
            kind: "upgrade",
            level,
            term_start: today,
            anniversary,
            anchor_day: today.day(),
            list_fee_usd: list,
            fee_usd: charged,
            discount: discount.as_deref(),
        },
        at,
    )?;
    actor.audit(
        db,
        org.id,
        "membership.upgrade",
        &org.slug,
        &format!(
            "level={level} from={} fee={} USD (list {} USD{}) term={today}..{anniversary} met={}",
            previous.map_or("none", Level::as_str),
            number(charged),
            number(list),
            discount
                .as_deref()
                .map(|d| format!(", {d}"))
                .unwrap_or_default(),
            met.iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ),
    )?;
    finish_purchase(db, org, actor, judged, id, previous)
}

/// Records the attainments of a new term from the evaluation that allowed it, reconciles
/// alerts, and returns the purchase.
pub(super) fn finish_purchase(
    db: &Db,
    org: &Org,
    actor: &Actor,
    judged: Judged,
    id: i64,
    previous: Option<Level>,
) -> Result<Purchased> {
    let program = judged.rulebook.program.clone();
    let m = membership(db, org, &program, actor.at)?
        .ok_or_else(|| anyhow::anyhow!("the purchase just recorded is missing"))?;
    debug_assert_eq!(m.current.id, id);
    // The attainments of the new term are what the evaluation that allowed it found met;
    // syncing records them and closes alerts of competencies no longer displayed.
    let synced = sync_with(db, org, actor, None, Some(judged), &Silent)?;
    Ok(Purchased {
        purchase: m.current.clone(),
        previous,
        competencies: synced.displayed,
        dates: m.dates,
    })
}

/// Renews the held membership for one more term: only inside the renewal window and only
/// when a competency is met at the held level now. The new anniversary is A + term.
pub fn renew(db: &Db, org: &Org, actor: &Actor) -> Result<Purchased> {
    let at = actor.at;
    let rulebook = records::rulebook(db, org)?;
    let Some(m) = membership(db, org, &rulebook.program, at)? else {
        return Err(refused(format!(
            "{} has no membership to renew: buy one with `competency membership upgrade \
             --level silver` (or gold)",
            org.name
        )));
    };
    let level = m.level();
    let d = m.dates;
    if m.state == State::Lapsed {
        return Err(refused(format!(
            "the {} membership of {} lapsed on {} (the renewal window closed at the end of {}): \
             start afresh with `competency membership upgrade --level {level}`",
            level_name(level),
            org.name,
            d.lapses,
            d.window_closes()
        )));
    }
    if !d.window_open(at) {
        let already = if m.current.is_renewal() && at < start_of(m.current.term_start) {
            format!(
                " (already renewed on {})",
                m.current.purchased_at.date_naive()
            )
        } else {
            String::new()
        };
        return Err(refused(format!(
            "the renewal window of the {} membership{already} opens on {} ({} days before the \
             anniversary on {}) and closes at the end of {}; today is {}",
            level_name(level),
            d.renewal_opens,
            rulebook.program.renewal_opens_days,
            d.anniversary,
            d.window_closes(),
            at.date_naive()
        )));
    }
    let judged = judge_with(db, org, rulebook, at, &Silent)?;
    if !judged
        .eval
        .competencies
        .iter()
        .any(|ce| ce.level(level).met)
    {
        return Err(refuse_nothing_met(
            &judged,
            level,
            &format!(
                "the {} membership cannot be renewed (requirements must be met again)",
                level_name(level)
            ),
        ));
    }
    let program = &judged.rulebook.program;
    let anniversary = storable_anniversary(add_term(
        d.anniversary,
        program.term_months,
        m.current.anchor_day,
    ))?;
    let list = fee(&judged.rulebook, level);
    let id = db.insert_purchase(
        org.id,
        &NewPurchase {
            kind: "renewal",
            level,
            term_start: d.anniversary,
            anniversary,
            anchor_day: m.current.anchor_day,
            list_fee_usd: list,
            fee_usd: list,
            discount: None,
        },
        at,
    )?;
    actor.audit(
        db,
        org.id,
        "membership.renew",
        &org.slug,
        &format!(
            "level={level} fee={} USD term={}..{anniversary}",
            number(list),
            d.anniversary
        ),
    )?;
    finish_purchase(db, org, actor, judged, id, Some(level))
}
