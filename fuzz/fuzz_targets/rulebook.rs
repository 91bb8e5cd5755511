//! The rulebook loader on arbitrary bytes: never a panic; errors are one line at a real line.
#![no_main]

use competency::api::rules::Rulebook;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Rulebook::parse(text, "fuzz.toml") {
        assert!(e.line >= 1 && e.line <= text.matches('\n').count() + 1);
        assert!(!e.to_string().contains('\n'));
    }
});
