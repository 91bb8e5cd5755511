//! The cron check: one evaluation recorded, the status and exit code, and the expiries that
//! alone would break a displayed competency before the anniversary.
//!
//! Invariants: the expiry warning is the judgement of `what-if --expire-before ANNIVERSARY`;
//! another holder who keeps a competency met means no warning for it.

use super::*;

/// The outcome of `membership check`, with its exit code (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum CheckStatus {
    /// Nothing to do.
    Ok,
    /// Still eligible, but the renewal window is open or something expires by the
    /// anniversary.
    Warning,
    /// A displayed competency is no longer met.
    AtRisk,
    /// No active or renewal-due membership.
    None,
}

impl CheckStatus {
    /// The name as printed.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            CheckStatus::Ok => 0,
            CheckStatus::Warning => 3,
            CheckStatus::AtRisk => 4,
            CheckStatus::None => 5,
        }
    }
}

/// What `membership check` found.
#[derive(Debug, Clone)]
pub struct Check {
    /// The status.
    pub status: CheckStatus,
    /// The membership, if ever bought.
    pub membership: Option<Membership>,
    /// A competency is met at the held level now (and the membership is held).
    pub renewal_eligible: bool,
    /// The renewal window is open now.
    pub window_open: bool,
    /// Every open alert.
    pub alerts: Vec<Alert>,
    /// The alerts this check raised.
    pub raised: Vec<Alert>,
    /// Achievements displayed competencies rely on that stop counting by the anniversary.
    pub expiring: Vec<Expiring>,
    /// The competencies displayed.
    pub displayed: Vec<Displayed>,
    /// Relied-on certifications whose free renewal is open now (SPEC §9b), by expiry.
    pub renewals: Vec<crate::domain::renewals::Renewal>,
}

/// Evaluates now (one snapshot, one evaluation), records attainments and alerts, and
/// judges the membership for cron.
pub fn check(db: &Db, org: &Org, actor: &Actor) -> Result<Check> {
    check_reported(db, org, actor, &Silent)
}

/// [`check`], reporting its phases: loading, evaluating, the term's attainments, the
/// expiries before the anniversary (each a point where a Ctrl-C stops it).
pub fn check_reported(db: &Db, org: &Org, actor: &Actor, p: &dyn Progress) -> Result<Check> {
    let mut synced = sync_with(db, org, actor, None, None, p)?;
    let alerts = alerts(db, org, false)?;
    let judged_owned = synced.judged.take();
    // Every relied-on certification however far its expiry, kept when its renewal is open
    // (SPEC §9b): competency levels and designations alike, membership or not.
    let today = actor.at.date_naive();
    let open = |j: &Judged| -> Result<Vec<crate::domain::renewals::Renewal>> {
        let fixed = crate::domain::designations::term_fixed(db, org, &j.rulebook, &j.snapshot)?;
        Ok(crate::domain::renewals::from_judged(
            j,
            fixed.as_ref(),
            actor.at,
            u32::MAX,
            None,
            false,
        ))
    };
    let renewals: Vec<_> = match &judged_owned {
        Some(j) => open(j)?,
        // No membership: designations may still rely on certifications.
        None => {
            let j = crate::domain::judge::judge(db, org, actor.at)?;
            let r = open(&j);
            crate::domain::judge::discard(j);
            r?
        }
    }
    .into_iter()
    .filter(|r| crate::domain::renewals::window_open(r, today))
    .collect();
    let (Some(m), Some(judged)) = (&synced.membership, &judged_owned) else {
        return Ok(Check {
            status: CheckStatus::None,
            membership: synced.membership,
            renewal_eligible: false,
            window_open: false,
            alerts,
            raised: synced.raised,
            expiring: Vec::new(),
            displayed: Vec::new(),
            renewals,
        });
    };
    let renewal_eligible = judged
        .eval
        .competencies
        .iter()
        .any(|ce| ce.level(m.level()).met);
    let window_open = m.dates.window_open(actor.at);
    progress::phase(
        p,
        &format!("judging expiries before {}", m.dates.anniversary),
        None,
    )?;
    let expiring = expiring(judged, &synced.displayed, m.dates.anniversary);
    progress::check()?;
    let status = if !alerts.is_empty() {
        CheckStatus::AtRisk
    } else if window_open || !expiring.is_empty() || !renewals.is_empty() {
        CheckStatus::Warning
    } else {
        CheckStatus::Ok
    };
    let check = Check {
        status,
        renewal_eligible,
        window_open,
        alerts,
        raised: synced.raised,
        expiring,
        displayed: synced.displayed,
        membership: synced.membership,
        renewals,
    };
    if let Some(j) = judged_owned {
        crate::domain::judge::discard(j);
    }
    Ok(check)
}

/// `membership check` in full: the membership's check and the designations' (each
/// recording its alerts), with the status combined as SPEC §9 says: `none` only when neither
/// a membership nor a designation is held; otherwise the most severe of at-risk > warning >
/// ok over everything held.
pub fn check_all_reported(
    db: &Db,
    org: &Org,
    actor: &Actor,
    p: &dyn Progress,
) -> Result<(Check, crate::domain::designations::Check)> {
    let mut c = check_reported(db, org, actor, p)?;
    let d = crate::domain::designations::check_reported(db, org, actor, p)?;
    c.status = combined_status(c.status, &d);
    // A relied-on certification in its renewal window warns whatever relies on it.
    if c.status == CheckStatus::Ok && !c.renewals.is_empty() {
        c.status = CheckStatus::Warning;
    }
    Ok((c, d))
}

