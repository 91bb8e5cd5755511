//! Arbitrary bytes read as CSV, every record through the row validation an import applies.
#![no_main]

use competency::api::rules::Rulebook;
use competency::api::domain::records;
use competency::api::support::fields as validate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let rb = Rulebook::default_rulebook();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut record = csv::ByteRecord::new();
    while let Ok(true) = reader.read_byte_record(&mut record) {
        let f: Vec<String> = record
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect();
        let get = |i: usize| f.get(i).map(String::as_str).unwrap_or("");
        let _ = records::validate_achievement(&rb, today, get(0), get(1), get(2), f.get(3).map(String::as_str));
        let _ = records::validate_performance(today, get(0), get(1), get(2), f.get(3).map(String::as_str));
        let _ = validate::email(get(0));
        let _ = validate::name(get(1));
    }
});
