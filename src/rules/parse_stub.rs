//! Temporary: replaced by the validating parser when the rulebook work lands.

use super::Rulebook;

impl Rulebook {
    /// Parses a rulebook (temporary, unvalidated).
    pub fn parse(text: &str, file: &str) -> anyhow::Result<Rulebook> {
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{file}: {e}"))
    }
}