/// The membership's status combined with the designations' (SPEC §9).
fn combined_status(membership: CheckStatus, d: &crate::domain::designations::Check) -> CheckStatus {
    use crate::domain::designations::Severity;
    let rank = |s: CheckStatus| match s {
        CheckStatus::None => 0,
        CheckStatus::Ok => 1,
        CheckStatus::Warning => 2,
        CheckStatus::AtRisk => 3,
    };
    let designations = match d.severity() {
        None => CheckStatus::None,
        Some(Severity::Ok) => CheckStatus::Ok,
        Some(Severity::Warning) => CheckStatus::Warning,
        Some(Severity::AtRisk) => CheckStatus::AtRisk,
    };
    if rank(designations) > rank(membership) {
        designations
    } else {
        membership
    }
}

/// For each displayed competency met now, the achievements its met option relies on
/// (`Counted::uses`) that stop counting on or before the anniversary. A competency with
/// another met option free of such expiries is safe and not listed.
pub fn expiring(judged: &Judged, displayed: &[Displayed], anniversary: NaiveDate) -> Vec<Expiring> {
    // The judgement `what-if --expire-before ANNIVERSARY` makes: with every achievement that
    // stops counting before the anniversary expired now, which displayed competencies break?
    // Another holder who keeps one met means no warning for it.
    // That costs an evaluation, made only for the competencies some of whose met options'
    // counted people do have something expiring (otherwise that option, and so the
    // competency, stays met), and only over the people who can count for them.
    let mut undecided: Vec<(&Displayed, Vec<Expiring>)> = Vec::new();
    for d in displayed {
        let Some(ce) = judged.eval.competency(&d.id) else {
            continue;
        };
        if !ce.level(d.level).met {
            continue;
        }
        let candidates: Vec<Vec<Expiring>> = Level::ALL
            .into_iter()
            .filter(|l| *l >= d.level)
            .flat_map(|l| ce.level(l).options.iter().filter(|o| o.met))
            .map(|o| {
                let mut list = Vec::new();
                for r in &o.requirements {
                    let RequirementDetail::People { counted, .. } = &r.detail else {
                        continue;
                    };
                    for c in counted {
                        for u in &c.uses {
                            if let Some(e) = u.expires.filter(|e| *e < anniversary) {
                                list.push(Expiring {
                                    competency: d.id.clone(),
                                    name: d.name.clone(),
                                    level: d.level,
                                    username: c.username.clone(),
                                    msa: judged
                                        .snapshot
                                        .people
                                        .get(c.person)
                                        .map(|p| p.msa.clone())
                                        .unwrap_or_default(),
                                    code: u.code.clone(),
                                    expires: e,
                                });
                            }
                        }
                    }
                }
                list
            })
            .collect();
        if candidates.iter().any(Vec::is_empty) {
            continue;
        }
        // Every met option relies on something expiring; name what expires in the first.
        if let Some(first) = candidates.into_iter().next() {
            undecided.push((d, first));
        }
    }
    if undecided.is_empty() {
        return Vec::new();
    }
    let ids: HashSet<&str> = undecided.iter().map(|(d, _)| d.id.as_str()).collect();
    let after = evaluate_expired(judged, &ids, anniversary);
    let mut out = Vec::new();
    for (d, list) in undecided {
        if !after
            .competency(&d.id)
            .is_some_and(|a| a.level(d.level).met)
        {
            out.extend(list);
        }
    }
    out.sort_by(|a, b| a.expires.cmp(&b.expires).then(a.code.cmp(&b.code)));
    out
}

/// The competencies `ids` evaluated at the judgement's instant as if every achievement
/// stopping counting before `date` had expired ([`expire_before`]). Only the people who
/// hold a code those competencies name can count for them, so the supposed snapshot keeps
/// just those people (active at the instant) and those codes — the same answer as the
/// whole organization's, at a fraction of the cost — unless a requirement counts anyone at
/// all, which needs everyone.
pub(super) fn evaluate_expired(
    judged: &Judged,
    ids: &HashSet<&str>,
    date: NaiveDate,
) -> Evaluation {
    let at = judged.eval.at;
    let mut rb = judged.rulebook.clone();
    rb.competencies.retain(|id, _| ids.contains(id.as_str()));
    let requirements = || {
        rb.competencies
            .values()
            .flat_map(|c| c.silver.iter().chain(&c.gold))
            .flat_map(|o| &o.people)
    };
    let anyone = requirements().any(|r| {
        r.all_of.is_empty() && (r.any_of.is_empty() || r.any_of.iter().any(Vec::is_empty))
    });
    let mut supposed = if anyone {
        judged.snapshot.clone()
    } else {
        let codes: HashSet<&str> = requirements().flat_map(|r| r.codes()).collect();
        let people = judged
            .snapshot
            .people
            .iter()
            .filter(|p| association_active(p, at))
            .filter(|p| p.achievements.iter().any(|a| codes.contains(&*a.code)))
            .map(|p| Person {
                user_id: p.user_id,
                username: p.username.clone(),
                msa: p.msa.clone(),
                associated: p.associated,
                ended: p.ended,
                achievements: p
                    .achievements
                    .iter()
                    .filter(|a| codes.contains(&*a.code))
                    .cloned()
                    .collect(),
            })
            .collect();
        Snapshot {
            market: judged.snapshot.market,
            people,
            performance: judged.snapshot.performance.clone(),
            classifications: judged.snapshot.classifications.clone(),
        }
    };
    expire_before(&mut supposed, &rb, date);
    evaluate(&rb, &supposed, at)
}
