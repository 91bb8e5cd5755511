//! Exact designation points (SPEC §9 "Points are exact").
//!
//! The program states a linear item as "N points from M units" (20 points from 6
//! deployments), so per-unit values like 20/6 have no finite decimal: a float or a rounded
//! 3.33 per unit turns six deployments into 19.98 and a true 70 into 69.99, "does not
//! qualify". Points are therefore rationals ([`Exact`]); every comparison (the threshold,
//! "more than 0 points", a cap) is made on them, and only [`display`] rounds, half up, to two
//! decimals.
//!
//! Invariants: [`linear`] is `min(max, max × units / full_at)` and never below 0; the numbers
//! of a rulebook and of a record become rationals through [`exact`], which reads a float as
//! the shortest decimal that round-trips it (the value as written: `3.33` is 333/100, not the
//! binary fraction nearest to it) to at most [`DECIMALS`] decimals, within ±[`LIMIT`]. With
//! those bounds no product or sum here can overflow an `i128` except a sum of items whose
//! denominators are many large primes; [`add`] then falls back to a sum floored to 10⁻⁹ of a
//! point, which no real rulebook reaches.

use num_rational::Ratio;
use num_traits::{CheckedAdd, Zero};

/// An exact number of points (or units).
pub type Exact = Ratio<i128>;

/// The most decimals a rulebook or record number keeps exactly.
pub const DECIMALS: u32 = 6;

/// The largest magnitude a number is taken at (beyond, it is clamped).
pub const LIMIT: f64 = 1e12;

/// 0 points.
pub fn zero() -> Exact {
    Exact::zero()
}

/// A whole number of points or units.
pub fn int(n: i64) -> Exact {
    Exact::from_integer(i128::from(n))
}

/// A float as the decimal it was written as: the shortest decimal of at most [`DECIMALS`]
/// places that reads back as the same float (`0.1` is 1/10, `3.33` is 333/100), clamped to
/// ±[`LIMIT`]; not-a-number is 0.
pub fn exact(v: f64) -> Exact {
    if v.is_nan() {
        return zero();
    }
    let v = v.clamp(-LIMIT, LIMIT);
    let mut scale: i128 = 1;
    for _ in 0..DECIMALS {
        let n = (v * scale as f64).round();
        if n / scale as f64 == v {
            return Exact::new(n as i128, scale);
        }
        scale *= 10;
    }
    Exact::new((v * scale as f64).round() as i128, scale)
}

/// `min(max, max × units / full_at)`, never below 0; 0 when `full_at` is not above 0.
pub fn linear(max: Exact, full_at: Exact, units: Exact) -> Exact {
    if full_at <= zero() || max <= zero() || units <= zero() {
        return zero();
    }
    if units >= full_at {
        return max;
    }
    max * units / full_at
}

/// `min(max, units × per_unit)`, never below 0.
pub fn per_unit(max: Exact, per: Exact, units: Exact) -> Exact {
    if max <= zero() || per <= zero() || units <= zero() {
        return zero();
    }
    // units × per ≥ max ⇔ units ≥ max / per: compared before multiplying, so a large value
    // never overflows.
    if units >= max / per {
        return max;
    }
    units * per
}

/// `a + b`, exactly unless the denominators overflow (see the module documentation).
pub fn add(a: Exact, b: Exact) -> Exact {
    a.checked_add(&b).unwrap_or_else(|| {
        let grid = |x: Exact| (x * Exact::from_integer(1_000_000_000)).floor();
        (grid(a) + grid(b)) / Exact::from_integer(1_000_000_000)
    })
}

/// The sum of several points.
pub fn sum(points: impl IntoIterator<Item = Exact>) -> Exact {
    points.into_iter().fold(zero(), add)
}

/// Two decimals, rounded half up, as the program shows scores: 20/3 is 6.67, 40/3 13.33.
pub fn display(p: Exact) -> f64 {
    let cents = (p * Exact::from_integer(100) + Exact::new(1, 2)).floor();
    cents.to_integer() as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn floats_are_read_as_written() {
        assert_eq!(exact(3.33), Exact::new(333, 100));
        assert_eq!(exact(0.1), Exact::new(1, 10));
        assert_eq!(exact(0.0008), Exact::new(8, 10_000));
        assert_eq!(exact(-2.0), int(-2));
        assert_eq!(exact(6.67), Exact::new(667, 100));
        assert_eq!(exact(f64::NAN), zero());
    }

    #[test]
    fn the_program_examples_are_exact() {
        let six = linear(int(20), int(6), int(6));
        assert_eq!(six, int(20), "six deployments at 20 from 6");
        let per = Exact::new(20, 3);
        assert_eq!(sum([per, per, per]), int(20), "3 × 20/3");
        assert_eq!(linear(int(15), int(7), int(7)), int(15), "7 × 15/7");
        assert_eq!(display(linear(int(20), int(6), int(1))), 3.33);
        assert_eq!(display(linear(int(40), int(6), int(2))), 13.33);
        assert_eq!(display(Exact::new(20, 3)), 6.67);
        assert_eq!(display(Exact::new(1, 200)), 0.01, "half up");
        assert_eq!(display(Exact::new(15, 7) * int(3)), 6.43);
        // The old per-unit syntax converts exactly as written: 6 × 3.33 is 19.98.
        assert_eq!(
            per_unit(int(20), exact(3.33), int(6)),
            Exact::new(1998, 100)
        );
    }

    #[test]
    fn negative_and_zero_units_score_nothing() {
        assert_eq!(linear(int(20), int(6), int(-3)), zero());
        assert_eq!(per_unit(int(20), int(2), zero()), zero());
        assert_eq!(linear(int(20), zero(), int(3)), zero());
    }

    /// The reference: a fraction of integers, computed naively with big enough integers.
    fn brute(max: i64, full_at: i64, units: i64) -> (i128, i128) {
        let (max, full_at, units) = (i128::from(max), i128::from(full_at), i128::from(units));
        if units <= 0 {
            return (0, 1);
        }
        if units >= full_at {
            return (max, 1);
        }
        (max * units, full_at)
    }

    proptest! {
        /// `linear` equals the brute-force fraction, and its display is the half-up rounding
        /// of that fraction to the cent.
        #[test]
        fn linear_equals_rational_brute_force(max in 0i64..200, full_at in 1i64..5000, units in -50i64..6000) {
            let got = linear(int(max), int(full_at), int(units));
            let (n, d) = brute(max, full_at, units);
            prop_assert_eq!(got, Exact::new(n, d));
            // cents = floor((100 n + d/2) / d), in integers.
            let cents = (200 * n + d).div_euclid(2 * d);
            prop_assert_eq!(display(got), cents as f64 / 100.0);
        }

        /// A sum of k items at max/full_at reaches the max exactly at k = full_at.
        #[test]
        fn k_of_n_sums_to_max(max in 1i64..100, full_at in 1i64..40) {
            let one = linear(int(max), int(full_at), int(1));
            let total = sum(std::iter::repeat_n(one, full_at as usize));
            prop_assert_eq!(total, int(max));
        }

        /// Decimals written with up to 6 places read back exactly.
        #[test]
        fn decimals_read_exactly(n in -1_000_000_000i64..1_000_000_000, places in 0u32..7) {
            let d = 10i128.pow(places);
            let v = n as f64 / d as f64;
            prop_assert_eq!(exact(v), Exact::new(i128::from(n), d));
        }
    }
}
