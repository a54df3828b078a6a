//! Validation: the raw file, key by key, into the typed [`Config`]. Every problem
//! is collected with the key it belongs to, so one run lists them all.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytesize::ByteSize;
use jiff::civil::{Date, Time, Weekday};

use super::raw::{self, RawConfig, RawSource, RawTransport};
use super::types::*;
use super::{DurationError, KeyProblem, PolicyDuration, duration, parse_interval};

mod advisory;
mod limits;

use std::collections::BTreeMap;

use crate::report::Severity;

/// A fix time in days (months counted from a fixed day, for comparing
/// `fix` with `fix_max` only), and whether they are business days.
fn fix_days(d: &PolicyDuration) -> Option<(f64, bool)> {
    match d {
        PolicyDuration::BusinessDays(n) => Some((f64::from(*n), true)),
        PolicyDuration::BusinessHours(_) => None,
        PolicyDuration::Calendar(span) => span
            .total((jiff::Unit::Day, Date::constant(2026, 1, 1)))
            .ok()
            .map(|days| (days, false)),
    }
}

/// Checks every key of `raw`, resolving relative paths against `base`: the
/// typed configuration (`None` when a key it cannot do without is invalid), the
/// `[[rules]]` as written, and every problem found.
pub(super) fn validate(
    mut raw: RawConfig,
    base: &Path,
    path: &Path,
) -> (Option<Config>, Vec<super::RawRule>, Vec<KeyProblem>) {
    let rules = std::mem::take(&mut raw.rules);
    let mut v = Validator {
        base,
        problems: Vec::new(),
    };
    let config = v.config(raw, path);
    (config, rules, v.problems)
}

struct Validator<'a> {
    base: &'a Path,
    problems: Vec<KeyProblem>,
}

