//! Evaluating every competency at one instant: for each option, the qualifiers are grouped
//! into classes, a maximum flow decides how many unique individuals fill each people
//! requirement (filled most demanding first, see [`fill_order`]), concrete people are picked
//! by user name, and metrics are summed or read over their window. A level is met by its
//! first met option; otherwise its closest option (see [`closeness`]) is the one reported.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};

use super::classify::Scratch;
use super::counting::{When, metric_value, threshold};
use super::explain;
use super::matching::{self, Class};
use super::prepared::{CompiledReq, Prepared};
use super::results::{
    CompetencyEval, Counted, Evaluation, LevelEval, OptionEval, RequirementDetail, RequirementEval,
    UsedAchievement,
};
use crate::rules::engine::snapshot::Snapshot;
use crate::rules::parse::{Competency, Level, LevelOption, MetricRequirement, Rulebook};

/// Evaluates every competency of the rulebook for the snapshot at `at`.
pub fn evaluate(rb: &Rulebook, snap: &Snapshot, at: DateTime<Utc>) -> Evaluation {
    let prep = Prepared::new(rb, snap, at);
    let mut scratch = Scratch::new(prep.indiv.len());
    let competencies = rb
        .competencies
        .iter()
        .map(|(id, comp)| prep.competency(id, comp, &mut scratch))
        .collect();
    Evaluation { at, competencies }
}

/// How close an option is to being met, smaller is closer: fewer requirements unmet, then
/// fewer people missing in all, then the smallest sum over metric requirements of the
/// relative shortfall `(need - have) / need`. Comparing people before metrics reflects that
/// a skills gap is what an administrator can act on soonest.
pub fn closeness(option: &OptionEval) -> (usize, u64, f64) {
    let unmet = option.requirements.iter().filter(|r| !r.met).count();
    let mut people = 0;
    let mut metric = 0.0;
    for r in option.requirements.iter().filter(|r| !r.met) {
        match r.detail {
            RequirementDetail::People { .. } => people += (r.need - r.have).max(0.0) as u64,
            RequirementDetail::Metric { .. } if r.need > 0.0 => {
                metric += ((r.need - r.have) / r.need).max(0.0);
            }
            RequirementDetail::Metric { .. } => {}
        }
    }
    (unmet, people, metric)
}

pub(super) fn closer(a: &OptionEval, b: &OptionEval) -> Ordering {
    let (ua, pa, ma) = closeness(a);
    let (ub, pb, mb) = closeness(b);
    ua.cmp(&ub).then(pa.cmp(&pb)).then(ma.total_cmp(&mb))
}

/// Whether qualifying for `a` implies qualifying for `b`: every alternative of `a` holds
/// all the codes of some alternative of `b`.
pub(super) fn implies(a: &CompiledReq, b: &CompiledReq) -> bool {
    a.lists
        .iter()
        .all(|la| b.lists.iter().any(|lb| lb.iter().all(|c| la.contains(c))))
}

/// The order in which an option's people requirements are filled: the most demanding
/// first, measured by how many of the option's requirements qualifying for it implies
/// (itself included), then rulebook order. Whatever stays empty then falls on the least
/// demanding requirements, so gaps and alerts name the cheapest additions: with "1 person
/// with A or B" and "1 person with A" and one A-holder, the A-holder fills the second and
/// the gap is "1 more person with A or B", which a B-holder also closes.
fn fill_order(reqs: &[CompiledReq]) -> Vec<usize> {
    let strength: Vec<usize> = reqs
        .iter()
        .map(|a| reqs.iter().filter(|b| implies(a, b)).count())
        .collect();
    let mut order: Vec<usize> = (0..reqs.len()).collect();
    order.sort_by(|&x, &y| strength[y].cmp(&strength[x]).then(x.cmp(&y)));
    order
}

