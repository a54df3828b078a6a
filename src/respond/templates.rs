//! Handlebars templates for outgoing mail: plain text (no HTML escaping), strict
//! mode (a misspelt variable is an error, not a blank).
//!
//! A template is compiled the first time it is rendered, so a process that sends
//! nothing compiles nothing. The templates a `[templates] dir` overrides are the
//! exception: they are compiled when loaded, so a broken one stops `check`, the
//! start and a reload, not a reply. The built-in ones cannot break at run time;
//! a unit test compiles them all.

use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};

use handlebars::Handlebars;
use serde::Serialize;

/// Built-in templates; a file of the same name in `[templates] dir` replaces one.
const BUILTIN: &[(&str, &str)] = &[
    (
        "acknowledgement",
        include_str!("../../templates/acknowledgement.txt.hbs"),
    ),
    (
        "delivery-failed",
        include_str!("../../templates/delivery-failed.txt.hbs"),
    ),
    (
        "delivery-problem",
        include_str!("../../templates/delivery-problem.txt.hbs"),
    ),
    (
        "flood-summary",
        include_str!("../../templates/flood-summary.txt.hbs"),
    ),
    (
        "team-metadata",
        include_str!("../../templates/team-metadata.txt.hbs"),
    ),
    (
        "acknowledgement-undecryptable",
        include_str!("../../templates/acknowledgement-undecryptable.txt.hbs"),
    ),
    (
        "key-changed",
        include_str!("../../templates/key-changed.txt.hbs"),
    ),
    (
        "key-confirmation",
        include_str!("../../templates/key-confirmation.txt.hbs"),
    ),
    (
        "notification",
        include_str!("../../templates/notification.txt.hbs"),
    ),
    (
        "relay-copy",
        include_str!("../../templates/relay-copy.txt.hbs"),
    ),
    (
        "internal-note",
        include_str!("../../templates/internal-note.txt.hbs"),
    ),
    (
        "command-reply",
        include_str!("../../templates/command-reply.txt.hbs"),
    ),
    ("refusal", include_str!("../../templates/refusal.txt.hbs")),
    (
        "route-unproven",
        include_str!("../../templates/route-unproven.txt.hbs"),
    ),
    (
        "relay-refused",
        include_str!("../../templates/relay-refused.txt.hbs"),
    ),
    (
        "duplicate",
        include_str!("../../templates/duplicate.txt.hbs"),
    ),
    (
        "out-of-scope",
        include_str!("../../templates/out-of-scope.txt.hbs"),
    ),
    (
        "reporter-triaged",
        include_str!("../../templates/reporter-triaged.txt.hbs"),
    ),
    (
        "reporter-accepted",
        include_str!("../../templates/reporter-accepted.txt.hbs"),
    ),
    (
        "reporter-fixed",
        include_str!("../../templates/reporter-fixed.txt.hbs"),
    ),
    (
        "reporter-risk-accepted",
        include_str!("../../templates/reporter-risk-accepted.txt.hbs"),
    ),
    (
        "reporter-disclosed",
        include_str!("../../templates/reporter-disclosed.txt.hbs"),
    ),
];

/// The names of the templates (a `[templates] dir` can only replace these).
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(name, _)| *name)
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read template {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("template {origin} does not compile: {source}")]
    Compile {
        origin: String,
        source: Box<handlebars::TemplateError>,
    },
    #[error("cannot read the template directory {}: {source}; it may hold {}", path.display(), file_names())]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a template: the names are {}", path.display(), file_names())]
    Unknown { path: PathBuf },
    #[error("template {} does not render: {source}; it can use {variables}", path.display())]
    Sample {
        path: PathBuf,
        variables: String,
        source: Box<handlebars::RenderError>,
    },
    #[error("template `{name}` failed to render: {source}")]
    Render {
        name: &'static str,
        source: Box<handlebars::RenderError>,
    },
}

/// The templates: overrides compiled, built-ins compiled when first rendered.
#[derive(Debug)]
pub struct Templates {
    /// Every template compiled so far. Rendering reads it; the first render of a
    /// built-in adds it.
    registry: RwLock<Handlebars<'static>>,
}

