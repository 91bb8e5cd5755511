//! The evaluation engine: judges a [`Snapshot`] against a [`Rulebook`] at one instant.
//!
//! Pure: no I/O, no clock. Everything it returns explains itself — each requirement's
//! have/need, who counted and through which achievements — so `progress`, `gaps`, `risk`
//! and the membership alerts all read the same answer.
//!
//! How an evaluation runs, and why it is fast enough for 100,000 people:
//! 1. Once per evaluation, every individual active at `at` gets a bitset of the catalogue
//!    codes that count for them at `at`, plus a posting list per code (who holds it).
//! 2. For each option, the people who qualify for each people requirement are found from
//!    the posting list of the rarest code of each alternative; they are grouped into
//!    classes by the set of requirements they qualify for.
//! 3. A maximum flow over the classes (see [`matching`]) decides whether unique
//!    individuals can fill every count; concrete people are then picked from the classes.
//!
//! An *individual* is an account (`user_id`): a snapshot may hold several association
//! intervals of one account, and the active ones at `at` are merged, so that one human
//! never fills two requirements of an option and ending "their" association ends all of it.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::Range;

use chrono::{DateTime, Days, Months, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::Serialize;

use super::explain;
use super::matching::{self, Class};
use super::rulebook::{
    CatalogEntry, Competency, Level, LevelOption, Market, Metric, MetricRequirement,
    PeopleRequirement, Program, Rulebook,
};
use super::snapshot::{Achievement, Person, Snapshot};

// ---------------------------------------------------------------------------------------
// Output types
// ---------------------------------------------------------------------------------------

/// The result of evaluating an organization at one instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The instant evaluated.
    pub at: DateTime<Utc>,
    /// One entry per competency of the rulebook, in id order.
    pub competencies: Vec<CompetencyEval>,
}

impl Evaluation {
    /// The evaluation of one competency by id.
    pub fn competency(&self, id: &str) -> Option<&CompetencyEval> {
        self.competencies.iter().find(|c| c.id == id)
    }
}

/// One competency's evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompetencyEval {
    /// The competency id, e.g. `cloud-platform`.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its solution area.
    pub area: String,
    /// The highest level met (Gold counts as Silver), `None` when neither is.
    pub achieved: Option<Level>,
    /// Silver then Gold, always both (a level without options is simply not met on its own).
    pub levels: Vec<LevelEval>,
}

impl CompetencyEval {
    /// The evaluation of one level.
    pub fn level(&self, level: Level) -> &LevelEval {
        match level {
            Level::Silver => &self.levels[0],
            Level::Gold => &self.levels[1],
        }
    }
}

/// One level of a competency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelEval {
    /// Which level.
    pub level: Level,
    /// Whether the level is met: one of its options is met, or (for Silver) Gold is met.
    pub met: bool,
    /// Whether Silver is met only because Gold is (none of Silver's own options is met).
    pub via_gold: bool,
    /// The index of the first met option, else of the closest one (see [`closeness`]);
    /// 0 when the level has no options.
    pub best: usize,
    /// One entry per option, in rulebook order.
    pub options: Vec<OptionEval>,
}

/// One option (path) of a level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptionEval {
    /// The option's name.
    pub name: String,
    /// Whether every requirement is met.
    pub met: bool,
    /// The people requirements in rulebook order, then the metric requirements.
    pub requirements: Vec<RequirementEval>,
}

/// One requirement of an option, with what the organization has against what it needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequirementEval {
    /// Human description, e.g. "2 people with 70-532 or 70-533", "revenue (azure) over 365 days".
    pub description: String,
    /// People assigned to it (in the maximum assignment), or the metric's value.
    pub have: f64,
    /// The count, or the threshold for the organization's market.
    pub need: f64,
    /// `have >= need`.
    pub met: bool,
    /// Who counted, or which records.
    pub detail: RequirementDetail,
}

/// What stands behind a requirement's `have`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RequirementDetail {
    /// A people requirement.
    People {
        /// The individuals assigned to this requirement, by user name.
        counted: Vec<Counted>,
        /// How many individuals qualify for it at all (some may be assigned elsewhere in
        /// the option, each individual filling one requirement only).
        eligible: usize,
    },
    /// A metric requirement.
    Metric {
        /// Which metric.
        metric: Metric,
        /// The scope records must have, if any.
        scope: Option<String>,
        /// The first day of the window (inclusive); the window ends on the evaluation day.
        window_start: NaiveDate,
    },
}

