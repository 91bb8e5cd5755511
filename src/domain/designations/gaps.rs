//! Gaps: for each designation not qualifying, the cheapest additions on its cheapest track.
//!
//! Invariants: people first (prerequisites, then the items giving the most points per person),
//! then metric shortfalls; every required item above 0.

use super::*;
use crate::rules::points::{Exact, display, exact, zero};

/// What a designation not qualifying needs, on its cheapest track.
#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    /// The designation id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The track the additions are for.
    pub track: String,
    /// The score now on that track.
    pub score: f64,
    /// The score after the additions.
    pub after: f64,
    /// The additions, people first, each with its point gain.
    pub missing: Vec<String>,
    /// When achievements waiting out the progress delay alone make it qualify: the first
    /// instant it does (nothing is missing then).
    pub qualifies_from: Option<DateTime<Utc>>,
}

/// For each designation not qualifying at `at`, the cheapest additions that reach the
/// threshold with every required item above 0: people first (prerequisites, then the items
/// that give the most points per person), then metric shortfalls.
pub fn gaps(db: &Db, org: &Org, at: DateTime<Utc>) -> Result<Vec<Gap>> {
    let l = load(db, org)?;
    if l.rb.designations.is_empty() {
        return Err(no_designations(org));
    }
    let threshold = exact(l.rb.program.designation_threshold);
    let pending = crate::rules::engine::pending::instants(&l.rb, &l.snap, at);
    let mut out = Vec::new();
    for s in score_with(&l.rb, &l.snap, at, false) {
        if s.qualified() {
            continue;
        }
        // People whose achievements count within the progress delay are not asked for.
        if let Some((from, then)) = qualifies_from(&l, &s.id, &pending) {
            out.push(Gap {
                id: s.id.clone(),
                name: s.name.clone(),
                track: then
                    .best_track()
                    .map_or_else(String::new, |t| t.track.clone()),
                score: s.score(),
                after: then.score(),
                missing: vec![format!(
                    "nothing: qualifies from {} once pending achievements count",
                    crate::rules::engine::pending::instant(from)
                )],
                qualifies_from: Some(from),
            });
            continue;
        }
        let d = &l.rb.designations[&s.id];
        let day = at.date_naive();
        let gaps: Vec<TrackGap> = d
            .all_tracks()
            .iter()
            .zip(&s.tracks)
            .enumerate()
            // A classified track counts alone; with none set every failing track must be
            // closed; otherwise the cheapest track.
            .filter(|(i, (_, ts))| {
                if s.classified.is_some() {
                    *i == s.best
                } else {
                    s.track_set() || !ts.qualified
                }
            })
            .map(|(_, (t, ts))| track_gap(&l.rb, d, day, t, ts, threshold))
            .collect();
        let chosen: Vec<TrackGap> = if s.track_set() {
            gaps.into_iter()
                .min_by_key(|g| (g.people, g.metric_steps, g.unreachable))
                .into_iter()
                .collect()
        } else {
            gaps
        };
        for g in chosen {
            out.push(Gap {
                id: s.id.clone(),
                name: s.name.clone(),
                track: if s.track_set() {
                    g.track
                } else {
                    format!("{} (track not set)", g.track)
                },
                score: g.score,
                after: g.after,
                missing: g.missing,
                qualifies_from: None,
            });
        }
    }
    Ok(out)
}

/// The first pending instant at which designation `id` qualifies, when the achievements
/// pending now make it qualify.
fn qualifies_from(
    l: &Loaded,
    id: &str,
    pending: &[DateTime<Utc>],
) -> Option<(DateTime<Utc>, DesignationScore)> {
    let score = |t| crate::rules::designations::score_designation(&l.rb, &l.snap, id, t);
    let from = crate::rules::engine::pending::first_instant(pending, |t| {
        score(t).is_some_and(|s| s.qualified())
    })?;
    Some((from, score(from)?))
}