impl Templates {
    /// The built-in templates only.
    pub fn builtin() -> Self {
        Self {
            registry: RwLock::new(empty_registry()),
        }
    }

    /// The built-in templates, replaced by `dir/<name>.txt.hbs` where present.
    /// The replacements are read, compiled and rendered in strict mode against
    /// sample data now, and every one that fails is reported, as is a
    /// directory that cannot be read or a file in it that is no template's.
    pub fn load(dir: Option<&Path>) -> Result<Self, Vec<TemplateError>> {
        let mut registry = empty_registry();
        let mut errors = Vec::new();
        let Some(dir) = dir else {
            return Ok(Self {
                registry: RwLock::new(registry),
            });
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(source) => {
                return Err(vec![TemplateError::Dir {
                    path: dir.to_owned(),
                    source,
                }]);
            }
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| {
                vec![TemplateError::Dir {
                    path: dir.to_owned(),
                    source,
                }]
            })?;
            let file_name = entry.file_name();
            let file_name = file_name.to_string_lossy();
            // Hidden files (an editor's) and subdirectories are not templates.
            if file_name.starts_with('.') || entry.path().is_dir() {
                continue;
            }
            // The site's and the advisories' templates share the directory;
            // their own modules load them.
            if crate::publish::templates::file_names().any(|n| n == file_name)
                || crate::advisory::template_file_names().any(|n| n == file_name)
            {
                continue;
            }
            match names().find(|n| file_name.strip_suffix(".txt.hbs") == Some(n)) {
                Some(name) => found.push((name, entry.path())),
                None => errors.push(TemplateError::Unknown { path: entry.path() }),
            }
        }
        found.sort();
        for (name, path) in found {
            let compiled = std::fs::read_to_string(&path)
                .map_err(|source| TemplateError::Read {
                    path: path.clone(),
                    source,
                })
                .and_then(|text| {
                    registry
                        .register_template_string(name, text)
                        .map_err(|source| TemplateError::Compile {
                            origin: path.display().to_string(),
                            source: Box::new(source),
                        })
                })
                .and_then(|()| render_samples(&registry, name, &path));
            if let Err(err) = compiled {
                errors.push(err);
            }
        }
        if errors.is_empty() {
            Ok(Self {
                registry: RwLock::new(registry),
            })
        } else {
            Err(errors)
        }
    }

    pub fn render(
        &self,
        name: &'static str,
        data: &impl Serialize,
    ) -> Result<String, TemplateError> {
        self.compile_builtin(name)?;
        // Rendering cannot leave the registry half-changed, so a panic elsewhere
        // while it was held does not make it unusable.
        let registry = self.registry.read().unwrap_or_else(PoisonError::into_inner);
        registry
            .render(name, data)
            .map_err(|source| TemplateError::Render {
                name,
                source: Box::new(source),
            })
    }

    /// Compiles the built-in `name` unless it is compiled already (or
    /// overridden, which is compiled at load).
    fn compile_builtin(&self, name: &'static str) -> Result<(), TemplateError> {
        let compiled = |registry: &Handlebars<'static>| registry.has_template(name);
        if compiled(&self.registry.read().unwrap_or_else(PoisonError::into_inner)) {
            return Ok(());
        }
        // An unknown name is left to `render`, which names it.
        let Some((_, source)) = BUILTIN.iter().find(|(n, _)| *n == name) else {
            return Ok(());
        };
        let mut registry = self
            .registry
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if compiled(&registry) {
            return Ok(());
        }
        registry
            .register_template_string(name, source)
            .map_err(|source| TemplateError::Compile {
                origin: format!("built-in `{name}`"),
                source: Box::new(source),
            })
    }

    /// How many templates are compiled so far.
    #[cfg(test)]
    fn compiled(&self) -> usize {
        self.registry
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get_templates()
            .len()
    }
}

/// Renders the compiled template `name` from `path` with its sample data.
fn render_samples(
    registry: &Handlebars<'static>,
    name: &str,
    path: &Path,
) -> Result<(), TemplateError> {
    for sample in samples(name).into_iter().flatten() {
        registry
            .render(name, &sample)
            .map_err(|source| TemplateError::Sample {
                path: path.to_owned(),
                variables: variables(&sample),
                source: Box::new(source),
            })?;
    }
    Ok(())
}