/// One individual counted for a people requirement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counted {
    /// Index into `Snapshot::people` (the account's first association active at the instant).
    pub person: usize,
    /// The account id.
    pub user_id: i64,
    /// The account's user name.
    pub username: String,
    /// The achievements that made them qualify: the `all_of` codes and the codes of one
    /// satisfied `any_of` list (the one that keeps counting longest).
    pub uses: Vec<UsedAchievement>,
}

/// One achievement an individual was counted through.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsedAchievement {
    /// The catalogue code.
    pub code: String,
    /// When it was earned.
    pub earned: NaiveDate,
    /// The first day it no longer counts: its expiry (the record's own, else earned +
    /// `valid_days`) or the end of its exam's retirement grace, whichever is first.
    /// `None`: it does not stop counting on its own. Of several records of the code, the
    /// one counting longest is reported.
    pub expires: Option<NaiveDate>,
}

/// What is missing for one level not met.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// The competency id.
    pub competency: String,
    /// Its display name.
    pub name: String,
    /// The level not met.
    pub level: Level,
    /// The option the gap is measured against: the closest one.
    pub option: String,
    /// The smallest additions that would meet that option, e.g.
    /// "1 more person with AZ-104 or AZ-303", "revenue (azure) short by 1,200 USD".
    pub missing: Vec<String>,
}

/// The people one met level depends on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Risk {
    /// The competency id.
    pub competency: String,
    /// Its display name.
    pub name: String,
    /// The level met now.
    pub level: Level,
    /// `(user_id, username)` of everyone whose departure alone would break the level, by
    /// user name. Empty when no single departure would.
    pub critical: Vec<(i64, String)>,
}

// ---------------------------------------------------------------------------------------
// Counting rules (SPEC §5)
// ---------------------------------------------------------------------------------------

/// Midnight UTC at the start of `day`: every date in the rulebook and the snapshot takes
/// effect at that instant.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// Whether the association is active at `at`: it started at or before `at` and has not
/// ended (an association ending at `at` no longer counts at `at`).
pub fn association_active(person: &Person, at: DateTime<Utc>) -> bool {
    person.associated <= at && person.ended.is_none_or(|ended| at < ended)
}

/// The first day an achievement no longer counts whatever the instant: the earlier of its
/// expiry (the record's `expires`, else `earned + valid_days` from the catalogue) and the
/// end of its exam's retirement grace. `None` when neither applies, or the code is not in
/// the catalogue (it never counts anyway).
pub fn counts_until(rb: &Rulebook, ach: &Achievement) -> Option<NaiveDate> {
    rb.catalog_entry(&ach.code)
        .and_then(|entry| CatalogRule::new(entry, &rb.program).until(ach))
}

/// The retirement day of `code` when a pass `earned` on or after it: such a pass never
/// counts (SPEC §5). `None` for a code not retired, or retired after the pass.
pub fn retired_before_earned(rb: &Rulebook, code: &str, earned: NaiveDate) -> Option<NaiveDate> {
    rb.catalog_entry(code)
        .and_then(|e| e.retired)
        .filter(|retired| earned >= *retired)
}

/// Whether one achievement of `person` counts at `at` (SPEC §5). See [`CatalogRule::counts`]
/// for the rules; codes absent from the catalogue never count.
pub fn achievement_counts(
    rb: &Rulebook,
    person: &Person,
    ach: &Achievement,
    at: DateTime<Utc>,
) -> bool {
    association_active(person, at)
        && rb.catalog_entry(&ach.code).is_some_and(|entry| {
            CatalogRule::new(entry, &rb.program).counts(
                person.associated,
                ach,
                &When::new(at, &rb.program),
            )
        })
}

/// [`achievement_counts`] with the achievement's catalogue entry already looked up, for
/// loops over many instants.
pub fn achievement_counts_in(
    rb: &Rulebook,
    entry: &CatalogEntry,
    person: &Person,
    ach: &Achievement,
    at: DateTime<Utc>,
) -> bool {
    association_active(person, at)
        && CatalogRule::new(entry, &rb.program).counts(
            person.associated,
            ach,
            &When::new(at, &rb.program),
        )
}