impl Validator<'_> {
    fn problem(&mut self, key: &str, message: impl Into<String>) {
        self.problems.push(KeyProblem {
            key: key.to_owned(),
            message: message.into(),
            at: None,
        });
    }

    fn path(&mut self, key: &str, value: &str) -> PathBuf {
        if value.trim().is_empty() {
            self.problem(key, "must not be empty");
        }
        let path = Path::new(value);
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.base.join(path)
        }
    }

    fn policy(&mut self, key: &str, value: Option<String>, default: &str) -> PolicyDuration {
        let text = value.unwrap_or_else(|| default.to_owned());
        text.parse().unwrap_or_else(|err: DurationError| {
            self.problem(key, err.to_string());
            PolicyDuration::BusinessDays(0)
        })
    }

    fn interval(&mut self, key: &str, value: Option<&str>, default: Duration) -> Duration {
        match value.map(parse_interval) {
            None => default,
            Some(Ok(d)) if d.is_zero() => {
                self.problem(key, "must be longer than zero");
                default
            }
            Some(Ok(d)) => d,
            Some(Err(err)) => {
                self.problem(key, err.to_string());
                default
            }
        }
    }

    fn size(&mut self, key: &str, value: Option<String>, default: u64) -> u64 {
        match value.map(|v| v.parse::<ByteSize>()) {
            None => default,
            Some(Ok(size)) if size.as_u64() > 0 => size.as_u64(),
            Some(Ok(_)) => {
                self.problem(key, "must be larger than zero");
                default
            }
            Some(Err(err)) => {
                self.problem(key, format!("not a size ({err}); write e.g. \"64 MiB\""));
                default
            }
        }
    }

    fn config(&mut self, raw: RawConfig, path: &Path) -> Option<Config> {
        let program = self.program(raw.program);
        let storage = Storage {
            database: self.path("storage.database", &raw.storage.database),
        };
        let source = match raw.source {
            RawSource::Maildir(m) => SourceConfig::Maildir {
                path: self.path("source.path", &m.path),
                poll_interval: self.interval(
                    "source.poll_interval",
                    Some(&m.poll_interval),
                    Duration::from_secs(2),
                ),
            },
            RawSource::Imap(i) => SourceConfig::Imap(self.imap(i)),
        };
        let transport = self.transport(raw.transport);
        let sla = self.sla(raw.sla);
        let team = self.team(raw.team, program.as_ref().map(|p| &p.address));
        let templates = Templates {
            dir: raw.templates.dir.map(|d| self.path("templates.dir", &d)),
        };
        let limits = self.limits(raw.limits);
        let openpgp = self.openpgp(raw.openpgp);
        let notify_reporter = notify_reporter(&raw.notify_reporter);
        let publish = self.publish(raw.publish);
        let security_txt = self.security_txt(raw.security_txt);
        let advisory = raw.advisory.map(|a| self.advisory(a));
        let bulletin = self.bulletin(raw.bulletin, program.as_ref(), &team);
        let metrics = self.metrics(raw.metrics);
        let monitor = self.monitor(raw.monitor, program.as_ref(), &team, &openpgp);
        Some(Config {
            path: path.to_owned(),
            program: program?,
            storage,
            source,
            transport,
            sla,
            team,
            templates,
            limits,
            openpgp,
            notify_reporter,
            publish,
            security_txt,
            advisory,
            bulletin,
            metrics,
            monitor,
        })
    }

    /// `[metrics]`: an IP address and port (no host name: what it resolves to
    /// could change), on loopback unless `allow_remote = true` says the
    /// sysadmin wants the inbox's activity visible beyond this host.
    fn metrics(&mut self, raw: raw::RawMetrics) -> Option<Metrics> {
        let text = raw.listen?;
        let Ok(listen) = text.parse::<std::net::SocketAddr>() else {
            self.problem(
                "metrics.listen",
                format!("`{text}` is not an IP address and port like 127.0.0.1:9464"),
            );
            return None;
        };
        if !listen.ip().is_loopback() && !raw.allow_remote {
            self.problem(
                "metrics.listen",
                format!(
                    "`{text}` is not a loopback address: metrics show when reports arrive and \
                     mail fails; set `metrics.allow_remote = true` to serve them beyond this host"
                ),
            );
            return None;
        }
        Some(Metrics { listen })
    }

    /// `[bulletin]`: the list must be an address outside the program (mail
    /// to it would come back in as a report) and
    /// outside the team (the bulletin is public; members get their own mail).
    fn bulletin(
        &mut self,
        raw: raw::RawBulletin,
        program: Option<&Program>,
        team: &Team,
    ) -> Option<Bulletin> {
        let from_name = match raw.from_name {
            Some(name) if name.trim().is_empty() || name.chars().count() > 100 => {
                self.problem("bulletin.from_name", "must be 1 to 100 characters");
                return None;
            }
            Some(name) if name.chars().any(char::is_control) => {
                self.problem("bulletin.from_name", "must not contain control characters");
                return None;
            }
            Some(name) => name,
            None => program.map(|p| p.name.clone()).unwrap_or_default(),
        };
        let text = raw.address?;
        let Some(address) = Address::parse(&text) else {
            self.problem(
                "bulletin.address",
                format!("`{text}` is not a plain address like announce@lists.example.org"),
            );
            return None;
        };
        // A plain address has no `+`, so none of the program's plus-addresses
        // can be given either.
        if program.is_some_and(|p| p.address == address) {
            self.problem("bulletin.address", "must not be the program address");
            return None;
        }
        if team.members.iter().any(|m| m.email == address) {
            self.problem(
                "bulletin.address",
                "must not be a team member: the bulletin is public, the team gets its own mail",
            );
            return None;
        }
        Some(Bulletin { address, from_name })
    }

    fn program(&mut self, raw: raw::RawProgram) -> Option<Program> {
        if raw.name.trim().is_empty() {
            self.problem("program.name", "must not be empty");
        }
        let address = Address::parse(&raw.address);
        match &address {
            None => self.problem(
                "program.address",
                format!(
                    "`{}` is not a plain address like security@example.org",
                    raw.address
                ),
            ),
            Some(a) if a.local.contains('+') => self.problem(
                "program.address",
                "must not contain `+`: plus-addresses derive from it",
            ),
            Some(_) => {}
        }
        let prefix_ok = (2..=16).contains(&raw.id_prefix.len())
            && raw.id_prefix.starts_with(|c: char| c.is_ascii_uppercase())
            && raw
                .id_prefix
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !prefix_ok {
            self.problem(
                "program.id_prefix",
                format!(
                    "`{}` must be 2 to 16 upper-case letters or digits, starting with a letter",
                    raw.id_prefix
                ),
            );
        }
        let timezone = super::zone::time_zone(&raw.timezone).map_err(|err| {
            self.problem(
                "program.timezone",
                format!("`{}` is not an IANA time zone: {err}", raw.timezone),
            )
        });
        if !(raw.policy_url.starts_with("https://") || raw.policy_url.starts_with("http://")) {
            self.problem("program.policy_url", "must be an http(s) URL");
        }
        Some(Program {
            name: raw.name,
            address: address?,
            id_prefix: raw.id_prefix,
            timezone: timezone.ok()?,
            timezone_name: raw.timezone,
            policy_url: raw.policy_url,
        })
    }

    fn transport(&mut self, raw: RawTransport) -> TransportConfig {
        let (kind, initial, max, give_up) = match raw {
            RawTransport::File(f) => (
                TransportKind::File {
                    dir: self.path("transport.dir", &f.dir),
                },
                f.retry_initial,
                f.retry_max,
                f.give_up_after,
            ),
            RawTransport::Sendmail(s) => {
                let command = PathBuf::from(&s.command);
                if !command.is_absolute() {
                    self.problem("transport.command", "must be an absolute path");
                }
                (
                    TransportKind::Sendmail { command },
                    s.retry_initial,
                    s.retry_max,
                    s.give_up_after,
                )
            }
            RawTransport::Smtp(s) => {
                let server = self.server(
                    "transport",
                    ServerKeys {
                        host: s.host,
                        port: s.port,
                        tls: s.tls,
                        ca_file: s.ca_file,
                        timeout: s.timeout,
                    },
                    |tls| match tls {
                        TlsMode::Implicit => 465,
                        TlsMode::Starttls => 587,
                        TlsMode::None => 25,
                    },
                );
                let credentials = match (
                    s.username,
                    s.password.is_some() || s.password_file.is_some(),
                ) {
                    (None, false) => None,
                    (None, true) => {
                        self.problem("transport.username", "is required when a password is given");
                        None
                    }
                    (Some(username), _) => {
                        self.credentials("transport", username, s.password, s.password_file)
                    }
                };
                let connections = match s.connections.map(|n| usize::try_from(n).unwrap_or(0)) {
                    None => SmtpConfig::DEFAULT_CONNECTIONS,
                    Some(n) if (1..=SmtpConfig::MAX_CONNECTIONS).contains(&n) => n,
                    Some(_) => {
                        self.problem(
                            "transport.connections",
                            format!("must be 1 to {}", SmtpConfig::MAX_CONNECTIONS),
                        );
                        SmtpConfig::DEFAULT_CONNECTIONS
                    }
                };
                (
                    TransportKind::Smtp(SmtpConfig {
                        server,
                        credentials,
                        connections,
                    }),
                    s.retry_initial,
                    s.retry_max,
                    s.give_up_after,
                )
            }
        };
        let retry = Retry {
            initial: self.interval(
                "transport.retry_initial",
                initial.as_deref(),
                Duration::from_secs(60),
            ),
            max: self.interval(
                "transport.retry_max",
                max.as_deref(),
                Duration::from_secs(3600),
            ),
            give_up_after: self.interval(
                "transport.give_up_after",
                give_up.as_deref(),
                Duration::from_secs(3 * 24 * 3600),
            ),
        };
        if retry.max < retry.initial {
            self.problem(
                "transport.retry_max",
                "must not be shorter than `transport.retry_initial`",
            );
        }
        TransportConfig { kind, retry }
    }

    fn imap(&mut self, raw: raw::RawImapSource) -> ImapConfig {
        let server = self.server(
            "source",
            ServerKeys {
                host: raw.host,
                port: raw.port,
                tls: raw.tls,
                ca_file: raw.ca_file,
                timeout: raw.timeout,
            },
            |tls| if tls == TlsMode::Implicit { 993 } else { 143 },
        );
        let credentials = self
            .credentials("source", raw.username, raw.password, raw.password_file)
            .unwrap_or_else(|| Credentials {
                username: String::new(),
                password: Secret(String::new()),
            });
        for (key, name) in [
            ("source.mailbox", Some(&raw.mailbox)),
            ("source.processed_mailbox", raw.processed_mailbox.as_ref()),
        ] {
            if let Some(name) = name
                && (name.trim().is_empty() || name.contains(['\r', '\n', '"']))
            {
                self.problem(key, "must be a mailbox name without quotes or line breaks");
            }
        }
        if raw.processed_mailbox.as_ref() == Some(&raw.mailbox) {
            self.problem(
                "source.processed_mailbox",
                "must differ from `source.mailbox`",
            );
        }
        ImapConfig {
            server,
            credentials,
            mailbox: raw.mailbox,
            processed_mailbox: raw.processed_mailbox,
            idle: raw.idle,
            poll_interval: self.interval(
                "source.poll_interval",
                raw.poll_interval.as_deref(),
                Duration::from_secs(60),
            ),
        }
    }

    /// The connection keys shared by `[source]` (IMAP) and `[transport]` (SMTP).
    fn server(
        &mut self,
        section: &str,
        raw: ServerKeys,
        default_port: impl Fn(TlsMode) -> u16,
    ) -> Server {
        let host = raw.host.trim().to_owned();
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
            self.problem(&format!("{section}.host"), "must be a host name or address");
        }
        let tls = match raw.tls.as_deref() {
            None | Some("implicit") => TlsMode::Implicit,
            Some("starttls") => TlsMode::Starttls,
            Some("none") => TlsMode::None,
            Some(other) => {
                self.problem(
                    &format!("{section}.tls"),
                    format!("`{other}` is not one of implicit, starttls, none"),
                );
                TlsMode::Implicit
            }
        };
        if tls == TlsMode::None && !is_loopback(&host) {
            self.problem(
                &format!("{section}.tls"),
                format!("\"none\" sends passwords and mail in clear; it is allowed only for loopback hosts, not `{host}`"),
            );
        }
        let port = match raw.port {
            Some(0) => {
                self.problem(&format!("{section}.port"), "must be 1 to 65535");
                0
            }
            Some(port) => port,
            None => default_port(tls),
        };
        let ca_file = raw
            .ca_file
            .map(|f| self.path(&format!("{section}.ca_file"), &f));
        let timeout = self.interval(
            &format!("{section}.timeout"),
            raw.timeout.as_deref(),
            Duration::from_secs(60),
        );
        Server {
            host,
            port,
            tls,
            ca_file,
            timeout,
        }
    }

    /// `username` with exactly one of `password` and `password_file`.
    fn credentials(
        &mut self,
        section: &str,
        username: String,
        password: Option<String>,
        password_file: Option<String>,
    ) -> Option<Credentials> {
        if username.trim().is_empty() {
            self.problem(&format!("{section}.username"), "must not be empty");
        }
        let password = match (password, password_file) {
            (Some(_), Some(_)) => {
                self.problem(
                    &format!("{section}.password_file"),
                    "give either `password` or `password_file`, not both",
                );
                return None;
            }
            (None, None) => {
                self.problem(
                    &format!("{section}.password_file"),
                    "is required (or `password`, which keeps the secret in this file)",
                );
                return None;
            }
            (Some(p), None) if p.is_empty() => {
                self.problem(&format!("{section}.password"), "must not be empty");
                return None;
            }
            (Some(p), None) => Secret(p),
            (None, Some(file)) => {
                let key = format!("{section}.password_file");
                let path = self.path(&key, &file);
                match read_secret_file(&key, &path) {
                    Ok(secret) => secret,
                    Err(problem) => {
                        self.problems.push(problem);
                        return None;
                    }
                }
            }
        };
        Some(Credentials { username, password })
    }

    fn sla(&mut self, raw: raw::RawSla) -> Sla {
        let names = raw.business_days.unwrap_or_else(|| {
            ["Mon", "Tue", "Wed", "Thu", "Fri"]
                .map(String::from)
                .to_vec()
        });
        let mut business_days = Vec::new();
        for name in &names {
            match weekday(name) {
                Some(day) if !business_days.contains(&day) => business_days.push(day),
                Some(_) => self.problem("sla.business_days", format!("`{name}` is listed twice")),
                None => self.problem(
                    "sla.business_days",
                    format!("`{name}` is not a weekday (Mon … Sun)"),
                ),
            }
        }
        if business_days.is_empty() {
            self.problem("sla.business_days", "must name at least one weekday");
        }
        let mut holidays = Vec::new();
        for text in raw.holidays.unwrap_or_default() {
            match text.parse::<Date>() {
                Ok(date) => holidays.push(date),
                Err(err) => self.problem(
                    "sla.holidays",
                    format!("`{text}` is not a date like 2026-12-25: {err}"),
                ),
            }
        }
        holidays.sort();
        let escalate_to = raw.escalate_to;
        if let Some(addr) = &escalate_to
            && Address::parse(addr).is_none()
        {
            self.problem("sla.escalate_to", format!("`{addr}` is not an address"));
        }
        Sla {
            business_days,
            holidays,
            acknowledge: self.policy("sla.acknowledge", raw.acknowledge, "5 business days"),
            triage: self.policy("sla.triage", raw.triage, "10 business days"),
            update_every: self.policy("sla.update_every", raw.update_every, "14 days"),
            fix: self.policy("sla.fix", raw.fix, "90 days"),
            fix_max: self.policy("sla.fix_max", raw.fix_max, "120 days"),
            disclose_after_fix: self.policy(
                "sla.disclose_after_fix",
                raw.disclose_after_fix,
                "30 days",
            ),
            remind_before: self.policy("sla.remind_before", raw.remind_before, "2 business days"),
            escalate_to,
            working_hours: self.working_hours(raw.working_hours.as_deref()),
            digest: self.digest(raw.digest.as_deref()),
            by_severity: self.fix_by_severity(raw.severity.unwrap_or_default()),
        }
    }

    /// `[sla.severity.*]`: each entry needs both `fix` and `fix_max`, in the
    /// same kind of days (extensions add days), `fix_max` not shorter.
    fn fix_by_severity(&mut self, raw: raw::RawSeverities) -> BTreeMap<Severity, FixPolicy> {
        let mut out = BTreeMap::new();
        let entries = [
            (Severity::Critical, raw.critical),
            (Severity::High, raw.high),
            (Severity::Medium, raw.medium),
            (Severity::Low, raw.low),
        ];
        for (severity, entry) in entries {
            let Some(entry) = entry else { continue };
            let table = format!("sla.severity.{severity}");
            let one = |v: &mut Self, name: &str, value: Option<String>| {
                let key = format!("{table}.{name}");
                match value {
                    None => {
                        v.problem(&table, format!("`{name}` is missing"));
                        None
                    }
                    Some(text) => match text.parse::<PolicyDuration>() {
                        Ok(PolicyDuration::BusinessHours(_)) => {
                            v.problem(&key, "must be in days (calendar or business days), since #extend adds days");
                            None
                        }
                        Ok(d) => Some(d),
                        Err(err) => {
                            v.problem(&key, err.to_string());
                            None
                        }
                    },
                }
            };
            let fix = one(self, "fix", entry.fix);
            let fix_max = one(self, "fix_max", entry.fix_max);
            let (Some(fix), Some(fix_max)) = (fix, fix_max) else {
                continue;
            };
            match fix_days(&fix).zip(fix_days(&fix_max)) {
                Some(((f, business_f), (m, business_m))) if business_f == business_m => {
                    if m < f {
                        self.problem(
                            &format!("{table}.fix_max"),
                            format!("`{fix_max}` is shorter than fix (`{fix}`)"),
                        );
                        continue;
                    }
                }
                _ => {
                    self.problem(
                        &format!("{table}.fix_max"),
                        format!("`{fix_max}` and fix (`{fix}`) count different kinds of days"),
                    );
                    continue;
                }
            }
            out.insert(severity, FixPolicy { fix, fix_max });
        }
        out
    }

    fn working_hours(&mut self, raw: Option<&str>) -> (Time, Time) {
        let default = DEFAULT_WORKING_HOURS;
        let Some(text) = raw else { return default };
        let parsed = text
            .split_once('-')
            .and_then(|(a, b)| Some((clock_time(a)?, clock_time(b)?)));
        match parsed {
            Some((start, end)) if start < end => (start, end),
            Some(_) => {
                self.problem(
                    "sla.working_hours",
                    format!("`{text}` ends before it starts"),
                );
                default
            }
            None => {
                self.problem(
                    "sla.working_hours",
                    format!("`{text}` is not a range like \"09:00-17:00\""),
                );
                default
            }
        }
    }

    fn digest(&mut self, raw: Option<&str>) -> Option<(Weekday, Time)> {
        let default = Some(DEFAULT_DIGEST);
        let Some(text) = raw else { return default };
        if text.trim().eq_ignore_ascii_case("off") {
            return None;
        }
        let parsed = text
            .split_once(char::is_whitespace)
            .and_then(|(day, time)| Some((weekday(day.trim())?, clock_time(time)?)));
        if parsed.is_none() {
            self.problem(
                "sla.digest",
                format!("`{text}` is not a weekly time like \"Mon 09:00\" (or \"off\")"),
            );
        }
        parsed.or(default)
    }

    fn team(&mut self, raw: raw::RawTeam, program: Option<&Address>) -> Team {
        let mut members: Vec<Member> = Vec::new();
        for (i, m) in raw.members.into_iter().enumerate() {
            let key = format!("team.members[{i}].email");
            let Some(email) = Address::parse(&m.email) else {
                self.problem(&key, format!("`{}` is not an address", m.email));
                continue;
            };
            if program.is_some_and(|p| p.domain == email.domain && p.local == email.local) {
                self.problem(&key, "must not be the program address");
            }
            if members.iter().any(|other| other.email == email) {
                self.problem(&key, format!("`{email}` is listed twice"));
            }
            let key_path = m
                .key
                .map(|k| self.path(&format!("team.members[{i}].key"), &k));
            members.push(Member {
                name: m.name,
                email,
                key: key_path,
            });
        }
        let defaults = Team::default();
        let command_auth = match raw.command_auth {
            None => defaults.command_auth,
            Some(list) => {
                let mut methods = Vec::new();
                for (i, name) in list.iter().enumerate() {
                    match name.as_str() {
                        "openpgp" => methods.push(AuthMethod::OpenPgp),
                        "dkim" => methods.push(AuthMethod::Dkim),
                        other => self.problem(
                            &format!("team.command_auth[{i}]"),
                            format!("`{other}` is not a method (one of: openpgp, dkim)"),
                        ),
                    }
                }
                if list.is_empty() {
                    self.problem(
                        "team.command_auth",
                        "must name at least one method (openpgp, dkim)",
                    );
                }
                methods
            }
        };
        let trusted_authserv_id = raw
            .trusted_authserv_id
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty());
        if command_auth.contains(&AuthMethod::Dkim) && trusted_authserv_id.is_none() {
            self.problem(
                "team.trusted_authserv_id",
                "is required when team.command_auth includes \"dkim\": only that server's Authentication-Results are trusted",
            );
        }
        let signature_max_age = match raw.signature_max_age.as_deref().map(duration::parse_age) {
            None => defaults.signature_max_age,
            Some(Ok(d)) if !d.is_zero() => d,
            Some(Ok(_)) => {
                self.problem("team.signature_max_age", "must be longer than zero");
                defaults.signature_max_age
            }
            Some(Err(err)) => {
                self.problem("team.signature_max_age", err.to_string());
                defaults.signature_max_age
            }
        };
        let without_key = match raw.without_key.as_deref() {
            None | Some("metadata") => WithoutKey::Metadata,
            Some("refuse") => WithoutKey::Refuse,
            Some(other) => {
                self.problem(
                    "team.without_key",
                    format!("`{other}` is not one of: metadata, refuse"),
                );
                WithoutKey::Metadata
            }
        };
        if without_key == WithoutKey::Refuse {
            for (i, m) in members.iter().enumerate() {
                if m.key.is_none() {
                    self.problem(
                        &format!("team.members[{i}].key"),
                        format!(
                            "is required for {} because team.without_key = \"refuse\"",
                            m.email
                        ),
                    );
                }
            }
        }
        Team {
            members,
            command_auth,
            trusted_authserv_id,
            signature_max_age,
            without_key,
        }
    }

    fn openpgp(&mut self, raw: raw::RawOpenPgp) -> OpenPgp {
        let default_expiry = OpenPgp::default().key_confirmation_expiry;
        let key_confirmation_expiry = match raw
            .key_confirmation_expiry
            .as_deref()
            .map(duration::parse_age)
        {
            None => default_expiry,
            Some(Ok(d)) if !d.is_zero() => d,
            Some(Ok(_)) => {
                self.problem(
                    "openpgp.key_confirmation_expiry",
                    "must be longer than zero",
                );
                default_expiry
            }
            Some(Err(err)) => {
                self.problem("openpgp.key_confirmation_expiry", err.to_string());
                default_expiry
            }
        };
        let secret_keys = raw
            .secret_keys
            .iter()
            .enumerate()
            .map(|(i, k)| self.path(&format!("openpgp.secret_keys[{i}]"), k))
            .collect();
        OpenPgp {
            secret_keys,
            passphrase_file: raw
                .passphrase_file
                .map(|p| self.path("openpgp.passphrase_file", &p)),
            keyring: raw.keyring.map(|p| self.path("openpgp.keyring", &p)),
            key_url: raw.key_url,
            key_confirmation_expiry,
        }
    }
}