pub(super) struct TrackGap {
    track: String,
    score: f64,
    after: f64,
    people: usize,
    metric_steps: usize,
    unreachable: bool,
    missing: Vec<String>,
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 { "person" } else { "people" }
}

/// Whether a certification may be proposed on `day` for designation `d`: in the catalogue,
/// not retired (a pass from now on would never count) and eligible for the designation.
fn proposable(rb: &Rulebook, d: &Designation, day: NaiveDate, code: &str) -> bool {
    d.eligible_on(code, day)
        && rb
            .catalog_entry(code)
            .is_some_and(|e| e.retired.is_none_or(|r| day < r))
}

/// The certifications a person could earn to fill a requirement, by title ("Azure Network
/// Engineer Associate or Windows Server Hybrid Administrator Associate"); `None` when every
/// alternative names a retired or ineligible one.
pub(crate) fn titles_text(
    rb: &Rulebook,
    d: &Designation,
    day: NaiveDate,
    all_of: &[String],
    any_of: &[Vec<String>],
) -> Option<String> {
    let ok = |c: &String| proposable(rb, d, day, c);
    let title = |c: &String| {
        rb.catalog_entry(c)
            .map_or_else(|| c.clone(), |e| e.title.clone())
    };
    if !all_of.iter().all(ok) {
        return None;
    }
    let alts: Vec<String> = any_of
        .iter()
        .filter(|l| l.iter().all(ok))
        .map(|l| l.iter().map(title).collect::<Vec<_>>().join(" + "))
        .collect();
    if !any_of.is_empty() && alts.is_empty() {
        return None;
    }
    let all: Vec<String> = all_of.iter().map(title).collect();
    Some(match (all.is_empty(), alts.len()) {
        (true, _) => alts.join(" or "),
        (false, 0) => all.join(" + "),
        (false, 1) => format!("{} + {}", all.join(" + "), alts[0]),
        (false, _) => format!("{} + ({})", all.join(" + "), alts.join(" or ")),
    })
}