/// [`counts_until`] with the achievement's catalogue entry already looked up.
pub fn counts_until_in(
    rb: &Rulebook,
    entry: &CatalogEntry,
    ach: &Achievement,
) -> Option<NaiveDate> {
    CatalogRule::new(entry, &rb.program).until(ach)
}

/// The evaluation instant with what the counting rules derive from it, computed once so
/// checking 300,000 achievements is a few date comparisons each.
#[derive(Debug, Clone, Copy)]
struct When {
    at: DateTime<Utc>,
    today: NaiveDate,
    /// `at - progress_delay_hours`: whatever happened after this is still in its delay.
    /// `None` when that instant is before chrono's range (then nothing counts yet).
    cutoff: Option<DateTime<Utc>>,
}

impl When {
    fn new(at: DateTime<Utc>, program: &Program) -> Self {
        let delay = TimeDelta::hours(i64::from(program.progress_delay_hours));
        When {
            at,
            today: at.date_naive(),
            cutoff: at.checked_sub_signed(delay),
        }
    }
}

/// The parts of a catalogue entry that decide whether an achievement counts.
#[derive(Debug, Clone, Copy)]
struct CatalogRule {
    valid_days: Option<u32>,
    retired: Option<NaiveDate>,
    /// `retired + retired_grace_months`: from 00:00 UTC that day a retired exam no longer
    /// counts (chrono clamps to the month's end: Jan 31 + 1 month = Feb 28/29).
    grace_end: Option<NaiveDate>,
}

impl CatalogRule {
    fn new(entry: &CatalogEntry, program: &Program) -> Self {
        let months = Months::new(program.retired_grace_months);
        CatalogRule {
            valid_days: entry.valid_days,
            retired: entry.retired,
            grace_end: entry
                .retired
                .map(|r| r.checked_add_months(months).unwrap_or(NaiveDate::MAX)),
        }
    }

    /// The record's own expiry, else `earned + valid_days`: a record may carry the date
    /// printed on the certificate, which wins over the catalogue's rule of thumb.
    fn expiry(&self, ach: &Achievement) -> Option<NaiveDate> {
        ach.expires.or_else(|| {
            self.valid_days.map(|d| {
                ach.earned
                    .checked_add_days(Days::new(u64::from(d)))
                    .unwrap_or(NaiveDate::MAX)
            })
        })
    }