mod samples;
use samples::{samples, variables};

/// A registry with no template yet, set up for plain-text mail.
fn empty_registry() -> Handlebars<'static> {
    let mut registry = Handlebars::new();
    registry.register_escape_fn(handlebars::no_escape);
    registry.set_strict_mode(true);
    registry
}

/// The file names a `[templates] dir` may hold.
fn file_names() -> String {
    names()
        .map(|n| format!("{n}.txt.hbs"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the acknowledgement template can use.
#[derive(Debug, Clone, Serialize)]
pub struct AckData<'a> {
    pub report_id: &'a str,
    pub subject: &'a str,
    pub program_name: &'a str,
    pub program_address: &'a str,
    pub policy_url: &'a str,
    /// The first-response time the policy promises, e.g. "5 business days".
    pub response_time: String,
    pub reply_address: &'a str,
    pub reporter_name: Option<&'a str>,
}

/// What the delivery-failure notice to the team can use.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryFailedData<'a> {
    pub program_name: &'a str,
    pub report_id: Option<&'a str>,
    pub kind: &'a str,
    pub recipients: String,
    pub message_id: &'a str,
    pub queued_at: String,
    pub attempts: u32,
    pub reason: &'a str,
}

/// What the team's notice of a bounce can use: the returned mail (one of ours)
/// and the bounce's delivery-status fields, never its free text.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryProblemData<'a> {
    pub report_id: Option<&'a str>,
    /// What the returned mail was, e.g. `acknowledgement`.
    pub kind: &'a str,
    pub message_id: &'a str,
    pub recipients: String,
    /// Per recipient, `Name: value` lines (Final-Recipient, Action, Status,
    /// Remote-MTA, Diagnostic-Code), each one cleaned, short line.
    pub statuses: Vec<Vec<String>>,
}

/// What the team's summary of a flood can use: which limit was reached, and
/// the sender's mailbox when it was theirs.
#[derive(Debug, Clone, Serialize)]
pub struct FloodSummaryData<'a> {
    pub headline: &'a str,
    /// The sender's mailbox (lower-cased, without `+detail`), or `None` when
    /// all senders together reached the limit.
    pub sender: Option<&'a str>,
    pub limit: u32,
    /// The window, as configured ("1h").
    pub window: String,
}

/// What the notice to a member without an OpenPGP key can use. It has no field
/// for anything but metadata (no reporter, subject, text, keys or addresses),
/// so no template, built-in or replaced, can put more into that notice.
#[derive(Debug, Clone, Serialize)]
pub struct MetadataNoticeData<'a> {
    /// What happened, without content: "New report: SEC-2026-0042".
    pub headline: &'a str,
    pub report_id: Option<&'a str>,
    pub state: Option<&'a str>,
    pub deadlines: Vec<String>,
    /// `#search`: the reports found, each as its id and state only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<String>,
}

/// What the acknowledgement of an unreadable encrypted report can use. It holds
/// nothing of the reporter's message.
#[derive(Debug, Clone, Serialize)]
pub struct UndecryptableData<'a> {
    pub report_id: &'a str,
    pub program_name: &'a str,
    pub policy_url: &'a str,
    pub reply_address: &'a str,
    /// Why, in a few words: "it was encrypted to a key we do not have".
    pub reason: &'a str,
    /// Our current key's fingerprint, in groups of four.
    pub key_fingerprint: String,
    pub key_url: &'a str,
}

/// What the notice of a changed correspondent key can use.
#[derive(Debug, Clone, Serialize)]
pub struct KeyChangedData<'a> {
    pub address: &'a str,
    pub report_id: Option<&'a str>,
    pub current: &'a str,
    pub new: &'a str,
    pub source: &'a str,
}

