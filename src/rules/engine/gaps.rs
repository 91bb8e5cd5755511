//! What is missing and what is at risk, read from an evaluation: the gaps of every level not
//! met (through its closest option), and for every level met the people whose departure
//! alone would break it.

use chrono::{DateTime, NaiveDate, Utc};

use super::classify::Scratch;
use super::explain;
use super::matching::{self, Class};
use super::pending::PendingPeople;
use super::prepared::{CompiledReq, Prepared};
use super::results::{Evaluation, Gap, OptionEval, RequirementDetail, Risk};
use crate::rules::engine::snapshot::Snapshot;
use crate::rules::parse::{Level, LevelOption, PeopleRequirement, Rulebook};

/// For every level not met, what is missing through its closest option (`LevelEval::best`,
/// see [`super::closeness`]): for each unmet people requirement, the shortfall of the maximum
/// assignment (count − assigned; adding that many people who qualify for it alone is
/// enough, since each new person extends the assignment by one), and for each unmet metric
/// the amount short. Silver is skipped when met through Gold; a level without options of
/// its own has no gap of its own (it can only be met through Gold, whose gap is listed).
///
/// People whose achievements are waiting out the progress delay (see [`super::pending`]) are
/// not asked for: the gap names them as pending with the instant they count from, and
/// `met_from` says when the level is met if they are all it lacks.
pub fn gaps(rb: &Rulebook, snap: &Snapshot, eval: &Evaluation) -> Vec<Gap> {
    let pending = super::pending::pending(rb, snap, eval);
    let mut out = Vec::new();
    for ce in &eval.competencies {
        let Some(comp) = rb.competencies.get(&ce.id) else {
            continue;
        };
        for le in ce.levels.iter().filter(|l| !l.met) {
            let (Some(oe), Some(opt)) =
                (le.options.get(le.best), comp.options(le.level).get(le.best))
            else {
                continue;
            };
            let missing = missing_with(rb, opt, oe, eval.at.date_naive(), |j| {
                pending.requirement(&ce.id, le.level, j)
            });
            out.push(Gap {
                competency: ce.id.clone(),
                name: ce.name.clone(),
                level: le.level,
                option: oe.name.clone(),
                missing,
                met_from: pending.met_from(&ce.id, le.level),
            });
        }
    }
    out
}

/// What is missing for one option evaluated on `today`: for each unmet people requirement,
/// how many more people with which codes (retired exams left out), and for each unmet
/// metric the amount short.
pub fn option_missing(
    rb: &Rulebook,
    opt: &LevelOption,
    oe: &OptionEval,
    today: NaiveDate,
) -> Vec<String> {
    missing_with(rb, opt, oe, today, |_| None)
}

/// [`option_missing`], with the people requirement `j`'s pending people (if any) named as
/// pending rather than asked for.
fn missing_with<'p>(
    rb: &Rulebook,
    opt: &LevelOption,
    oe: &OptionEval,
    today: NaiveDate,
    pending: impl Fn(usize) -> Option<&'p PendingPeople>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (j, r) in oe.requirements.iter().enumerate().filter(|(_, r)| !r.met) {
        match j.checked_sub(opt.people.len()) {
            None => {
                let req = &opt.people[j];
                let short = (r.need - r.have).max(0.0) as u64;
                let waiting = pending(j);
                let coming = waiting.map_or(0, |p| p.people.min(short));
                if short > coming {
                    out.push(people_gap(rb, req, short - coming, today));
                }
                if let Some(p) = waiting.filter(|_| coming > 0) {
                    out.push(explain::people_pending(
                        req,
                        coming,
                        &super::pending::instant(p.from),
                    ));
                }
            }
            Some(m) => out.extend(
                opt.metrics
                    .get(m)
                    .map(|req| explain::metric_gap(req, r.need - r.have)),
            ),
        }
    }
    out
}

