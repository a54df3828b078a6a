//! Triage rules: the `[[rules]]` of the configuration, compiled once, matched
//! against each new report's subject, body and sender. The first matching rule
//! says which state, tags and template reply the report gets; the team can
//! reopen any report a rule closed with `#state triaged`.

use std::collections::BTreeMap;
use std::fmt;

pub use crate::config::RawRule;
use crate::report::ReportState;
use regex::{Regex, RegexBuilder};

/// Longest pattern accepted, in bytes.
pub const MAX_PATTERN_LEN: usize = 1_000;

/// Compiled-program and lazy-DFA budget per pattern, in bytes.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Only this many leading bytes of a body are searched.
pub const BODY_SEARCH_LIMIT: usize = 64 * 1024;

/// Longest tag accepted, in characters.
pub const MAX_TAG_LEN: usize = 32;

/// The states a rule may set: a rule closes a report or sends it to triage, but
/// judging a report valid, a duplicate or fixed needs a person.
pub const RULE_STATES: [ReportState; 4] = [
    ReportState::OutOfScope,
    ReportState::Spam,
    ReportState::Rejected,
    ReportState::Triaged,
];

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    name: String,
    enabled: bool,
    subject: Option<Regex>,
    body: Option<Regex>,
    sender: Option<Regex>,
    text: Option<Regex>,
    state: Option<ReportState>,
    tags: Vec<String>,
    reply: Option<String>,
}

impl Rule {
    /// The rule's name from the configuration.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the rule takes part in matching.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The state a matching report moves to, if the rule sets one.
    pub fn state(&self) -> Option<ReportState> {
        self.state
    }

    /// The tags a matching report gets (no duplicates, in file order).
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// The template the reporter is answered with, if any.
    pub fn reply(&self) -> Option<&str> {
        self.reply.as_deref()
    }

    fn matches(&self, subject: &str, body: &str, sender: &str) -> bool {
        let found = |pattern: &Option<Regex>, haystack: &str| {
            pattern.as_ref().is_none_or(|re| re.is_match(haystack))
        };
        found(&self.subject, subject)
            && found(&self.body, body)
            && found(&self.sender, sender)
            && self
                .text
                .as_ref()
                .is_none_or(|re| re.is_match(subject) || re.is_match(body))
    }
}

/// The compiled `[[rules]]`, in file order.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    /// Checks and compiles every rule, reporting all problems at once.
    pub fn compile(raw: Vec<RawRule>, known_templates: &[&str]) -> Result<Rules, Vec<RuleError>> {
        let mut errors = Vec::new();
        let mut rules = Vec::with_capacity(raw.len());
        let mut first_index_of_name: BTreeMap<String, usize> = BTreeMap::new();
        for (index, raw) in raw.into_iter().enumerate() {
            let name = raw.name.trim().to_owned();
            if name.is_empty() {
                errors.push(RuleError::new(index, "name", "", RuleProblem::EmptyName));
            } else if let Some(&first) = first_index_of_name.get(&name) {
                errors.push(RuleError::new(
                    index,
                    "name",
                    &name,
                    RuleProblem::DuplicateName { first },
                ));
            } else {
                first_index_of_name.insert(name.clone(), index);
            }
            if let Some(rule) = compile_rule(index, name, raw, known_templates, &mut errors) {
                rules.push(rule);
            }
        }
        if errors.is_empty() {
            Ok(Rules { rules })
        } else {
            Err(errors)
        }
    }

    /// The first enabled rule, in file order, whose patterns all match.
    pub fn first_match(&self, subject: &str, body: &str, sender: &str) -> Option<&Rule> {
        let body = search_window(body);
        self.rules
            .iter()
            .find(|rule| rule.enabled && rule.matches(subject, body, sender))
    }

    /// Whether there are no rules at all (enabled or not).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// How many rules there are, disabled ones included.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// The rules in file order, disabled ones included.
    pub fn iter(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter()
    }
}

/// The part of a body that rules search.
///
/// The regex crate matches in linear time, so no pattern can backtrack
/// catastrophically; but linear in a 64 MiB attachment dump is still seconds per
/// rule on the ingest path. What identifies a non-issue report sits at its top.
fn search_window(body: &str) -> &str {
    &body[..body.floor_char_boundary(BODY_SEARCH_LIMIT)]
}