/// What the mail asking a correspondent to confirm their key can use. It is
/// encrypted to that key; it names no report content.
#[derive(Debug, Clone, Serialize)]
pub struct KeyConfirmationData<'a> {
    pub program_name: &'a str,
    pub address: &'a str,
    /// The key's fingerprint, in groups of four.
    pub fingerprint: String,
    /// The one-time line to send back.
    pub token: &'a str,
    /// When the token expires, in the program's time zone.
    pub expires: String,
    /// The report whose mail waits for the key.
    pub report_id: Option<&'a str>,
}

/// What the team's notification of reporter mail can use.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationData<'a> {
    /// "New report" or "The reporter wrote again".
    pub headline: String,
    pub report_id: &'a str,
    pub state: &'a str,
    /// `Name <address>`.
    pub reporter: String,
    pub subject: &'a str,
    pub encryption: String,
    pub signature: String,
    /// One line per attachment: name, type, size.
    pub attachments: Vec<String>,
    pub problems: Vec<String>,
    pub deadlines: Vec<String>,
    pub reply_address: &'a str,
    pub internal_address: &'a str,
    pub help: &'a str,
    /// The report's text. A member without a key never gets this template
    /// (they get `team-metadata`).
    pub text: Option<&'a str>,
    /// Always false; kept so that override templates written against it
    /// still render in strict mode.
    pub withheld: bool,
    /// The report's acknowledgement could not be composed (a template failed
    /// on its data) and none was queued since: nothing went to the reporter.
    pub ack_failed: bool,
}

/// What the team's copy of a relayed answer, or an internal note, can use.
#[derive(Debug, Clone, Serialize)]
pub struct TeamCopyData<'a> {
    /// The team member who wrote it: `Name <address>`.
    pub author: String,
    pub report_id: &'a str,
    pub reporter: &'a str,
    pub text: &'a str,
    pub reply_address: &'a str,
    pub internal_address: &'a str,
    /// How the relay left ("encrypted", "signed"…); `None` for notes.
    pub protection: Option<&'a str>,
}

/// One refused command line.
#[derive(Debug, Clone, Serialize)]
pub struct RefusedLine {
    pub line: String,
    pub reason: String,
}

/// What the answer to a command mail can use.
#[derive(Debug, Clone, Serialize)]
pub struct CommandReplyData<'a> {
    /// The report, or "the control address".
    pub target: &'a str,
    pub applied: Vec<String>,
    pub refused: Vec<RefusedLine>,
    /// What a query produced (`#list`, `#show`, `#digest`, `#stats`).
    pub output: Option<String>,
    pub help: Option<&'a str>,
}

/// What the refusal of an unauthenticated mail in a member's name can use.
#[derive(Debug, Clone, Serialize)]
pub struct RefusalData<'a> {
    pub program_name: &'a str,
    pub member: &'a str,
    pub reason: &'a str,
    pub to: String,
    pub message_id: &'a str,
    pub date: String,
    /// Whether DKIM is an accepted proof.
    pub dkim: bool,
}

/// What the notice about a relay held back for internal lines can use.
#[derive(Debug, Clone, Serialize)]
pub struct RelayRefusedData<'a> {
    pub report_id: &'a str,
    /// How many lines matched team mail.
    pub count: usize,
    /// The first of them, as the author may see them.
    pub lines: &'a [crate::respond::leak::ShownLine],
    /// How many matched lines are not shown.
    pub more: usize,
    pub reply_address: &'a str,
}

/// What the notice about a mail kept inside the team can use.
#[derive(Debug, Clone, Serialize)]
pub struct RouteUnprovenData<'a> {
    pub program_name: &'a str,
    pub member: &'a str,
    pub report_id: &'a str,
    pub reply_address: &'a str,
    pub message_id: &'a str,
    /// The line that relays a mail: `#reply`.
    pub directive: &'a str,
}

