//! Loading the settings a process runs with: the configuration file, and the
//! parts of it that other stages compile — the triage rules and the templates a
//! `[templates] dir` overrides — checked in the same pass. `run`, `check`, every
//! other command and a reload go through [`load`], so they accept or refuse a
//! file for the same reasons, and one error lists every problem in it.

use std::path::Path;

use crate::config::{Config, ConfigError, Draft};
use crate::respond::{Templates, templates};
use crate::triage::Rules;

/// A valid configuration with its rules and templates.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// `[[rules]]`, compiled.
    pub rules: Rules,
    pub templates: Templates,
}

/// Reads the configuration at `path` and checks and compiles everything it
/// names that can be checked without a network or the team's keys.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    check(Draft::read(path)?)
}

/// [`load`] for `text`, as if read from `path`.
pub fn parse(text: &str, path: &Path) -> Result<Loaded, ConfigError> {
    check(Draft::parse(text, path)?)
}

fn check(mut draft: Draft) -> Result<Loaded, ConfigError> {
    let known: Vec<&str> = templates::names().collect();
    let rules = Rules::compile(draft.take_rules(), &known).unwrap_or_else(|errors| {
        for e in errors {
            draft.problem(e.place, e.problem.to_string());
        }
        Rules::default()
    });
    // Without a typed configuration there is no directory to look in; the
    // draft has problems then and is refused anyway.
    let dir = draft
        .config()
        .and_then(|config| config.templates.dir.clone());
    let templates = Templates::load(dir.as_deref()).unwrap_or_else(|errors| {
        for e in errors {
            draft.problem("templates.dir", e.to_string());
        }
        Templates::builtin()
    });
    // The site's templates are compiled where they are used; a broken one is
    // refused here too, so `check`, the start and a reload name it.
    if let Err(err) = crate::publish::SiteTemplates::load(dir.as_deref()) {
        draft.problem("templates.dir", err.to_string());
    }
    // The advisory templates share the directory: a broken one stops `check`
    // and the start too, not only `disclosed advisory`.
    if let Err(e) = crate::advisory::Templates::load(dir.as_deref()) {
        draft.problem("templates.dir", e.to_string());
    }
    let config = draft.finish()?;
    Ok(Loaded {
        config,
        rules,
        templates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::MINIMAL;

    fn problems(text: &str, path: &Path) -> Vec<(String, String)> {
        match parse(text, path) {
            Err(ConfigError::Invalid { problems, .. }) => {
                problems.into_iter().map(|p| (p.key, p.message)).collect()
            }
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn rules_and_templates_are_checked_with_the_keys_and_reported_together() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("refusal.txt.hbs"), "{{#if}}").expect("write");
        let path = dir.path().join("config.toml");
        let text = format!(
            "{MINIMAL}\n[sla]\nacknowledge = \"soon\"\n\n[templates]\ndir = \"{}\"\n\n\
             [[rules]]\nname = \"r\"\nsubject = \"(\"\nstate = \"spam\"\n",
            dir.path().display()
        );
        let found = problems(&text, &path);
        let keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["sla.acknowledge", "rules[0].subject", "templates.dir"],
            "{found:?}"
        );
        assert!(found[2].1.contains("refusal.txt.hbs"), "{found:?}");
        let err = parse(&text, &path).expect_err("invalid").to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");

        // A key the configuration cannot do without does not hide the rules'.
        let text = format!(
            "{}\n[[rules]]\nname = \"r\"\nsubject = \"(\"\nstate = \"spam\"\n",
            MINIMAL.replace("Europe/Berlin", "Mars/Olympus")
        );
        let keys: Vec<String> = problems(&text, &path).into_iter().map(|p| p.0).collect();
        assert_eq!(keys, ["program.timezone", "rules[0].subject"]);
    }

    #[test]
    fn a_valid_file_yields_its_compiled_rules() {
        let path = Path::new("/etc/disclosed/config.toml");
        let text = format!(
            "{MINIMAL}\n[[rules]]\nname = \"dmarc\"\nsubject = \"dmarc\"\nstate = \"out-of-scope\"\nreply = \"out-of-scope\"\n"
        );
        let loaded = parse(&text, path).expect("valid");
        let rule = loaded
            .rules
            .first_match("No DMARC record", "", "r@x.example")
            .expect("the rule matches");
        assert_eq!(rule.reply(), Some("out-of-scope"));
        let unknown = text.replace("reply = \"out-of-scope\"", "reply = \"nope\"");
        let found = problems(&unknown, path);
        assert_eq!(found[0].0, "rules[0].reply", "{found:?}");
    }
}
