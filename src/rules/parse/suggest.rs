//! Suggestions for a misspelt code: the catalogue's nearest codes by edit distance
//! ([`strsim::levenshtein`], by characters, ignoring case), with fragments of a code
//! ("o365" for "MCSA-O365") counted as near.

use super::CatalogEntry;

/// Codes longer than this get no suggestions.
const MAX_SUGGESTED_LEN: usize = 128;

/// The codes of `catalog` nearest to `code` by edit distance (ignoring case), closest
/// first, at most `n` of them. Codes too far away to be a plausible typo are left out, so
/// the result may be empty. Used to suggest codes for a misspelt one.
pub fn nearest_codes(catalog: &[CatalogEntry], code: &str, n: usize) -> Vec<String> {
    // No code is this long, so it is no typo of one; and the edit distance costs length
    // times length: a 5 MB "code" in an import took seconds per catalogue entry.
    if code.len() > MAX_SUGGESTED_LEN {
        return Vec::new();
    }
    let wanted = code.trim().to_lowercase();
    let wanted_len = wanted.chars().count();
    let mut scored: Vec<(usize, usize, &str)> = catalog
        .iter()
        .filter_map(|entry| {
            let candidate = entry.code.to_lowercase();
            let mut distance = strsim::levenshtein(&wanted, &candidate);
            // "o365" for "MCSA-O365": a fragment of a code is a plausible way to name it.
            let shorter = wanted_len.min(candidate.chars().count());
            if shorter >= 3 && (candidate.contains(&wanted) || wanted.contains(&candidate)) {
                distance = distance.min(1);
            }
            let limit = wanted_len.max(candidate.chars().count()) / 2;
            (distance <= limit.max(1)).then(|| {
                let prefix = wanted
                    .chars()
                    .zip(candidate.chars())
                    .take_while(|(a, b)| a == b)
                    .count();
                (distance, usize::MAX - prefix, entry.code.as_str())
            })
        })
        .collect();
    scored.sort_unstable();
    scored.dedup_by(|a, b| a.2 == b.2);
    scored
        .into_iter()
        .take(n)
        .map(|(_, _, c)| c.to_string())
        .collect()
}
