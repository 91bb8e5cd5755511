//! Temporary: replaced by the validating parser when the rulebook work lands.

use super::Rulebook;

impl Rulebook {
    /// Parses a rulebook (temporary, unvalidated).
    pub fn parse(text: &str, file: &str) -> anyhow::Result<Rulebook> {
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{file}: {e}"))
    }
}

/// Temporary: the nearest catalogue codes to `code`.
pub fn nearest_codes(
    catalog: &[super::rulebook::CatalogEntry],
    code: &str,
    n: usize,
) -> Vec<String> {
    let code = code.to_uppercase();
    let mut v: Vec<(usize, &str)> = catalog
        .iter()
        .map(|c| {
            let common = c
                .code
                .chars()
                .zip(code.chars())
                .take_while(|(a, b)| a == b)
                .count();
            (usize::MAX - common, c.code.as_str())
        })
        .collect();
    v.sort();
    v.into_iter().take(n).map(|(_, c)| c.to_owned()).collect()
}