pub(super) fn track_gap(
    rb: &Rulebook,
    d: &Designation,
    day: NaiveDate,
    t: &crate::rules::designations::TrackRef<'_>,
    ts: &TrackScore,
    threshold: Exact,
) -> TrackGap {
    let mut missing = Vec::new();
    let mut people = 0;
    // Current exact points per item, in the order of ts.items: metrics then skilling.
    let mut points: Vec<Exact> = ts.items.iter().map(|i| i.exact).collect();
    let nm = t.metrics.len();
    // Skilling: the fewest people that bring the most points still needed, exactly.
    let opts: Vec<SkillOpt<'_>> = t
        .skilling
        .iter()
        .enumerate()
        .map(|(k, item)| {
            let it = &ts.items[nm + k];
            let have = it.value.max(0.0) as usize;
            let pre_cost = it
                .gates
                .iter()
                .map(|g| (g.need as usize).saturating_sub(g.have))
                .sum();
            // Only certifications that can still be earned and count are proposed: a gate
            // short of people with none left to propose keeps the item locked.
            let gates_open = item.prerequisites.iter().zip(&it.gates).all(|(p, g)| {
                g.have >= p.count as usize
                    || titles_text(rb, d, day, &p.all_of, &p.any_of).is_some()
            });
            let people_open =
                titles_text(rb, d, day, &item.people.all_of, &item.people.any_of).is_some();
            SkillOpt {
                item,
                have,
                locked: !it.unmet_prerequisites.is_empty(),
                pre_cost: if gates_open { pre_cost } else { 0 },
                max_add: if gates_open && people_open {
                    item.people_for_max().map_or(0, |m| m.saturating_sub(have))
                } else {
                    0
                },
                now: it.exact,
                open: gates_open,
            }
        })
        .collect();
    let metric_points: Exact = crate::rules::points::sum(points[..nm].iter().copied());
    let plan = plan_people(&opts, metric_points, threshold);
    for (k, choice) in plan.iter().enumerate() {
        let Some(n) = *choice else { continue };
        let item = &t.skilling[k];
        if opts[k].locked {
            for (p, g) in item.prerequisites.iter().zip(&ts.items[nm + k].gates) {
                let short = (p.count as usize).saturating_sub(g.have);
                if short == 0 {
                    continue;
                }
                people += short;
                missing.push(format!(
                    "{short} more {} with {} (prerequisite of {}): unlocks its points",
                    plural(short),
                    titles_text(rb, d, day, &p.all_of, &p.any_of).unwrap_or_default(),
                    item.name
                ));
            }
        }
        points[nm + k] = opts[k].unlocked_points(opts[k].have + n);
        if n > 0 {
            people += n;
            let gain = display(points[nm + k] - ts.items[nm + k].exact);
            let p = &item.people;
            missing.push(format!(
                "{n} more {} with {}: +{} points ({})",
                plural(n),
                titles_text(rb, d, day, &p.all_of, &p.any_of).unwrap_or_default(),
                crate::rules::explain::thousands(gain),
                item.name
            ));
        }
    }
    let total = |points: &[Exact]| crate::rules::points::sum(points.iter().copied());
    // 3. Metrics: required items above 0, then the shortfall, largest headroom first. A
    // metric with several inputs is raised through its first.
    let mut metric_steps = 0;
    let mut target: Vec<Option<f64>> = vec![None; nm];
    let least = Exact::new(1, 100);
    for (j, m) in t.metrics.iter().enumerate() {
        if m.required && points[j] <= zero() && m.reachable_exact() > zero() {
            let v = value_for(m, least);
            target[j] = Some(v);
            points[j] = single_points(m, v);
        }
    }
    let mut order: Vec<usize> = (0..nm).collect();
    order.sort_by(|&a, &b| {
        (t.metrics[b].reachable_exact() - points[b])
            .cmp(&(t.metrics[a].reachable_exact() - points[a]))
    });
    for j in order {
        let short = threshold - total(&points);
        if short <= zero() {
            break;
        }
        let m = &t.metrics[j];
        let room = m.reachable_exact() - points[j];
        if room <= zero() {
            continue;
        }
        let want = (points[j] + short.min(room)).min(m.reachable_exact());
        let v = value_for(m, want);
        target[j] = Some(v);
        points[j] = single_points(m, v);
    }
    for (j, v) in target.iter().enumerate() {
        if let Some(v) = v {
            metric_steps += 1;
            let m = &t.metrics[j];
            let scope = m
                .scope
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            missing.push(format!(
                "{}{scope} from {} to {}: +{} points",
                m.metric.as_str(),
                crate::rules::explain::thousands(ts.items[j].value),
                crate::rules::explain::thousands(*v),
                crate::rules::explain::thousands(display(points[j] - ts.items[j].exact))
            ));
        }
    }
    let after = total(&points);
    TrackGap {
        track: ts.track.clone(),
        score: ts.total,
        after: display(after),
        people,
        metric_steps,
        unreachable: after < threshold,
        missing,
    }
}

/// One skilling item as the people planner sees it.
#[derive(Debug, Clone)]
pub(crate) struct SkillOpt<'a> {
    /// The item.
    pub item: &'a crate::rules::designations::SkillingItem,
    /// The people who count now.
    pub have: usize,
    /// Whether a prerequisite is short (the item scores 0 until it is met).
    pub locked: bool,
    /// The people the short prerequisites need.
    pub pre_cost: usize,
    /// The most people worth adding (beyond, the cap gives nothing).
    pub max_add: usize,
    /// The points now (the met gates' own points when locked).
    pub now: Exact,
    /// Whether its short gates can be filled (a certification left to propose for each).
    pub open: bool,
}