/// What a templated answer to a reporter (duplicate, out of scope) can use.
#[derive(Debug, Clone, Serialize)]
pub struct ReporterReplyData<'a> {
    pub report_id: &'a str,
    pub subject: &'a str,
    pub program_name: &'a str,
    pub policy_url: &'a str,
    pub reply_address: &'a str,
    pub reporter_name: Option<&'a str>,
    /// The triage rule that chose the reply, if one did.
    pub rule: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AckData<'static> {
        AckData {
            report_id: "SEC-2026-0001",
            subject: "XSS in <search> & \"login\"",
            program_name: "Example",
            program_address: "security@example.org",
            policy_url: "https://example.org/security",
            response_time: "5 business days".into(),
            reply_address: "security+SEC-2026-0001@example.org",
            reporter_name: Some("O'Brien"),
        }
    }

    #[test]
    fn builtin_acknowledgement_renders_plain_text() {
        let t = Templates::load(None).expect("built-ins compile");
        let text = t.render("acknowledgement", &sample()).expect("renders");
        assert!(text.contains("SEC-2026-0001"));
        assert!(text.contains("5 business days"));
        assert!(text.contains("https://example.org/security"));
        assert!(
            text.contains("XSS in <search> & \"login\""),
            "no HTML escaping: {text}"
        );
        assert!(text.contains("Hello O'Brien"));
    }

    #[test]
    fn override_dir_replaces_and_strict_mode_catches_typos() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("acknowledgement.txt.hbs"),
            "Got {{report_id}}.",
        )
        .expect("write");
        let t = Templates::load(Some(dir.path())).expect("compiles");
        assert_eq!(
            t.render("acknowledgement", &sample()).expect("renders"),
            "Got SEC-2026-0001."
        );

        // A misspelt variable stops the load, naming the ones there are.
        std::fs::write(
            dir.path().join("acknowledgement.txt.hbs"),
            "Got {{reprot_id}}.",
        )
        .expect("write");
        let errors = Templates::load(Some(dir.path())).expect_err("typo loaded");
        let text = errors[0].to_string();
        assert!(text.contains("acknowledgement.txt.hbs"), "{text}");
        assert!(text.contains("reprot_id"), "{text}");
        assert!(text.contains("report_id, reporter_name"), "{text}");

        std::fs::write(dir.path().join("acknowledgement.txt.hbs"), "{{#if}}").expect("write");
        std::fs::write(dir.path().join("refusal.txt.hbs"), "{{/each}}").expect("write");
        let errors = Templates::load(Some(dir.path())).expect_err("syntax error accepted");
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 2, "every broken template is named: {text:?}");
        assert!(text[0].contains("acknowledgement.txt.hbs"), "{text:?}");
        assert!(text[1].contains("refusal.txt.hbs"), "{text:?}");
    }

    #[test]
    fn the_relay_refusal_shows_the_lines_and_how_to_resend() {
        use crate::respond::leak::ShownLine;
        let t = Templates::load(None).expect("loads");
        let lines = [
            ShownLine {
                text: "Report SEC-2026-0001 from rita@researcher.example".into(),
                cut: false,
                other_report: true,
            },
            ShownLine {
                text: "x".repeat(200),
                cut: true,
                other_report: false,
            },
        ];
        let body = t
            .render(
                "relay-refused",
                &RelayRefusedData {
                    report_id: "SEC-2026-0002",
                    count: 7,
                    lines: &lines,
                    more: 5,
                    reply_address: "security+SEC-2026-0002@example.org",
                },
            )
            .expect("renders");
        for expected in [
            "reporter of SEC-2026-0002 was NOT relayed: 7 line(s)",
            "    | Report SEC-2026-0001 from rita@researcher.example  [another report, or none]\n",
            &format!("    | {} …\n", "x".repeat(200)),
            "    … and 5 more\n",
            "received nothing",
            "security+SEC-2026-0002@example.org",
        ] {
            assert!(body.contains(expected), "no {expected:?} in:\n{body}");
        }
    }

    #[test]
    fn a_command_reply_puts_each_applied_and_refused_line_on_its_own_line() {
        let t = Templates::load(None).expect("loads");
        let refused = |line: &str| RefusedLine {
            line: line.into(),
            reason: "no such state".into(),
        };
        let body = t
            .render(
                "command-reply",
                &CommandReplyData {
                    target: "SEC-2026-0042",
                    applied: vec!["state: new → triaged".into(), "severity: high".into()],
                    refused: vec![refused("#state nope"), refused("#state nada")],
                    output: None,
                    help: None,
                },
            )
            .expect("renders");
        for expected in [
            "Applied to SEC-2026-0042:\n    state: new → triaged\n    severity: high\n",
            "    #state nope\n        no such state\n    #state nada\n        no such state\n\n",
        ] {
            assert!(body.contains(expected), "no {expected:?} in:\n{body}");
        }
    }

    #[test]
    fn every_builtin_template_renders_both_samples_in_strict_mode() {
        let t = Templates::load(None).expect("loads");
        for name in names() {
            let samples = samples(name).unwrap_or_else(|| panic!("no sample for `{name}`"));
            for sample in samples {
                t.render(name, &sample)
                    .unwrap_or_else(|err| panic!("built-in `{name}`: {err}"));
            }
        }
    }

    #[test]
    fn a_misspelt_variable_in_an_else_branch_fails_at_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("acknowledgement.txt.hbs"),
            "{{#if reporter_name}}Hello {{reporter_name}}{{else}}Hello {{reporter}}{{/if}}",
        )
        .expect("write");
        let errors = Templates::load(Some(dir.path())).expect_err("typo loaded");
        assert!(errors[0].to_string().contains("reporter"), "{:?}", errors);
    }

    #[test]
    fn a_misspelt_template_file_name_is_an_error_listing_the_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("acknowledgment.txt.hbs"), "Hi").expect("write");
        std::fs::write(dir.path().join("refusal.hbs"), "No").expect("write");
        std::fs::write(dir.path().join(".acknowledgement.txt.hbs.swp"), "").expect("write");
        std::fs::write(dir.path().join("duplicate.txt.hbs"), "Dup {{report_id}}").expect("write");
        let errors = Templates::load(Some(dir.path())).expect_err("misspelt name loaded");
        let mut text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        text.sort();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(
            text[0].contains("acknowledgment.txt.hbs is not a template"),
            "{text:?}"
        );
        assert!(
            text[1].contains("refusal.hbs is not a template"),
            "{text:?}"
        );
        assert!(text[0].contains("acknowledgement.txt.hbs, "), "{text:?}");
    }

    #[test]
    fn a_missing_template_directory_is_an_error_listing_the_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("tpl");
        let errors = Templates::load(Some(&missing)).expect_err("missing dir loaded");
        let text = errors[0].to_string();
        assert!(text.contains(&missing.display().to_string()), "{text}");
        assert!(text.contains("out-of-scope.txt.hbs"), "{text}");
    }

    #[test]
    fn the_notification_says_when_the_acknowledgement_could_not_be_composed() {
        let t = Templates::load(None).expect("loads");
        let [mut data, _] = samples("notification").expect("sample");
        data["ack_failed"] = true.into();
        let failed = t.render("notification", &data).expect("renders");
        assert!(
            failed.contains("The acknowledgement could not be composed"),
            "{failed}"
        );
        assert!(
            failed.contains("disclosed ack resend SEC-2026-0042,\nor #resend-ack"),
            "{failed}"
        );
        data["ack_failed"] = false.into();
        let fine = t.render("notification", &data).expect("renders");
        assert!(!fine.contains("could not be composed"), "{fine}");
        assert!(!fine.contains("ack resend"), "{fine}");
    }

    #[test]
    fn every_builtin_template_compiles() {
        let t = Templates::load(None).expect("loads");
        for name in names() {
            t.compile_builtin(name)
                .unwrap_or_else(|err| panic!("built-in `{name}`: {err}"));
        }
        assert_eq!(t.compiled(), BUILTIN.len());
    }

    #[test]
    fn a_template_is_compiled_when_first_rendered_and_an_override_when_loaded() {
        let t = Templates::load(None).expect("loads");
        assert_eq!(t.compiled(), 0, "nothing rendered, nothing compiled");
        t.render("acknowledgement", &sample()).expect("renders");
        t.render("acknowledgement", &sample())
            .expect("renders again");
        assert_eq!(t.compiled(), 1);

        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("refusal.txt.hbs"), "No.").expect("write");
        let t = Templates::load(Some(dir.path())).expect("loads");
        assert_eq!(t.compiled(), 1, "the override is checked at load");
        t.render("acknowledgement", &sample()).expect("renders");
        assert_eq!(t.compiled(), 2);
    }
}