fn compile_rule(
    index: usize,
    name: String,
    raw: RawRule,
    known_templates: &[&str],
    errors: &mut Vec<RuleError>,
) -> Option<Rule> {
    let errors_before = errors.len();
    // Judged on what was written, so a misspelt pattern or state is one error, not two.
    let wrote_pattern =
        raw.subject.is_some() || raw.body.is_some() || raw.sender.is_some() || raw.text.is_some();
    let wrote_effect = raw.state.is_some() || !raw.tags.is_empty() || raw.reply.is_some();
    if !wrote_pattern {
        errors.push(RuleError::new(index, "", &name, RuleProblem::NoPattern));
    }
    if !wrote_effect {
        errors.push(RuleError::new(index, "", &name, RuleProblem::NoEffect));
    }
    let mut pattern = |field: &'static str, source: Option<String>| {
        let source = source?;
        match compile_pattern(&source) {
            Ok(re) => Some(re),
            Err(problem) => {
                errors.push(RuleError::new(index, field, &name, problem));
                None
            }
        }
    };
    let subject = pattern("subject", raw.subject);
    let body = pattern("body", raw.body);
    let sender = pattern("sender", raw.sender);
    let text = pattern("text", raw.text);

    let state = raw.state.and_then(|value| match rule_state(&value) {
        Ok(state) => Some(state),
        Err(problem) => {
            errors.push(RuleError::new(index, "state", &name, problem));
            None
        }
    });

    let mut tags: Vec<String> = Vec::with_capacity(raw.tags.len());
    for (tag_index, tag) in raw.tags.into_iter().enumerate() {
        if !is_valid_tag(&tag) {
            let field = format!("tags[{tag_index}]");
            errors.push(RuleError::new(
                index,
                &field,
                &name,
                RuleProblem::BadTag { tag },
            ));
        } else if !tags.contains(&tag) {
            tags.push(tag);
        }
    }

    let reply = raw.reply.and_then(|template| {
        if known_templates.contains(&template.as_str()) {
            Some(template)
        } else {
            let mut known: Vec<&str> = known_templates.to_vec();
            known.sort_unstable();
            errors.push(RuleError::new(
                index,
                "reply",
                &name,
                RuleProblem::UnknownTemplate {
                    template,
                    known: known.join(", "),
                },
            ));
            None
        }
    });

    (errors.len() == errors_before).then_some(Rule {
        name,
        enabled: raw.enabled,
        subject,
        body,
        sender,
        text,
        state,
        tags,
        reply,
    })
}

/// Compiles a pattern within bounds: case-insensitive unless it says `(?-i)`.
fn compile_pattern(source: &str) -> Result<Regex, RuleProblem> {
    if source.is_empty() {
        return Err(RuleProblem::EmptyPattern);
    }
    if source.len() > MAX_PATTERN_LEN {
        return Err(RuleProblem::PatternTooLong { len: source.len() });
    }
    RegexBuilder::new(source)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|err| RuleProblem::BadPattern {
            error: err.to_string(),
        })
}

fn rule_state(value: &str) -> Result<ReportState, RuleProblem> {
    let allowed = || {
        RULE_STATES
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match value.parse::<ReportState>() {
        Ok(state) if RULE_STATES.contains(&state) => Ok(state),
        Ok(state) => Err(RuleProblem::StateNotForRules {
            state: state.as_str().to_owned(),
            allowed: allowed(),
        }),
        Err(_) => Err(RuleProblem::UnknownState {
            value: value.to_owned(),
            allowed: allowed(),
        }),
    }
}

fn is_valid_tag(tag: &str) -> bool {
    (1..=MAX_TAG_LEN).contains(&tag.len())
        && tag
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// One problem in one rule, with where it is (`rules[2].body`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}{}: {problem}", RuleName(.rule))]
pub struct RuleError {
    /// Where in the configuration: `rules[2]`, `rules[2].body`, `rules[2].tags[0]`.
    pub place: String,
    /// The rule's name as written, trimmed (empty if it has none).
    pub rule: String,
    /// What is wrong there.
    pub problem: RuleProblem,
}

impl RuleError {
    fn new(index: usize, field: &str, rule: &str, problem: RuleProblem) -> Self {
        let place = if field.is_empty() {
            format!("rules[{index}]")
        } else {
            format!("rules[{index}].{field}")
        };
        Self {
            place,
            rule: rule.to_owned(),
            problem,
        }
    }
}

/// Shows ` (rule `name`)` after the place when the rule has a name.
struct RuleName<'a>(&'a str);

impl fmt::Display for RuleName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, " (rule `{}`)", self.0)
        }
    }
}

/// What is wrong with a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleProblem {
    #[error("a rule needs a name; it names the rule in the event log and in replies")]
    EmptyName,
    #[error("this name is already used by rules[{first}]; rule names must be unique")]
    DuplicateName { first: usize },
    #[error("give at least one pattern: `subject`, `body`, `sender` or `text`")]
    NoPattern,
    #[error("the rule does nothing: give at least one of `state`, `tags` or `reply`")]
    NoEffect,
    #[error("the pattern is empty; it would match every message")]
    EmptyPattern,
    #[error("the pattern is {len} bytes long; at most {MAX_PATTERN_LEN} are allowed")]
    PatternTooLong { len: usize },
    /// The regex crate's own text; for syntax errors it shows the pattern.
    #[error("the pattern does not compile: {error}")]
    BadPattern { error: String },
    #[error("`{value}` is not a report state; a rule may set one of: {allowed}")]
    UnknownState { value: String, allowed: String },
    #[error(
        "a rule may not set the state `{state}`, that takes a person; a rule may set one of: {allowed}"
    )]
    StateNotForRules { state: String, allowed: String },
    #[error(
        "the tag `{tag}` is not allowed; tags are 1 to {MAX_TAG_LEN} characters of a-z, 0-9 and `-`"
    )]
    BadTag { tag: String },
    #[error("there is no template named `{template}`; the known templates are: {known}")]
    UnknownTemplate { template: String, known: String },
}

#[cfg(test)]
mod tests;
