//! The configuration file and the default database path (XDG base directories).

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use serde::Deserialize;

/// The configuration file (`$XDG_CONFIG_HOME/competency/config.toml`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Config {
    /// Default database path.
    pub(super) db: Option<PathBuf>,
    /// Default organization.
    pub(super) org: Option<String>,
    /// The PostgreSQL password (when `PGPASSWORD` is unset); only in a file of mode 0600.
    pub(super) password: Option<String>,
}

fn config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("COMPETENCY_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("competency").join("config.toml"))
}

pub(super) fn load_config() -> Result<Config> {
    let Some(path) = config_path() else {
        return Ok(Config::default());
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let config: Config = toml::from_str(&text).map_err(|e| {
                let line = e
                    .span()
                    .map(|s| text[..s.start].matches('\n').count() + 1)
                    .unwrap_or(1);
                anyhow!("{}:{line}: {}", path.display(), e.message())
            })?;
            if config.password.is_some() {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?
                    .permissions()
                    .mode();
                if mode & 0o077 != 0 {
                    return Err(crate::error::refused(format!(
                        "{} holds a password but others may read it (mode {:o}): run `chmod 600 {}`",
                        path.display(),
                        mode & 0o777,
                        path.display()
                    )));
                }
            }
            Ok(config)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

pub(super) fn default_db() -> Result<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .ok_or_else(|| anyhow!("neither --db, COMPETENCY_DB, XDG_DATA_HOME nor HOME is set"))?;
    Ok(base.join("competency").join("competency.db"))
}