impl Prepared<'_> {
    pub(super) fn competency(
        &self,
        id: &str,
        comp: &Competency,
        scratch: &mut Scratch,
    ) -> CompetencyEval {
        let mut silver = self.level(comp, Level::Silver, scratch);
        let gold = self.level(comp, Level::Gold, scratch);
        if gold.met && !silver.met {
            silver.met = true;
            silver.via_gold = true;
        }
        let achieved = if gold.met {
            Some(Level::Gold)
        } else if silver.met {
            Some(Level::Silver)
        } else {
            None
        };
        CompetencyEval {
            id: id.to_string(),
            name: comp.name.clone(),
            area: comp.area.clone(),
            achieved,
            levels: vec![silver, gold],
        }
    }

    pub(super) fn level(
        &self,
        comp: &Competency,
        level: Level,
        scratch: &mut Scratch,
    ) -> LevelEval {
        let options: Vec<OptionEval> = comp
            .options(level)
            .iter()
            .map(|o| self.option(o, scratch))
            .collect();
        let met = options.iter().position(|o| o.met);
        let best = met.unwrap_or_else(|| {
            (0..options.len())
                .min_by(|&a, &b| closer(&options[a], &options[b]).then(a.cmp(&b)))
                .unwrap_or(0)
        });
        LevelEval {
            level,
            met: met.is_some(),
            via_gold: false,
            best,
            options,
        }
    }

    pub(super) fn option(&self, opt: &LevelOption, scratch: &mut Scratch) -> OptionEval {
        let reqs: Vec<CompiledReq> = opt.people.iter().map(|r| self.compile(r)).collect();
        let counts: Vec<u64> = opt.people.iter().map(|r| u64::from(r.count)).collect();
        let classes = self.classify(&reqs, scratch);
        let assignment = matching::max_assignment_in_order(&classes, &counts, &fill_order(&reqs));
        let counted = self.pick(&classes, &assignment, reqs.len(), scratch);

        let mut requirements = Vec::with_capacity(opt.people.len() + opt.metrics.len());
        for (r, (req, compiled)) in opt.people.iter().zip(&reqs).enumerate() {
            let eligible = classes
                .iter()
                .filter(|c| r < 64 && c.reqs >> r & 1 == 1)
                .map(|c| c.size as usize)
                .sum();
            let have = assignment.per_req[r];
            requirements.push(RequirementEval {
                description: explain::describe_people(req),
                have: have as f64,
                need: f64::from(req.count),
                met: have >= u64::from(req.count),
                detail: RequirementDetail::People {
                    counted: counted[r]
                        .iter()
                        .map(|&i| self.counted(i, compiled))
                        .collect(),
                    eligible,
                },
            });
        }
        for req in &opt.metrics {
            requirements.push(self.metric(req));
        }
        OptionEval {
            name: opt.option.clone(),
            met: requirements.iter().all(|r| r.met),
            requirements,
        }
    }

    /// Concrete people for the assignment: from each class, its lowest user names, handed
    /// to the class's requirements in rulebook order. Returns per requirement the
    /// individuals, by user name. Reads the members from `scratch` (see [`Self::classify`]).
    pub(super) fn pick(
        &self,
        classes: &[Class],
        a: &matching::Assignment,
        k: usize,
        scratch: &Scratch,
    ) -> Vec<Vec<u32>> {
        let mut take = vec![0usize; classes.len()];
        for &(c, _, n) in &a.flows {
            take[c] += n as usize;
        }
        // One pass over the qualifiers: a small sorted buffer per class keeps the lowest
        // names seen so far; a class asked for many people collects all and selects.
        const BOUNDED: usize = 64;
        let mut chosen: Vec<Vec<u32>> = take
            .iter()
            .map(|&t| Vec::with_capacity(t.min(BOUNDED)))
            .collect();
        for (&i, &c) in scratch.touched.iter().zip(&scratch.class_of) {
            let (t, buf) = (take[c as usize], &mut chosen[c as usize]);
            if t == 0 {
                continue;
            }
            if t > BOUNDED {
                buf.push(i);
                continue;
            }
            if buf.len() == t {
                let last = buf[t - 1];
                // Most qualifiers lose to the buffer's largest on the key alone.
                if self.name_keys[i as usize] > self.name_keys[last as usize]
                    || self.by_username(i, last).is_ge()
                {
                    continue;
                }
                buf.pop();
            }
            let at = buf.partition_point(|&b| self.by_username(b, i).is_lt());
            buf.insert(at, i);
        }
        for (buf, &t) in chosen.iter_mut().zip(&take).filter(|(_, t)| **t > BOUNDED) {
            if t < buf.len() {
                buf.select_nth_unstable_by(t, |&a, &b| self.by_username(a, b));
                buf.truncate(t);
            }
            buf.sort_unstable_by(|&a, &b| self.by_username(a, b));
        }

        let mut counted = vec![Vec::new(); k];
        let mut next = vec![0usize; classes.len()];
        for &(c, r, n) in &a.flows {
            let from = next[c];
            next[c] = (from + n as usize).min(chosen[c].len());
            counted[r].extend_from_slice(&chosen[c][from..next[c]]);
        }
        for list in &mut counted {
            list.sort_unstable_by(|&a, &b| self.by_username(a, b));
        }
        counted
    }

    pub(super) fn counted(&self, i: u32, req: &CompiledReq) -> Counted {
        let ind = &self.indiv[i as usize];
        let person = self.persons[ind.persons.start];
        // Of the satisfied alternatives, report the one that keeps counting longest, so an
        // expiry warning is raised only when the person really stops qualifying.
        let mut best: Option<(NaiveDate, Vec<UsedAchievement>)> = None;
        for list in req
            .lists
            .iter()
            .filter(|l| l.iter().all(|&c| self.holds(i, c)))
        {
            let uses: Vec<UsedAchievement> = list.iter().filter_map(|&c| self.used(i, c)).collect();
            let stops = uses
                .iter()
                .map(|u| u.expires.unwrap_or(NaiveDate::MAX))
                .min()
                .unwrap_or(NaiveDate::MAX);
            if best.as_ref().is_none_or(|(s, _)| stops > *s) {
                best = Some((stops, uses));
            }
        }
        Counted {
            person,
            user_id: ind.user_id,
            username: self.username(i).to_string(),
            uses: best.map(|b| b.1).unwrap_or_default(),
        }
    }

    /// The record through which individual `i` holds code `c`: of several counting
    /// records, the one counting longest, then the latest earned.
    pub(super) fn used(&self, i: u32, c: u32) -> Option<UsedAchievement> {
        let rule = &self.rules[c as usize];
        let code = &self.rb.catalog[c as usize].code;
        let when = When::new(self.at, &self.rb.program);
        self.persons[self.indiv[i as usize].persons.clone()]
            .iter()
            .map(|&p| &self.snap.people[p])
            .flat_map(|p| p.achievements.iter().map(move |a| (p, a)))
            .filter(|(p, a)| *a.code == **code && rule.counts(p.associated, a, &when))
            .map(|(_, a)| UsedAchievement {
                code: code.clone(),
                earned: a.earned,
                expires: rule.until(a),
            })
            .max_by_key(|u| (u.expires.unwrap_or(NaiveDate::MAX), u.earned))
    }

    pub(super) fn metric(&self, req: &MetricRequirement) -> RequirementEval {
        let window = req
            .window_days
            .unwrap_or(self.rb.program.metric_window_days);
        let (have, window_start) = metric_value(self.snap, req, window, self.at);
        let need = threshold(req, self.snap.market);
        RequirementEval {
            description: explain::describe_metric(req, window),
            have,
            need,
            met: have >= need,
            detail: RequirementDetail::Metric {
                metric: req.metric,
                scope: req.scope.clone(),
                window_start,
            },
        }
    }
}
