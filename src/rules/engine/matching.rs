//! Unique-individual assignment (maximum bipartite matching).
//!
//! Within one option an individual fills at most one people requirement, so "is the option
//! met" is a bipartite matching question between individuals and requirement slots. A greedy
//! pass gets it wrong (the first requirement can take the only person the second one could
//! use), so we solve it exactly as a maximum flow.
//!
//! The flow does not run over individuals: with `k` people requirements, every individual
//! falls into one of at most `2^k` *classes* — the set of requirements they qualify for — and
//! individuals of a class are interchangeable. The network is
//! `source → class (capacity: class size) → requirement (unbounded) → sink (capacity: count)`,
//! a handful of nodes whatever the number of people, so it is solved with plain
//! Edmonds–Karp. The engine then picks concrete people from each class.

use std::collections::VecDeque;

/// A group of interchangeable individuals: all qualify for exactly the same requirements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    /// Bit `r` set: members qualify for requirement `r`.
    pub reqs: u64,
    /// How many individuals the class holds.
    pub size: u64,
}

/// A maximum assignment of classes to requirements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Individuals assigned in all: the maximum possible.
    pub total: u64,
    /// Individuals assigned to each requirement (never above its count).
    pub per_req: Vec<u64>,
    /// `(class, requirement, individuals)` for every non-zero class-to-requirement flow,
    /// ordered by class then requirement.
    pub flows: Vec<(usize, usize, u64)>,
}

impl Assignment {
    /// Whether every requirement got its full count.
    pub fn meets(&self, counts: &[u64]) -> bool {
        self.per_req
            .iter()
            .zip(counts)
            .all(|(have, need)| have >= need)
    }
}

/// Finds a maximum assignment of the classes' individuals to requirements with the given
/// counts (requirement `r` takes at most `counts[r]` individuals, an individual fills at
/// most one requirement and only one it qualifies for).
///
/// Among maximum assignments, earlier requirements are preferred: augmenting paths are
/// first searched towards requirement 0, then 1, and so on, then without restriction.
/// Augmenting never takes flow back from a requirement's sink edge, so the per-requirement
/// figures are deterministic and favour the order in which the rulebook lists them.
///
/// Requirement bits at or above `counts.len()` are ignored.
pub fn max_assignment(classes: &[Class], counts: &[u64]) -> Assignment {
    let order: Vec<usize> = (0..counts.len()).collect();
    max_assignment_in_order(classes, counts, &order)
}

/// Like [`max_assignment`], but requirements are filled in the priority `order` (indices
/// into `counts`; any left out come after, in index order): each requirement gets as many
/// individuals as it can without taking any from the requirements before it. The slots
/// that stay empty therefore fall on the requirements filled last. As the fillable slots
/// form a matroid, this greedy is optimal: among maximum assignments, none leaves fewer
/// empty slots on the earlier requirements (weighting slots by priority).
pub fn max_assignment_in_order(classes: &[Class], counts: &[u64], order: &[usize]) -> Assignment {
    let k = counts.len();
    let mut net = Network::new(2 + classes.len() + k);
    let class_node = |c: usize| 2 + c;
    let req_node = |r: usize| 2 + classes.len() + r;
    // An edge that can never be the bottleneck: no class is larger than this.
    let unbounded = u64::MAX / 4;

    let mut class_req_edges = Vec::new();
    for (c, class) in classes.iter().enumerate() {
        if class.size == 0 {
            continue;
        }
        net.add(SOURCE, class_node(c), class.size);
        for r in (0..k).filter(|&r| class.reqs >> r & 1 == 1) {
            class_req_edges.push((c, r, net.add(class_node(c), req_node(r), unbounded)));
        }
    }
    let mut sink_edges = Vec::with_capacity(k);
    for (r, &count) in counts.iter().enumerate() {
        sink_edges.push(net.add(req_node(r), SINK, count));
    }

    for &r in order.iter().filter(|&&r| r < k) {
        while net.augment(Some(req_node(r))) {}
    }
    for r in 0..k {
        while net.augment(Some(req_node(r))) {}
    }
    while net.augment(None) {}

    let per_req: Vec<u64> = sink_edges.iter().map(|&e| net.flow(e)).collect();
    let flows = class_req_edges
        .into_iter()
        .map(|(c, r, e)| (c, r, net.flow(e)))
        .filter(|&(_, _, f)| f > 0)
        .collect();
    Assignment {
        total: per_req.iter().sum(),
        per_req,
        flows,
    }
}

const SOURCE: usize = 0;
const SINK: usize = 1;

/// A residual network as an edge list; edge `e ^ 1` is the reverse of edge `e`.
struct Network {
    adj: Vec<Vec<usize>>,
    to: Vec<usize>,
    cap: Vec<u64>,
    original: Vec<u64>,
}

impl Network {
    fn new(nodes: usize) -> Self {
        Network {
            adj: vec![Vec::new(); nodes],
            to: Vec::new(),
            cap: Vec::new(),
            original: Vec::new(),
        }
    }