impl SkillOpt<'_> {
    /// The points with `persons` counted and every gate met.
    fn unlocked_points(&self, persons: usize) -> Exact {
        self.item.points_exact(|_| usize::MAX, persons)
    }

    /// (people, points) of adding `n` people (unlocking first when locked).
    fn option(&self, n: usize) -> (usize, Exact) {
        (
            n + if self.locked { self.pre_cost } else { 0 },
            self.unlocked_points(self.have + n),
        )
    }

    /// Whether points stay at 0 blocks qualification.
    fn blocks(&self, p: Exact) -> bool {
        self.item.required && self.item.scores_people() && p <= zero()
    }
}

/// The ranking of a people plan: a required item left at 0 last, then the fewest points
/// still missing after it (metrics must bring those), then the fewest people.
pub(super) fn plan_key(
    opts: &[SkillOpt<'_>],
    plan: &[Option<usize>],
    metric_points: Exact,
    threshold: Exact,
) -> (bool, Exact, usize) {
    let mut people = 0;
    let mut total = metric_points;
    let mut blocked = false;
    for (o, c) in opts.iter().zip(plan) {
        let (n, p) = match c {
            Some(n) => o.option(*n),
            None => (0, o.now),
        };
        people += n;
        total += p;
        blocked |= o.blocks(p);
    }
    let short = (threshold - total).max(zero());
    (blocked, short, people)
}

/// A partial people plan: (required items at 0, points, choice per item so far).
pub(super) type Partial = (usize, Exact, Vec<Option<usize>>);

/// The people to add per skilling item (`None`: none, and a locked item stays locked;
/// `Some(n)`: its short prerequisites and `n` more people), exactly minimising
/// [`plan_key`]: a knapsack over people, where each item contributes one of its options.
pub(crate) fn plan_people(
    opts: &[SkillOpt<'_>],
    metric_points: Exact,
    threshold: Exact,
) -> Vec<Option<usize>> {
    // best[p]: for exactly p people, per (blocked count) the most points — kept as the plan
    // with the best key among those of p people.
    let cap: usize = opts.iter().map(|o| o.max_add + o.pre_cost).sum();
    // State: people used -> best partial plan (fewest blocked, then most points).
    let mut best: Vec<Option<Partial>> = vec![None; cap + 1];
    best[0] = Some((0, zero(), Vec::new()));
    for o in opts {
        let mut next: Vec<Option<Partial>> = vec![None; cap + 1];
        let mut choices: Vec<(Option<usize>, usize, Exact)> = vec![(None, 0, o.now)];
        for n in (0..=o.max_add).take_while(|_| o.open) {
            let (c, p) = o.option(n);
            choices.push((Some(n), c, p));
        }
        for (used, cell) in best.iter().enumerate() {
            let Some((blocked, pts, plan)) = cell else {
                continue;
            };
            for &(choice, cost, p) in &choices {
                let u = used + cost;
                if u > cap {
                    continue;
                }
                let b = blocked + usize::from(o.blocks(p));
                let sum = *pts + p;
                let better = next[u]
                    .as_ref()
                    .is_none_or(|(nb, np, _)| (b, -sum) < (*nb, -*np));
                if better {
                    let mut plan = plan.clone();
                    plan.push(choice);
                    next[u] = Some((b, sum, plan));
                }
            }
        }
        best = next;
    }
    best.into_iter()
        .flatten()
        .map(|(_, _, plan)| plan)
        .min_by_key(|plan| plan_key(opts, plan, metric_points, threshold))
        .unwrap_or_else(|| vec![None; opts.len()])
}

/// The points of a metric item whose first input has `v` (the others at 0).
fn single_points(m: &crate::rules::designations::MetricItem, v: f64) -> Exact {
    let mut values = vec![0.0; m.inputs().len()];
    values[0] = v;
    m.points_exact(&values)
}

/// The smallest whole value of the item's first input earning `points`, exactly.
pub(super) fn value_for(m: &crate::rules::designations::MetricItem, points: Exact) -> f64 {
    let want = points.min(m.reachable_exact());
    // Points grow with the value: double, then bisect over whole units.
    let (mut lo, mut hi) = (1u64, 1u64);
    while single_points(m, hi as f64) < want {
        if hi > 1 << 40 {
            return hi as f64;
        }
        lo = hi + 1;
        hi *= 2;
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if single_points(m, mid as f64) < want {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    hi as f64
}

#[cfg(test)]
mod gap_tests {
    use super::*;
    use crate::rules::designations::SkillingItem;
    use crate::rules::parse::designations::SkillPeople;
    use proptest::prelude::*;

    fn item(per: f64, max: f64, required: bool) -> SkillingItem {
        SkillingItem {
            name: "i".into(),
            points_per_person: Some(per),
            full_at: None,
            max_points: max,
            prerequisites: Vec::new(),
            people: SkillPeople {
                all_of: vec!["X".into()],
                any_of: Vec::new(),
            },
            required,
        }
    }

    /// Every plan: each item none, or unlocked with 0..=max_add+1 more people.
    fn all_plans(opts: &[SkillOpt<'_>]) -> Vec<Vec<Option<usize>>> {
        let mut plans = vec![Vec::new()];
        for o in opts {
            let mut next = Vec::new();
            for p in &plans {
                let mut none = p.clone();
                none.push(None);
                next.push(none);
                for n in 0..=o.max_add + 1 {
                    let mut q = p.clone();
                    q.push(Some(n));
                    next.push(q);
                }
            }
            plans = next;
        }
        plans
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// The knapsack's plan is as good as the best of every plan tried by brute force.
        #[test]
        fn people_plan_equals_brute_force(
            raw in proptest::collection::vec(
                (1u32..9, 1u32..5, 0usize..4, any::<bool>(), any::<bool>(), 0usize..3), 1..4),
            metric in 0u32..60,
            threshold in 20u32..80,
        ) {
            let items: Vec<SkillingItem> = raw
                .iter()
                .map(|&(per, k, _, req, _, _)| item(f64::from(per) * 0.67, f64::from(per * k) * 0.67, req))
                .collect();
            let opts: Vec<SkillOpt<'_>> = raw
                .iter()
                .zip(&items)
                .map(|(&(_, _, have, _, locked, pre), it)| SkillOpt {
                    item: it,
                    have,
                    locked,
                    pre_cost: if locked { pre + 1 } else { 0 },
                    max_add: it.people_for_max().unwrap_or(0).saturating_sub(have),
                    now: if locked { zero() } else { it.points_exact(|_| usize::MAX, have) },
                    open: true,
                })
                .collect();
            let (m, th) = (exact(f64::from(metric)), exact(f64::from(threshold)));
            let got = plan_key(&opts, &plan_people(&opts, m, th), m, th);
            let best = all_plans(&opts)
                .iter()
                .map(|p| plan_key(&opts, p, m, th))
                .min()
                .unwrap();
            prop_assert_eq!(got, best);
        }
    }

    #[test]
    fn unlocking_beats_piling_people_on_an_open_item() {
        // Open item: 1 point a person up to 10; locked item: 5 points a person up to 20, its
        // prerequisite needs 1 more person. 10 points short: 1 + 2 people, not 10.
        let (a, b) = (item(1.0, 10.0, false), item(5.0, 20.0, false));
        let opts = [
            SkillOpt {
                item: &a,
                have: 0,
                locked: false,
                pre_cost: 0,
                max_add: 10,
                now: zero(),
                open: true,
            },
            SkillOpt {
                item: &b,
                have: 0,
                locked: true,
                pre_cost: 1,
                max_add: 4,
                now: zero(),
                open: true,
            },
        ];
        let plan = plan_people(&opts, exact(60.0), exact(70.0));
        assert_eq!(
            plan_key(&opts, &plan, exact(60.0), exact(70.0)),
            (false, zero(), 3)
        );
        assert_eq!(plan[1], Some(2));
    }
}