    fn until(&self, ach: &Achievement) -> Option<NaiveDate> {
        match (self.expiry(ach), self.grace_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the achievement counts at `at` for an association that started at
    /// `associated` and is active at `at` (checked by the caller, once per person):
    /// - **delay**: `at >= max(earned at 00:00 UTC, associated) + progress_delay_hours` —
    ///   progress shows a fixed time after the later of passing and linking the MSA; exactly
    ///   the delay counts, a second less does not;
    /// - **removed**: an administrator's removal takes effect at its instant;
    /// - **expired**: from 00:00 UTC of the effective expiry day it no longer counts;
    /// - **retired**: only if earned strictly before the retirement day, and only until
    ///   00:00 UTC of `retired + retired_grace_months`.
    fn counts(&self, associated: DateTime<Utc>, ach: &Achievement, when: &When) -> bool {
        if ach.removed.is_some_and(|removed| when.at >= removed) {
            return false;
        }
        // at >= max(midnight(earned), associated) + delay  <=>  both are <= at - delay, and
        // midnight(earned) <= cutoff  <=>  earned <= cutoff's day.
        let Some(cutoff) = when.cutoff else {
            return false;
        };
        if associated > cutoff || ach.earned > cutoff.date_naive() {
            return false;
        }
        if self.expiry(ach).is_some_and(|expiry| when.today >= expiry) {
            return false;
        }
        match (self.retired, self.grace_end) {
            (Some(retired), Some(grace_end)) => ach.earned < retired && when.today < grace_end,
            _ => true,
        }
    }
}

/// The threshold for the organization's market: `developing` in developing markets when the
/// rulebook gives one, else `at_least`.
fn threshold(req: &MetricRequirement, market: Market) -> f64 {
    match (market, req.developing) {
        (Market::Developing, Some(developing)) => developing,
        _ => req.at_least,
    }
}

/// A metric's value at `at`: records of the metric dated in the trailing window
/// (`today - window_days < date <= today`, so a 365-day window holds 365 days and ends on
/// the evaluation day, future-dated records excluded) and, when the requirement has a
/// scope, with that scope (ignoring ASCII case). `revenue` and `new-customers` are summed;
/// `active-usage` and `deployed-seats` are levels, not flows, so the latest record counts
/// (on the same day, the larger value: two reports of one day are not added up).
/// Returns the value and the first day of the window.
fn metric_value(
    snap: &Snapshot,
    req: &MetricRequirement,
    window_days: u32,
    at: DateTime<Utc>,
) -> (f64, NaiveDate) {
    let today = at.date_naive();
    let before = today
        .checked_sub_days(Days::new(u64::from(window_days)))
        .unwrap_or(NaiveDate::MIN);
    let window_start = before.succ_opt().unwrap_or(NaiveDate::MAX);
    let records = snap.performance.iter().filter(|r| {
        r.metric == req.metric
            && r.date > before
            && r.date <= today
            && req
                .scope
                .as_deref()
                .is_none_or(|scope| r.scope.eq_ignore_ascii_case(scope))
    });
    let value = if req.metric.is_summed() {
        records.map(|r| r.value).sum()
    } else {
        records
            .max_by(|a, b| a.date.cmp(&b.date).then(a.value.total_cmp(&b.value)))
            .map_or(0.0, |r| r.value)
    };
    (value, window_start)
}

// ---------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------

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

fn closer(a: &OptionEval, b: &OptionEval) -> Ordering {
    let (ua, pa, ma) = closeness(a);
    let (ub, pb, mb) = closeness(b);
    ua.cmp(&ub).then(pa.cmp(&pb)).then(ma.total_cmp(&mb))
}

/// Whether qualifying for `a` implies qualifying for `b`: every alternative of `a` holds
/// all the codes of some alternative of `b`.
fn implies(a: &CompiledReq, b: &CompiledReq) -> bool {
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

/// Who holds what at one instant: the counting rules of SPEC §5 applied once, for scorers
/// other than the competency evaluation (the designations' skilling items).
pub struct Holdings<'a>(Prepared<'a>);

impl<'a> Holdings<'a> {
    /// Applies the counting rules to every achievement of the accounts active at `at`.
    pub fn new(rb: &'a Rulebook, snap: &'a Snapshot, at: DateTime<Utc>) -> Self {
        Holdings(Prepared::new(rb, snap, at))
    }

    /// The individuals (accounts active at the instant) holding every code of `all_of` and
    /// every code of one list of `any_of` (when there is one), by user name.
    pub fn qualifying(&self, all_of: &[String], any_of: &[Vec<String>]) -> Vec<u32> {
        let mut out = self.members(all_of, any_of);
        out.sort_by(|&a, &b| self.0.by_username(a, b));
        out
    }

    /// [`Holdings::qualifying`] in index order (no sort by user name): for counting.
    pub fn members(&self, all_of: &[String], any_of: &[Vec<String>]) -> Vec<u32> {
        let req = self.0.compile(&PeopleRequirement {
            count: 1,
            all_of: all_of.to_vec(),
            any_of: any_of.to_vec(),
        });
        let mut out: Vec<u32> = Vec::new();
        for list in &req.lists {
            let Some(&pivot) = list
                .iter()
                .min_by_key(|&&c| self.0.postings[c as usize].len())
            else {
                continue;
            };
            out.extend(
                self.0.postings[pivot as usize]
                    .iter()
                    .copied()
                    .filter(|&i| list.iter().all(|&c| self.0.holds(i, c))),
            );
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// An individual's user name.
    pub fn username(&self, i: u32) -> &str {
        self.0.username(i)
    }

    /// An individual's account id.
    pub fn user_id(&self, i: u32) -> i64 {
        self.0.indiv[i as usize].user_id
    }
}

/// One account active at the instant, with its active associations.
struct Individual {
    user_id: i64,
    /// Range into `Prepared::persons`.
    persons: Range<usize>,
}

/// A people requirement compiled to catalogue indices: the individual must hold every code
/// of at least one list (`all_of` plus one `any_of` list). An empty list means anyone;
/// no list at all means nobody (every alternative named a code outside the catalogue).
struct CompiledReq {
    lists: Vec<Vec<u32>>,
}

/// Per-evaluation facts about individuals, computed once.
struct Prepared<'a> {
    rb: &'a Rulebook,
    snap: &'a Snapshot,
    at: DateTime<Utc>,
    codes: HashMap<&'a str, u32>,
    rules: Vec<CatalogRule>,
    /// Words per individual in `held`.
    words: usize,
    /// Accounts active at `at`, by user id.
    indiv: Vec<Individual>,
    /// Indices into `snap.people`, grouped per individual.
    persons: Vec<usize>,
    /// The first 16 bytes of each individual's user name, big-endian and zero-padded:
    /// ordering thousands of qualifiers by user name would otherwise chase a pointer into
    /// a scattered `Person` per comparison.
    name_keys: Vec<u128>,
    /// Bit `c` of individual `i`'s row: catalogue code `c` counts for them at `at`.
    held: Vec<u64>,
    /// For each catalogue code, the individuals holding it, ascending.
    postings: Vec<Vec<u32>>,
}

/// Reusable per-option work space, so classifying an option costs what it touches.
///
/// After [`Prepared::classify`]: `touched` lists the individuals qualifying for some
/// requirement of the option and `class_of` their class, side by side; the masks are all
/// zero again.
struct Scratch {
    /// Requirement sets for options with at most 8 people requirements.
    narrow: Vec<u8>,
    /// Requirement sets for larger options, allocated on first use.
    wide: Vec<u64>,
    touched: Vec<u32>,
    class_of: Vec<u32>,
}

impl Scratch {
    fn new(n: usize) -> Self {
        Scratch {
            narrow: vec![0; n],
            wide: Vec::new(),
            touched: Vec::new(),
            class_of: Vec::new(),
        }
    }
}

/// A per-individual set of requirement bits.
trait MaskWord: Copy + PartialEq {
    const ZERO: Self;
    fn bit(r: usize) -> Self;
    fn or(self, other: Self) -> Self;
    fn to_u64(self) -> u64;
}

impl MaskWord for u8 {
    const ZERO: Self = 0;
    fn bit(r: usize) -> Self {
        1 << r
    }
    fn or(self, other: Self) -> Self {
        self | other
    }
    fn to_u64(self) -> u64 {
        u64::from(self)
    }
}

impl MaskWord for u64 {
    const ZERO: Self = 0;
    fn bit(r: usize) -> Self {
        1 << r
    }
    fn or(self, other: Self) -> Self {
        self | other
    }
    fn to_u64(self) -> u64 {
        self
    }
}

impl<'a> Prepared<'a> {
    fn new(rb: &'a Rulebook, snap: &'a Snapshot, at: DateTime<Utc>) -> Self {
        let mut codes = HashMap::new();
        for (i, entry) in rb.catalog.iter().enumerate() {
            codes.entry(entry.code.as_str()).or_insert(i as u32);
        }
        let rules: Vec<CatalogRule> = rb
            .catalog
            .iter()
            .map(|e| CatalogRule::new(e, &rb.program))
            .collect();

        let mut active: Vec<(i64, usize)> = snap
            .people
            .iter()
            .enumerate()
            .filter(|(_, p)| association_active(p, at))
            .map(|(i, p)| (p.user_id, i))
            .collect();
        active.sort_unstable();
        let persons: Vec<usize> = active.iter().map(|a| a.1).collect();
        let mut indiv = Vec::new();
        let mut start = 0;
        for i in 1..=active.len() {
            if i == active.len() || active[i].0 != active[start].0 {
                indiv.push(Individual {
                    user_id: active[start].0,
                    persons: start..i,
                });
                start = i;
            }
        }

        let words = rb.catalog.len().div_ceil(64).max(1);
        let mut held = vec![0u64; indiv.len() * words];
        let mut postings = vec![Vec::new(); rb.catalog.len()];
        let when = When::new(at, &rb.program);
        for (i, ind) in indiv.iter().enumerate() {
            let row = &mut held[i * words..(i + 1) * words];
            for &p in &persons[ind.persons.clone()] {
                let person = &snap.people[p];
                for ach in &person.achievements {
                    let Some(&c) = codes.get(&*ach.code) else {
                        continue;
                    };
                    let (w, bit) = (c as usize / 64, 1u64 << (c % 64));
                    if row[w] & bit == 0 && rules[c as usize].counts(person.associated, ach, &when)
                    {
                        row[w] |= bit;
                        postings[c as usize].push(i as u32);
                    }
                }
            }
        }

        let name_keys = indiv
            .iter()
            .map(|ind| {
                let mut key = [0u8; 16];
                let name = snap.people[persons[ind.persons.start]].username.as_bytes();
                let n = name.len().min(16);
                key[..n].copy_from_slice(&name[..n]);
                u128::from_be_bytes(key)
            })
            .collect();

        Prepared {
            rb,
            snap,
            at,
            codes,
            rules,
            words,
            indiv,
            persons,
            name_keys,
            held,
            postings,
        }
    }

    fn holds(&self, i: u32, code: u32) -> bool {
        let (w, b) = (code as usize / 64, code % 64);
        self.held[i as usize * self.words + w] >> b & 1 == 1
    }

    fn username(&self, i: u32) -> &str {
        &self.snap.people[self.persons[self.indiv[i as usize].persons.start]].username
    }

    /// Lowest user name first; the user id breaks ties so the order is total. A smaller
    /// key means a smaller name (bytes order like `str`), so names are read only on ties.
    fn by_username(&self, a: u32, b: u32) -> Ordering {
        let (ka, kb) = (self.name_keys[a as usize], self.name_keys[b as usize]);
        if ka != kb {
            return ka.cmp(&kb);
        }
        self.username(a).cmp(self.username(b)).then(
            self.indiv[a as usize]
                .user_id
                .cmp(&self.indiv[b as usize].user_id),
        )
    }

    fn compile(&self, req: &PeopleRequirement) -> CompiledReq {
        let alternatives: Vec<Vec<&String>> = if req.any_of.is_empty() {
            vec![req.all_of.iter().collect()]
        } else {
            req.any_of
                .iter()
                .map(|list| req.all_of.iter().chain(list).collect())
                .collect()
        };
        let lists = alternatives
            .into_iter()
            .filter_map(|codes| {
                let mut list: Vec<u32> = Vec::with_capacity(codes.len());
                for code in codes {
                    // A code outside the catalogue never counts: the alternative is dead.
                    let c = *self.codes.get(code.as_str())?;
                    if !list.contains(&c) {
                        list.push(c);
                    }
                }
                Some(list)
            })
            .collect();
        CompiledReq { lists }
    }

    fn qualifies(&self, i: u32, req: &CompiledReq) -> bool {
        req.lists
            .iter()
            .any(|list| list.iter().all(|&c| self.holds(i, c)))
    }

    /// The set of requirements (bit `r`) individual `i` qualifies for.
    fn mask_of(&self, i: u32, reqs: &[CompiledReq]) -> u64 {
        reqs.iter()
            .take(64)
            .enumerate()
            .filter(|(_, req)| self.qualifies(i, req))
            .fold(0, |m, (r, _)| m | 1 << r)
    }

    /// Groups the individuals qualifying for any of `reqs` by the set they qualify for.
    /// Only the first 64 people requirements of an option are considered (the rulebook
    /// validation keeps options far below that).
    fn classify(&self, reqs: &[CompiledReq], scratch: &mut Scratch) -> Vec<Class> {
        scratch.touched.clear();
        scratch.class_of.clear();
        let reqs = &reqs[..reqs.len().min(64)];
        // Options rarely have more than a few people requirements: one byte per individual
        // keeps the scattered mask updates in cache.
        if reqs.len() <= 8 {
            self.group(
                reqs,
                &mut scratch.narrow,
                &mut scratch.touched,
                &mut scratch.class_of,
            )
        } else {
            if scratch.wide.len() < self.indiv.len() {
                scratch.wide = vec![0; self.indiv.len()];
            }
            self.group(
                reqs,
                &mut scratch.wide,
                &mut scratch.touched,
                &mut scratch.class_of,
            )
        }
    }

    fn group<M: MaskWord>(
        &self,
        reqs: &[CompiledReq],
        masks: &mut [M],
        touched: &mut Vec<u32>,
        class_of: &mut Vec<u32>,
    ) -> Vec<Class> {
        for (r, req) in reqs.iter().enumerate() {
            let bit = M::bit(r);
            let mut mark = |i: u32| {
                let m = &mut masks[i as usize];
                if *m == M::ZERO {
                    touched.push(i);
                }
                *m = m.or(bit);
            };
            for list in &req.lists {
                // Walk the rarest code's holders and check the rest on their bitsets.
                match list
                    .iter()
                    .min_by_key(|&&c| self.postings[c as usize].len())
                {
                    None => (0..self.indiv.len() as u32).for_each(&mut mark),
                    Some(&pivot) => {
                        for &i in &self.postings[pivot as usize] {
                            if list.iter().all(|&c| c == pivot || self.holds(i, c)) {
                                mark(i);
                            }
                        }
                    }
                }
            }
        }

        let k = reqs.len();
        let mut dense = if k <= 12 {
            vec![u32::MAX; 1 << k]
        } else {
            Vec::new()
        };
        let mut sparse: HashMap<u64, u32> = HashMap::new();
        let mut classes = Vec::new();
        for &i in touched.iter() {
            let m = std::mem::replace(&mut masks[i as usize], M::ZERO).to_u64();
            let slot = if k <= 12 {
                &mut dense[m as usize]
            } else {
                sparse.entry(m).or_insert(u32::MAX)
            };
            if *slot == u32::MAX {
                *slot = classes.len() as u32;
                classes.push(Class { reqs: m, size: 0 });
            }
            classes[*slot as usize].size += 1;
            class_of.push(*slot);
        }
        classes
    }

    fn competency(&self, id: &str, comp: &Competency, scratch: &mut Scratch) -> CompetencyEval {
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

    fn level(&self, comp: &Competency, level: Level, scratch: &mut Scratch) -> LevelEval {
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

    fn option(&self, opt: &LevelOption, scratch: &mut Scratch) -> OptionEval {
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
    fn pick(
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

    fn counted(&self, i: u32, req: &CompiledReq) -> Counted {
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
    fn used(&self, i: u32, c: u32) -> Option<UsedAchievement> {
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

    fn metric(&self, req: &MetricRequirement) -> RequirementEval {
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

// ---------------------------------------------------------------------------------------
// Gaps and risk
// ---------------------------------------------------------------------------------------

/// For every level not met, what is missing through its closest option (`LevelEval::best`,
/// see [`closeness`]): for each unmet people requirement, the shortfall of the maximum
/// assignment (count − assigned; adding that many people who qualify for it alone is
/// enough, since each new person extends the assignment by one), and for each unmet metric
/// the amount short. Silver is skipped when met through Gold; a level without options of
/// its own has no gap of its own (it can only be met through Gold, whose gap is listed).
///
/// The snapshot is not needed today (the evaluation carries every figure); it is taken so
/// gaps can later name near-qualifying people without an API change.
pub fn gaps(rb: &Rulebook, _snap: &Snapshot, eval: &Evaluation) -> Vec<Gap> {
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
            let missing = option_missing(rb, opt, oe, eval.at.date_naive());
            out.push(Gap {
                competency: ce.id.clone(),
                name: ce.name.clone(),
                level: le.level,
                option: oe.name.clone(),
                missing,
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
    oe.requirements
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.met)
        .filter_map(|(j, r)| match j.checked_sub(opt.people.len()) {
            None => Some(people_gap(
                rb,
                &opt.people[j],
                (r.need - r.have).max(0.0) as u64,
                today,
            )),
            Some(m) => opt
                .metrics
                .get(m)
                .map(|req| explain::metric_gap(req, r.need - r.have)),
        })
        .collect()
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
            out.push(Risk {
                competency: ce.id.clone(),
                name: ce.name.clone(),
                level: le.level,
                critical: critical
                    .into_iter()
                    .map(|i| (prep.indiv[i as usize].user_id, prep.username(i).to_string()))
                    .collect(),
            });
        }
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
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