    fn add(&mut self, from: usize, to: usize, cap: u64) -> usize {
        let e = self.to.len();
        self.adj[from].push(e);
        self.to.push(to);
        self.cap.push(cap);
        self.original.push(cap);
        self.adj[to].push(e + 1);
        self.to.push(from);
        self.cap.push(0);
        self.original.push(0);
        e
    }

    fn flow(&self, e: usize) -> u64 {
        self.original[e] - self.cap[e]
    }

    /// Finds one shortest augmenting path and pushes its bottleneck. With `only`, the path
    /// must reach the sink through that node. Returns whether it found one.
    fn augment(&mut self, only: Option<usize>) -> bool {
        let mut parent = vec![usize::MAX; self.adj.len()];
        let mut seen = vec![false; self.adj.len()];
        seen[SOURCE] = true;
        let mut queue = VecDeque::from([SOURCE]);
        'search: while let Some(u) = queue.pop_front() {
            for &e in &self.adj[u] {
                let v = self.to[e];
                if seen[v] || self.cap[e] == 0 {
                    continue;
                }
                if v == SINK && only.is_some_and(|n| n != u) {
                    continue;
                }
                seen[v] = true;
                parent[v] = e;
                if v == SINK {
                    break 'search;
                }
                queue.push_back(v);
            }
        }
        if !seen[SINK] {
            return false;
        }
        let mut bottleneck = u64::MAX;
        let mut v = SINK;
        while v != SOURCE {
            let e = parent[v];
            bottleneck = bottleneck.min(self.cap[e]);
            v = self.to[e ^ 1];
        }
        let mut v = SINK;
        while v != SOURCE {
            let e = parent[v];
            self.cap[e] -= bottleneck;
            self.cap[e ^ 1] += bottleneck;
            v = self.to[e ^ 1];
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Groups individuals (each a requirement bitmask) into classes.
    fn classes_of(people: &[u64]) -> Vec<Class> {
        let mut classes: Vec<Class> = Vec::new();
        for &p in people.iter().filter(|&&p| p != 0) {
            match classes.iter_mut().find(|c| c.reqs == p) {
                Some(c) => c.size += 1,
                None => classes.push(Class { reqs: p, size: 1 }),
            }
        }
        classes
    }

    /// Tries every way of giving each individual at most one requirement it qualifies for.
    fn brute_force(people: &[u64], left: &mut [u64]) -> u64 {
        let Some((&first, rest)) = people.split_first() else {
            return 0;
        };
        let mut best = brute_force(rest, left);
        for r in 0..left.len() {
            if first >> r & 1 == 1 && left[r] > 0 {
                left[r] -= 1;
                best = best.max(1 + brute_force(rest, left));
                left[r] += 1;
            }
        }
        best
    }

    #[test]
    fn greedy_in_requirement_order_fails_but_the_matching_does_not() {
        // Ann holds both codes, Bob only the first. Greedy gives Ann to requirement 0 and
        // leaves requirement 1 empty; the right answer is Bob → 0, Ann → 1.
        let people = [0b11, 0b01];
        let a = max_assignment(&classes_of(&people), &[1, 1]);
        assert_eq!(a.total, 2);
        assert!(a.meets(&[1, 1]));
    }

    #[test]
    fn greedy_by_largest_class_fails_but_the_matching_does_not() {
        // Three people qualify for both requirements, one only for the second. Counts 3 and
        // 1: the lone specialist must go to requirement 1.
        let people = [0b11, 0b11, 0b11, 0b10];
        let a = max_assignment(&classes_of(&people), &[3, 1]);
        assert_eq!(a.per_req, vec![3, 1]);
    }

    #[test]
    fn one_person_cannot_fill_two_requirements() {
        let a = max_assignment(&classes_of(&[0b11]), &[1, 1]);
        assert_eq!(a.total, 1);
        assert_eq!(a.per_req, vec![1, 0], "earlier requirement preferred");
    }

    #[test]
    fn flows_add_up_per_class_and_requirement() {
        let classes = [
            Class {
                reqs: 0b01,
                size: 5,
            },
            Class {
                reqs: 0b11,
                size: 2,
            },
        ];
        let a = max_assignment(&classes, &[3, 2]);
        assert_eq!(a.per_req, vec![3, 2]);
        for (c, class) in classes.iter().enumerate() {
            let used: u64 = a.flows.iter().filter(|f| f.0 == c).map(|f| f.2).sum();
            assert!(used <= class.size);
        }
        for r in 0..2 {
            let got: u64 = a.flows.iter().filter(|f| f.1 == r).map(|f| f.2).sum();
            assert_eq!(got, a.per_req[r]);
        }
    }

    #[test]
    fn no_requirements_no_people() {
        assert_eq!(max_assignment(&[], &[]).total, 0);
        assert_eq!(max_assignment(&[], &[2]).per_req, vec![0]);
    }

    proptest! {
        #[test]
        fn matches_brute_force(
            people in prop::collection::vec(0u64..8, 0..8),
            counts in prop::collection::vec(0u64..4, 3),
        ) {
            let a = max_assignment(&classes_of(&people), &counts);
            let mut left = counts.clone();
            prop_assert_eq!(a.total, brute_force(&people, &mut left));
            for (have, need) in a.per_req.iter().zip(&counts) {
                prop_assert!(have <= need);
            }
        }
    }
}
