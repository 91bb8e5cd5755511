//! How long the rules engine takes on a large organization: 100,000 people holding
//! 300,000 achievements, 18 competencies with two people requirements per option.
//!
//! `cargo run --release --example engine_timing` — prints figures, asserts nothing.
// Prints figures and notes for the person running it (clippy.toml keeps `print!` out of src/).
#![allow(clippy::disallowed_macros)]

use std::fmt::Write;
use std::time::Instant;

use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use competency::api::rules::snapshot::{Achievement, PerformanceRecord, Person};
use competency::api::rules::{Metric, Rulebook, Snapshot, evaluate, gaps, risk};

fn main() {
    let rb = rulebook();
    let snap = snapshot();
    let at = Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap();
    for round in 1..=3 {
        let cpu = cpu_time();
        let start = Instant::now();
        let eval = evaluate(&rb, &snap, at);
        let evaluated = start.elapsed();
        let evaluated_cpu = cpu_time().zip(cpu).map(|(b, a)| b - a);
        let gaps = gaps(&rb, &snap, &eval);
        let gapped = start.elapsed();
        let risks = risk(&rb, &snap, at, &eval);
        let all = start.elapsed();
        println!(
            "round {round}: evaluate {evaluated:?} (on CPU {evaluated_cpu:?}), + gaps {:?}, \
             + risk {:?} ({} met levels, {} gaps, {} critical people)",
            gapped - evaluated,
            all - gapped,
            risks.len(),
            gaps.len(),
            risks.iter().map(|r| r.critical.len()).sum::<usize>(),
        );
    }
}

/// This thread's CPU time (Linux): on a shared machine wall time counts other processes.
fn cpu_time() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(std::time::Duration::from_nanos(ns))
}

/// 120 exams (every tenth valid two years); per competency, Silver and Gold options with
/// "any of six exams" and "both of two exams" requirements plus revenue.
fn rulebook() -> Rulebook {
    let mut src = String::from("[program]\nname = \"Synthetic\"\n");
    for c in 0..120 {
        write!(
            src,
            "[[catalog]]\ncode = \"X-{c}\"\ntitle = \"x\"\nkind = \"exam\"\n"
        )
        .unwrap();
        if c % 10 == 0 {
            src.push_str("valid_days = 730\n");
        }
    }
    for comp in 0..18 {
        let any = (0..6)
            .map(|i| format!("[\"X-{}\"]", (comp * 6 + i) % 120))
            .collect::<Vec<_>>()
            .join(", ");
        let pair = format!("[\"X-{}\", \"X-{}\"]", comp * 6 % 120, (comp * 6 + 7) % 120);
        let id = format!("c{comp:02}");
        write!(
            src,
            "[competencies.{id}]\nname = \"C{comp}\"\n\
             [[competencies.{id}.silver]]\noption = \"skills\"\n\
             people = [{{ count = 2, any_of = [{any}] }}, {{ count = 1, any_of = [{pair}] }}]\n\
             metrics = [{{ metric = \"revenue\", at_least = 15000 }}]\n\
             [[competencies.{id}.silver]]\noption = \"assessments\"\n\
             people = [{{ count = 3, any_of = [{any}] }}]\n\
             [[competencies.{id}.gold]]\noption = \"skills\"\n\
             people = [{{ count = 4, any_of = [{any}] }}, {{ count = 2, any_of = [{pair}] }}]\n\
             metrics = [{{ metric = \"revenue\", at_least = 100000 }}]\n"
        )
        .unwrap();
    }
    toml::from_str(&src).expect("synthetic rulebook parses")
}

/// 100,000 people with three random exams each, earned over 2022–2024, and 2,000 revenue
/// records. A fixed xorshift seed keeps runs comparable.
fn snapshot() -> Snapshot {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let first = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap();
    let mut snap = Snapshot::default();
    for i in 0..100_000i64 {
        let username = format!("user{i:06}@contoso.onmicrosoft.com");
        let achievements = (0..3)
            .map(|_| Achievement {
                code: format!("X-{}", next(120)).into(),
                earned: first + TimeDelta::days(next(800) as i64),
                expires: None,
                removed: None,
            })
            .collect();
        snap.people.push(Person {
            user_id: i,
            msa: username.clone(),
            username,
            associated: Utc.with_ymd_and_hms(2021, 6, 1, 0, 0, 0).unwrap(),
            ended: None,
            achievements,
        });
    }
    for i in 0..2000 {
        snap.performance.push(PerformanceRecord {
            metric: Metric::Revenue,
            scope: "azure".into(),
            value: 100.0,
            date: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap() + TimeDelta::days(i % 700),
            track: None,
            association: None,
        });
    }
    snap
}
