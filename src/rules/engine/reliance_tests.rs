//! The certifications a met level relies on ([`super::risk`]'s `relied_on`, one pass)
//! against the brute force SPEC §9b defines them by: the what-if of taking that one
//! certification away from that one person breaks the level.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;

use super::snapshot::{Achievement, Person, Snapshot};
use super::*;
use crate::rules::parse::Rulebook;

const CODES: [&str; 3] = ["A", "B", "C"];

fn at() -> DateTime<Utc> {
    counting::start_of(NaiveDate::from_ymd_opt(2024, 6, 1).unwrap())
}

/// Silver: `silver` requirements, each `count` people with any of the codes of its mask;
/// Gold: one requirement of `gold` people holding C.
fn rulebook(silver: &[(u32, u8)], gold: u32) -> Rulebook {
    let mut s = String::from(
        "[program]\nname = \"T\"\nprogress_delay_hours = 24\n\
         [[catalog]]\ncode = \"A\"\ntitle = \"A\"\nkind = \"certification\"\n\
         [[catalog]]\ncode = \"B\"\ntitle = \"B\"\nkind = \"certification\"\n\
         [[catalog]]\ncode = \"C\"\ntitle = \"C\"\nkind = \"certification\"\n\
         [competencies.x]\nname = \"X\"\n[[competencies.x.silver]]\noption = \"o\"\npeople = [",
    );
    for (i, (count, mask)) in silver.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let any: Vec<String> = CODES
            .iter()
            .enumerate()
            .filter(|(c, _)| mask >> c & 1 == 1)
            .map(|(_, code)| format!("[\"{code}\"]"))
            .collect();
        s.push_str(&format!(
            "{{ count = {count}, any_of = [{}] }}",
            any.join(", ")
        ));
    }
    s.push_str(&format!(
        "]\n[[competencies.x.gold]]\noption = \"g\"\npeople = [{{ count = {gold}, any_of = [[\"C\"]] }}]\n"
    ));
    toml::from_str(&s).unwrap()
}

fn snapshot(holdings: &[u8]) -> Snapshot {
    let earned = NaiveDate::from_ymd_opt(2023, 6, 1).unwrap();
    Snapshot {
        people: holdings
            .iter()
            .enumerate()
            .map(|(i, h)| Person {
                user_id: i as i64 + 1,
                username: format!("p{i}"),
                msa: format!("p{i}@outlook.com"),
                associated: counting::start_of(NaiveDate::from_ymd_opt(2023, 1, 1).unwrap()),
                ended: None,
                achievements: CODES
                    .iter()
                    .enumerate()
                    .filter(|(c, _)| h >> c & 1 == 1)
                    .map(|(_, code)| Achievement {
                        code: (*code).into(),
                        earned,
                        expires: None,
                        removed: None,
                    })
                    .collect(),
            })
            .collect(),
        ..Snapshot::default()
    }
}

/// The met levels of an evaluation.
fn met(eval: &Evaluation) -> BTreeSet<String> {
    eval.competencies
        .iter()
        .flat_map(|c| {
            c.levels
                .iter()
                .filter(|l| l.met)
                .map(|l| l.level.as_str().to_owned())
        })
        .collect()
}

proptest! {
    #[test]
    fn relied_on_is_the_what_if_of_losing_that_one_certification(
        holdings in prop::collection::vec(0u8..8, 0..7),
        silver in prop::collection::vec((1u32..3, 1u8..8), 1..4),
        gold in 1u32..3,
    ) {
        let rb = rulebook(&silver, gold);
        let snap = snapshot(&holdings);
        let eval = evaluate(&rb, &snap, at());
        let fast: BTreeSet<(String, i64, String)> = risk(&rb, &snap, at(), &eval)
            .into_iter()
            .flat_map(|r| {
                let level = r.level.as_str().to_owned();
                r.relied_on.into_iter().map(move |(u, c)| (level.clone(), u, c))
            })
            .collect();
        let before = met(&eval);
        let mut brute = BTreeSet::new();
        for (i, h) in holdings.iter().enumerate() {
            for (c, code) in CODES.iter().enumerate().filter(|(c, _)| h >> c & 1 == 1) {
                let mut lost = snap.clone();
                lost.people[i].achievements.retain(|a| *a.code != **code);
                let after = met(&evaluate(&rb, &lost, at()));
                for level in before.difference(&after) {
                    brute.insert((level.clone(), i as i64 + 1, CODES[c].to_owned()));
                }
            }
        }
        prop_assert_eq!(fast, brute);
    }
}
