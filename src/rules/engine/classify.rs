//! Grouping an option's qualifiers into classes: the individuals who qualify for exactly
//! the same set of the option's people requirements are interchangeable for the matching
//! (see [`super::matching`]), so an option costs what its qualifiers cost, found from the
//! posting list of each alternative's rarest code.
//!
//! Invariant: after [`Prepared::classify`], `Scratch::touched` lists the individuals
//! qualifying for some requirement and `Scratch::class_of` their class, side by side, and
//! every mask is zero again (the scratch is reused for the next option).

use std::collections::HashMap;

use super::matching::Class;
use super::prepared::{CompiledReq, Prepared};

/// Reusable per-option work space, so classifying an option costs what it touches.
///
/// After [`Prepared::classify`]: `touched` lists the individuals qualifying for some
/// requirement of the option and `class_of` their class, side by side; the masks are all
/// zero again.
pub(super) struct Scratch {
    /// Requirement sets for options with at most 8 people requirements.
    pub(super) narrow: Vec<u8>,
    /// Requirement sets for larger options, allocated on first use.
    pub(super) wide: Vec<u64>,
    pub(super) touched: Vec<u32>,
    pub(super) class_of: Vec<u32>,
}

impl Scratch {
    pub(super) fn new(n: usize) -> Self {
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

impl Prepared<'_> {
    /// Groups the individuals qualifying for any of `reqs` by the set they qualify for.
    /// Only the first 64 people requirements of an option are considered (the rulebook
    /// validation keeps options far below that).
    pub(super) fn classify(&self, reqs: &[CompiledReq], scratch: &mut Scratch) -> Vec<Class> {
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
}
