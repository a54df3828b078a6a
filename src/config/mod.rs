//! Configuration: read the TOML file, check every key at once, and hand the rest
//! of the program typed values only.
//!
//! The file is read in two steps. [`Draft::read`] parses it and checks the keys
//! this module understands ([`validate`]); the parts other stages compile (the
//! triage rules, the templates a directory overrides) are handed out raw and
//! checked by whoever loads the settings (`crate::settings`), which adds its
//! findings to the draft. [`Draft::finish`] then reports every problem of the
//! file at once, or yields the typed [`Config`] ([`types`]).

mod duration;
mod locate;
mod raw;
mod types;
mod validate;
mod zone;

use std::fmt;
use std::path::{Path, PathBuf};

pub use duration::{DurationError, PolicyDuration, parse_interval};
pub use locate::Location;
pub use raw::RawRule;
pub use types::*;
pub use validate::read_secret_file;

/// Where the config file is looked for when neither `--config` nor
/// `$DISCLOSED_CONFIG` names one.
pub const DEFAULT_PATH: &str = "/etc/disclosed/config.toml";

/// One problem with one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProblem {
    pub key: String,
    pub message: String,
    /// Where the key's value is written; `None` when the file does not have
    /// the key.
    pub at: Option<Location>,
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some(at) => write!(f, "`{}` ({at}): {}", self.key, self.message),
            None => write!(f, "`{}`: {}", self.key, self.message),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    #[error("{}: {}", path.display(), list(problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<KeyProblem>,
    },
}

fn list(problems: &[KeyProblem]) -> String {
    match problems {
        [one] => one.to_string(),
        many => many.iter().map(|p| format!("\n  {p}")).collect::<String>(),
    }
}

/// A configuration file read and checked key by key, not yet accepted: the
/// checks of other modules may still add problems to it.
#[derive(Debug)]
pub struct Draft {
    path: PathBuf,
    /// The file's text, to say where each problem is.
    text: String,
    /// `None` when a key the typed configuration cannot do without is invalid.
    config: Option<Config>,
    rules: Vec<RawRule>,
    problems: Vec<KeyProblem>,
}

impl Draft {
    /// Reads the file at `path` and checks its keys.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Checks `text` as if read from `path`; relative paths in it resolve
    /// against the directory of `path`. Only a file that is not TOML, or has
    /// keys that do not exist, fails here; every other problem is kept for
    /// [`Draft::finish`].
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let raw: raw::RawConfig = toml::from_str(text).map_err(|err| ConfigError::Syntax {
            path: path.to_owned(),
            message: syntax_message(&err, text),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let (config, rules, problems) = validate::validate(raw, base, path);
        Ok(Self {
            path: path.to_owned(),
            text: text.to_owned(),
            config,
            rules,
            problems,
        })
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The typed configuration as far as it could be built; it may still have
    /// problems.
    pub fn config(&self) -> Option<&Config> {
        self.config.as_ref()
    }

    /// The `[[rules]]` as written, for the triage stage to compile.
    pub fn take_rules(&mut self) -> Vec<RawRule> {
        std::mem::take(&mut self.rules)
    }

    /// Records a problem another module found with `key`.
    pub fn problem(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(KeyProblem {
            key: key.into(),
            message: message.into(),
            at: None,
        });
    }

    /// The typed configuration even if some keys have problems (they got their
    /// defaults), for a command that needs only a few keys; every problem
    /// when there is none.
    pub fn into_usable(self) -> Result<Config, ConfigError> {
        match self.config {
            Some(config) => Ok(config),
            None => Err(invalid(self.path, &self.text, self.problems)),
        }
    }

    /// The configuration, or every problem found in the file.
    pub fn finish(self) -> Result<Config, ConfigError> {
        match (self.config, self.problems.is_empty()) {
            (Some(config), true) => Ok(config),
            _ => Err(invalid(self.path, &self.text, self.problems)),
        }
    }
}

impl Config {
    /// The keys of `text` checked as if read from `path`, without the checks
    /// of other modules: the `[[rules]]` and the templates are not looked at
    /// (`crate::settings` loads a file with them). For tests and benchmarks.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        Draft::parse(text, path)?.finish()
    }
}

/// `problems`, each with the place its key is written in `text`.
fn invalid(path: PathBuf, text: &str, mut problems: Vec<KeyProblem>) -> ConfigError {
    let spans = locate::Spans::new(text);
    for problem in &mut problems {
        if problem.at.is_none() {
            problem.at = spans.find(&problem.key);
        }
    }
    ConfigError::Invalid { path, problems }
}

/// toml's message with the dotted key it was reading and where: a wrong type,
/// a missing, unknown or duplicate key, or text that is not TOML.
fn syntax_message(err: &toml::de::Error, text: &str) -> String {
    let message = err.message().trim();
    let Some(span) = err.span() else {
        return message.to_owned();
    };
    let spans = locate::Spans::new(text);
    let mut key = spans.key_at(span.start);
    // toml points at the table a missing key belongs in.
    if let Some(missing) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        key = if key.is_empty() {
            missing.to_owned()
        } else {
            format!("{key}.{missing}")
        };
    }
    let at = (!span.is_empty()).then(|| locate::location(text, span.start));
    match (key.is_empty(), at) {
        (false, Some(at)) => format!("`{key}` ({at}): {message}"),
        (false, None) => format!("`{key}`: {message}"),
        (true, Some(at)) => format!("{at}: {message}"),
        (true, None) => message.to_owned(),
    }
}

#[cfg(test)]
pub(crate) mod tests;