/// Whether a pass of `code` taken `today` could count: the code is in the catalogue and its
/// exam is not retired (a pass dated on or after the retirement day never counts).
fn can_still_count(rb: &Rulebook, code: &str, today: NaiveDate) -> bool {
    rb.catalog_entry(code)
        .is_some_and(|e| e.retired.is_none_or(|retired| today < retired))
}

/// The text of a people shortfall, naming only codes a newcomer could still pass: the
/// alternatives that need a retired (or unknown) code are left out.
fn people_gap(rb: &Rulebook, req: &PeopleRequirement, short: u64, today: NaiveDate) -> String {
    let ok = |c: &String| can_still_count(rb, c, today);
    let all_ok = req.all_of.iter().all(ok);
    let any_of: Vec<Vec<String>> = req
        .any_of
        .iter()
        .filter(|list| list.iter().all(ok))
        .cloned()
        .collect();
    if !all_ok || (!req.any_of.is_empty() && any_of.is_empty()) {
        let noun = if short == 1 { "person" } else { "people" };
        return format!(
            "{short} more {noun} with {} (cannot be filled by new passes: its exams are retired)",
            explain::codes_phrase(req)
        );
    }
    let fillable = PeopleRequirement {
        count: req.count,
        all_of: req.all_of.clone(),
        any_of,
    };
    explain::people_gap(&fillable, short)
}

/// For every level met now, the people whose departure alone would break it: with their
/// account's associations ended at `at`, no option of the level (for Silver, no Silver or
/// Gold option) would be met any more.
///
/// Departures only remove people, so only options met now matter, and a person breaks a met
/// option exactly when removing one member of their class lowers the maximum assignment
/// below the option's demand — which also means every member of that class is counted. So
/// the candidates are the people counted in one met option, each checked against every met
/// option by re-solving the small class flow with their class one smaller.
pub fn risk(rb: &Rulebook, snap: &Snapshot, at: DateTime<Utc>, eval: &Evaluation) -> Vec<Risk> {
    let prep = Prepared::new(rb, snap, at);
    let mut scratch = Scratch::new(prep.indiv.len());
    let mut out = Vec::new();
    for ce in &eval.competencies {
        let Some(comp) = rb.competencies.get(&ce.id) else {
            continue;
        };
        for le in ce.levels.iter().filter(|l| l.met) {
            let sources: &[Level] = match le.level {
                Level::Silver => &[Level::Silver, Level::Gold],
                Level::Gold => &[Level::Gold],
            };
            let met: Vec<(&LevelOption, &OptionEval)> = sources
                .iter()
                .flat_map(|&lv| {
                    comp.options(lv)
                        .iter()
                        .zip(&ce.level(lv).options)
                        .filter(|(_, oe)| oe.met)
                })
                .collect();
            let mut critical = match met.first() {
                Some((_, first)) => {
                    let mut checks: Vec<Criticality> = met
                        .iter()
                        .map(|(opt, _)| Criticality::new(&prep, opt, &mut scratch))
                        .collect();
                    let mut users: Vec<i64> = counted_users(first);
                    users.sort_unstable();
                    users.dedup();
                    users
                        .into_iter()
                        .filter_map(|u| prep.indiv.binary_search_by_key(&u, |i| i.user_id).ok())
                        .map(|i| i as u32)
                        .filter(|&i| checks.iter_mut().all(|c| c.breaks_without(&prep, i)))
                        .collect::<Vec<u32>>()
                }
                None => Vec::new(),
            };
            critical.sort_unstable_by(|&a, &b| prep.by_username(a, b));
            let relied_on = relied_on(&prep, &met, &critical, &mut scratch);
            out.push(Risk {
                competency: ce.id.clone(),
                name: ce.name.clone(),
                level: le.level,
                critical: critical
                    .into_iter()
                    .map(|i| (prep.indiv[i as usize].user_id, prep.username(i).to_string()))
                    .collect(),
                relied_on,
            });
        }
    }
    out
}