impl Validator<'_> {
    /// `[monitor]`: spans longer than zero, a share of the disk below 100, and
    /// a canary address that is neither the program's (mail from it would
    /// be taken for a spoof of our own) nor a member's (it would be read as
    /// commands), with a team key to sign the canary.
    fn monitor(
        &mut self,
        raw: raw::RawMonitor,
        program: Option<&Program>,
        team: &Team,
        openpgp: &OpenPgp,
    ) -> Monitor {
        let key = "monitor.canary_address";
        let canary_address = raw.canary_address.and_then(|text| {
            let Some(address) = Address::parse(&text) else {
                self.problem(
                    key,
                    format!("`{text}` is not a plain address like canary@example.net"),
                );
                return None;
            };
            if program.is_some_and(|p| {
                crate::thread::is_program_address(&address.to_string(), &p.address)
            }) {
                self.problem(key, "must not be the program address");
                return None;
            }
            if team.members.iter().any(|m| m.email == address) {
                self.problem(
                    key,
                    "must not be a team member: its mail would be read as commands",
                );
                return None;
            }
            if openpgp.secret_keys.is_empty() {
                self.problem(
                    key,
                    "needs the team's signing key (`[openpgp] secret_keys`) to sign the canary",
                );
                return None;
            }
            Some(address)
        });
        let defaults = Monitor::default();
        let min_free_percent = match raw.min_free_percent {
            None => defaults.min_free_percent,
            Some(p) if p < 100 => p,
            Some(p) => {
                self.problem(
                    "monitor.min_free_percent",
                    format!("{p} is not a share below 100 (percent)"),
                );
                defaults.min_free_percent
            }
        };
        Monitor {
            enabled: raw.enabled.unwrap_or(defaults.enabled),
            alert_after: self.interval(
                "monitor.alert_after",
                raw.alert_after.as_deref(),
                defaults.alert_after,
            ),
            outbox_after: self.interval(
                "monitor.outbox_after",
                raw.outbox_after.as_deref(),
                defaults.outbox_after,
            ),
            quiet_days: raw.quiet_days.unwrap_or(defaults.quiet_days),
            min_free_percent,
            canary_address,
        }
    }

    fn publish(&mut self, raw: raw::RawPublish) -> Publish {
        let base_url = raw.base_url.and_then(|url| {
            let url = url.trim_end_matches('/').to_owned();
            self.https_url("publish.base_url", url)
        });
        Publish {
            base_url,
            dir: raw.dir.map(|d| self.path("publish.dir", &d)),
        }
    }

    fn security_txt(&mut self, raw: raw::RawSecurityTxt) -> SecurityTxt {
        let expires = raw.expires.and_then(|text| match text.parse::<Date>() {
            Ok(day) => Some(day),
            Err(_) => {
                self.problem(
                    "security_txt.expires",
                    format!("`{text}` is not a day like \"2027-06-30\""),
                );
                None
            }
        });
        for (i, tag) in raw.languages.iter().enumerate() {
            let ok = !tag.is_empty()
                && tag.len() <= 35
                && tag.split('-').all(|part| {
                    !part.is_empty()
                        && part.len() <= 8
                        && part.chars().all(|c| c.is_ascii_alphanumeric())
                });
            if !ok {
                self.problem(
                    &format!("security_txt.languages[{i}]"),
                    format!("`{tag}` is not a language tag like \"en\" or \"pt-BR\""),
                );
            }
        }
        SecurityTxt {
            expires,
            languages: raw.languages,
            encryption: raw
                .encryption
                .and_then(|u| self.https_url("security_txt.encryption", u)),
            policy: raw
                .policy
                .and_then(|u| self.https_url("security_txt.policy", u)),
            acknowledgments: raw
                .acknowledgments
                .and_then(|u| self.https_url("security_txt.acknowledgments", u)),
            canonical: raw
                .canonical
                .and_then(|u| self.https_url("security_txt.canonical", u)),
        }
    }

    /// `url` if it is an `https://` URL with a host and nothing a line or an
    /// HTML attribute could break on.
    fn https_url(&mut self, key: &str, url: String) -> Option<String> {
        let host = url
            .strip_prefix("https://")
            .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
        let clean = !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"'`".contains(c));
        match host {
            Some(host) if !host.is_empty() && clean => Some(url),
            _ => {
                self.problem(key, format!("`{url}` is not an https:// URL"));
                None
            }
        }
    }
}