/// The certifications of `critical` people (sorted by user name) whose lapse alone breaks
/// every met option of a level: the person's mask of requirements without that code is
/// one class lower in the small class flow of each option. Only codes some requirement of
/// a met option names are tried, so the cost is the critical people × those codes.
fn relied_on(
    prep: &Prepared,
    met: &[(&LevelOption, &OptionEval)],
    critical: &[u32],
    scratch: &mut Scratch,
) -> Vec<(i64, String)> {
    if critical.is_empty() {
        return Vec::new();
    }
    let mut checks: Vec<Criticality> = met
        .iter()
        .map(|(opt, _)| Criticality::new(prep, opt, scratch))
        .collect();
    let mut named: Vec<u32> = checks
        .iter()
        .flat_map(|c| {
            c.reqs
                .iter()
                .flat_map(|r| r.lists.iter().flatten().copied())
        })
        .collect();
    named.sort_unstable();
    named.dedup();
    let mut out = Vec::new();
    for &i in critical {
        let mut codes: Vec<&str> = named
            .iter()
            .filter(|&&c| prep.holds(i, c))
            .filter(|&&c| checks.iter_mut().all(|k| k.breaks_losing(prep, i, c)))
            .map(|&c| prep.rb.catalog[c as usize].code.as_str())
            .collect();
        codes.sort_unstable();
        codes.dedup();
        let user = prep.indiv[i as usize].user_id;
        out.extend(codes.into_iter().map(|c| (user, c.to_owned())));
    }
    out
}

fn counted_users(option: &OptionEval) -> Vec<i64> {
    option
        .requirements
        .iter()
        .filter_map(|r| match &r.detail {
            RequirementDetail::People { counted, .. } => Some(counted.iter().map(|c| c.user_id)),
            RequirementDetail::Metric { .. } => None,
        })
        .flatten()
        .collect()
}

/// Whether losing one member of a class breaks a met option, memoised per class.
struct Criticality {
    reqs: Vec<CompiledReq>,
    counts: Vec<u64>,
    classes: Vec<Class>,
    known: Vec<(u64, bool)>,
}

impl Criticality {
    fn new(prep: &Prepared, opt: &LevelOption, scratch: &mut Scratch) -> Self {
        let reqs: Vec<CompiledReq> = opt.people.iter().map(|r| prep.compile(r)).collect();
        let classes = prep.classify(&reqs, scratch);
        Criticality {
            counts: opt.people.iter().map(|r| u64::from(r.count)).collect(),
            reqs,
            classes,
            known: Vec::new(),
        }
    }

    fn breaks_without(&mut self, prep: &Prepared, i: u32) -> bool {
        let mask = prep.mask_of(i, &self.reqs);
        if mask == 0 {
            return false;
        }
        if let Some(&(_, b)) = self.known.iter().find(|k| k.0 == mask) {
            return b;
        }
        let mut classes = self.classes.clone();
        if let Some(c) = classes.iter_mut().find(|c| c.reqs == mask) {
            c.size = c.size.saturating_sub(1);
        }
        let breaks = !matching::max_assignment(&classes, &self.counts).meets(&self.counts);
        self.known.push((mask, breaks));
        breaks
    }

    /// Whether individual `i` losing catalogue code `code` (their other codes kept) breaks
    /// the option: their class one smaller, the class of what they still qualify for one
    /// larger.
    fn breaks_losing(&mut self, prep: &Prepared, i: u32, code: u32) -> bool {
        let mask = prep.mask_of(i, &self.reqs);
        let after = prep.mask_without(i, &self.reqs, code);
        if mask == after {
            return false;
        }
        let mut classes = self.classes.clone();
        if let Some(c) = classes.iter_mut().find(|c| c.reqs == mask) {
            c.size = c.size.saturating_sub(1);
        }
        if after != 0 {
            match classes.iter_mut().find(|c| c.reqs == after) {
                Some(c) => c.size += 1,
                None => classes.push(Class {
                    reqs: after,
                    size: 1,
                }),
            }
        }
        !matching::max_assignment(&classes, &self.counts).meets(&self.counts)
    }
}