/// The connection keys of one server section, as written.
struct ServerKeys {
    host: String,
    port: Option<u16>,
    tls: Option<String>,
    ca_file: Option<String>,
    timeout: Option<String>,
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name.to_ascii_lowercase().get(..3)? {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

/// `HH:MM` on a 24-hour clock; `24:00` is the end of the day.
fn clock_time(text: &str) -> Option<Time> {
    let (h, m) = text.trim().split_once(':')?;
    if m.len() != 2 {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(Time::MAX),
        (0..=23, 0..=59) => Time::new(h, m, 0, 0).ok(),
        _ => None,
    }
}

/// Reads a secret from a `*_file` key (e.g. a systemd credential): the file's
/// content without its trailing newline. The error names the key and the file,
/// never the content.
pub fn read_secret_file(key: &str, path: &Path) -> Result<Secret, KeyProblem> {
    let text = std::fs::read_to_string(path).map_err(|err| KeyProblem {
        key: key.to_owned(),
        message: format!("cannot read {}: {err}", path.display()),
        at: None,
    })?;
    let secret = text.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        return Err(KeyProblem {
            key: key.to_owned(),
            message: format!("{} is empty", path.display()),
            at: None,
        });
    }
    Ok(Secret(secret))
}

/// `[notify_reporter]` with its defaults filled in. The types (booleans) and
/// the key names (no others) are checked when the file is read.
fn notify_reporter(raw: &raw::RawNotifyReporter) -> NotifyReporter {
    let d = NotifyReporter::default();
    NotifyReporter {
        triaged: raw.triaged.unwrap_or(d.triaged),
        accepted: raw.accepted.unwrap_or(d.accepted),
        fixed: raw.fixed.unwrap_or(d.fixed),
        risk_accepted: raw.risk_accepted.unwrap_or(d.risk_accepted),
        disclosed: raw.disclosed.unwrap_or(d.disclosed),
    }
}
