//! `disclosed key …` and the key parts of `init` and `check`: generate the team
//! key, list the keys the configuration names, export the public key for
//! `/.well-known/pgp-key.txt` and `security.txt`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;
use jiff::{SignedDuration, Timestamp};
use sequoia_openpgp::Cert;

use crate::config::Config;
use crate::crypto::keys::{self, KeyError, KeyInfo, TeamKeys};

use super::CliError;
use super::output::{out, outln};

/// Keys this close to expiry are warned about.
const WARN_BEFORE: SignedDuration = SignedDuration::from_hours(30 * 24);

/// Where the team key lives on an installed system: read by the service user,
/// who owns it (mode 0600), and by root's `disclosed key list`, `sla` and
/// `check`; `/etc` is read-only inside the unit's sandbox.
pub const KEY_HOME: &str = "/etc/disclosed/keys/team.key";

/// systemd's credential directories: a tmpfs that systemd fills from other
/// files at each start of a unit and empties when it stops.
const CREDENTIALS_DIRS: [&str; 2] = ["/run/credentials", "/var/run/credentials"];

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a team key and write it, secret, to a new file (mode 0600)
    Generate {
        /// The key's user id [default: "<program.name> Security Team <program.address>"]
        #[arg(long, value_name = "USERID")]
        userid: Option<String>,
        /// Where to write the key [default: the first `openpgp.secret_keys`]; never overwritten
        #[arg(long, value_name = "PATH")]
        output: Option<PathBuf>,
        /// Days until the key expires
        #[arg(long, value_name = "DAYS", default_value_t = 730,
              value_parser = clap::value_parser!(u32).range(1..=36500))]
        validity_days: u32,
    },
    /// List the team's keys (the first signs, all decrypt) and the members' keys
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Print the current team key's public key, armored (for /.well-known/pgp-key.txt)
    Export {
        /// Every team key, not only the current one
        #[arg(long)]
        all: bool,
    },
    /// Confirm a correspondent's key for the team (it then receives confidential
    /// mail, and mail held for the address is released to it at once); see
    /// `report ID` for the keys and their trust
    Accept {
        /// The correspondent's address
        address: String,
        /// The key's fingerprint (spaces allowed)
        fingerprint: String,
        /// Who vouches for it, for the event log [default: $USER]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
}

pub(super) fn run(
    loaded: &crate::settings::Loaded,
    command: KeyCommand,
    now: Timestamp,
) -> Result<(), CliError> {
    let config = &loaded.config;
    match command {
        KeyCommand::Generate {
            userid,
            output,
            validity_days,
        } => {
            let path = output
                .or_else(|| config.openpgp.secret_keys.first().cloned())
                .ok_or_else(|| {
                    CliError::Usage(format!(
                        "no file to write the key to: give --output PATH or set `openpgp.secret_keys` in {}",
                        config.path.display()
                    ))
                })?;
            let validity = Duration::from_secs(u64::from(validity_days) * 24 * 60 * 60);
            generate(config, &path, userid.as_deref(), validity, now)?;
            if !config.openpgp.secret_keys.contains(&path) {
                outln!(
                    "add it to `openpgp.secret_keys` in {} to use it",
                    config.path.display()
                );
            }
            Ok(())
        }
        KeyCommand::List { json } => list(config, json, now),
        KeyCommand::Accept {
            address,
            fingerprint,
            by,
        } => {
            let by = by
                .or_else(|| std::env::var("USER").ok())
                .filter(|b| !b.trim().is_empty())
                .unwrap_or_else(|| "unknown".to_owned());
            accept(loaded, &address, &fingerprint, &by, now)
        }
        KeyCommand::Export { all } => {
            let mut certs = Vec::new();
            for (i, path) in config.openpgp.secret_keys.iter().enumerate() {
                let key = format!("openpgp.secret_keys[{i}]");
                certs.extend(keys::read_secret_keys(path).map_err(|e| usage(config, &key, &e))?);
            }
            let text = match certs.first() {
                None => {
                    return Err(CliError::Usage(format!(
                        "no team key to export: `openpgp.secret_keys` is empty in {}",
                        config.path.display()
                    )));
                }
                Some(current) if !all => keys::export_public(current),
                Some(_) => keys::export_public_all(&certs),
            }
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            out!("{text}");
            Ok(())
        }
    }
}

/// `disclosed key accept`: the team vouches for a key (one that arrived
/// while another was in use, or one no round trip confirmed yet). Recorded as
/// an event on each report the address is in; mail held for the address is
/// sealed to the key and queued now (sent by the daemon's next delivery), so
/// the team keys must load.
fn accept(
    loaded: &crate::settings::Loaded,
    address: &str,
    fingerprint: &str,
    by: &str,
    now: Timestamp,
) -> Result<(), CliError> {
    let address = address.trim().to_lowercase();
    let fingerprint: String = fingerprint
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let config = &loaded.config;
    let crypto = super::load_crypto(config, now)?;
    let mailer = crate::respond::queue::Mailer {
        config,
        templates: &loaded.templates,
        crypto: &crypto,
    };
    let mut store = super::open_existing(config)?;
    let outcome = store
        .write(|w| mailer.accept_key(&w.tx(), &address, &fingerprint, by, now))
        .map_err(anyhow::Error::from)?;
    let Some(outcome) = outcome else {
        return Err(CliError::Other(anyhow::anyhow!(
            "no key {fingerprint} is stored for {address}; `disclosed report ID` lists the keys of a report's participants"
        )));
    };
    if outcome.already {
        outln!("{fingerprint} already is the confirmed key in use for {address}");
        return Ok(());
    }
    outln!("{fingerprint} is now the confirmed key in use for {address}");
    if outcome.released > 0 {
        outln!(
            "{} held mail(s) sealed to it and queued; the daemon sends them",
            outcome.released
        );
    }
    Ok(())
}

/// `disclosed init --generate-key`: the first key file, generated unless it
/// exists.
pub(super) fn init_generate(
    config: &Config,
    userid: Option<&str>,
    now: Timestamp,
) -> Result<(), CliError> {
    let Some(path) = config.openpgp.secret_keys.first() else {
        return Err(CliError::Usage(format!(
            "--generate-key needs a file to write: set `openpgp.secret_keys` in {}",
            config.path.display()
        )));
    };
    if path.symlink_metadata().is_ok() {
        outln!("key file {} exists; left as it is", path.display());
        return Ok(());
    }
    generate(config, path, userid, keys::DEFAULT_VALIDITY, now)
}

/// Generates a key into `path` (a new file), encrypted with the configured
/// passphrase, and says what it did.
fn generate(
    config: &Config,
    path: &Path,
    userid: Option<&str>,
    validity: Duration,
    now: Timestamp,
) -> Result<(), CliError> {
    // A secret key written to a credential directory is gone at the next stop
    // or reboot, with every report encrypted to it still unread.
    if under_credentials(path) {
        return Err(CliError::Usage(format!(
            "not writing the team key to {}: /run/credentials is a temporary copy that systemd \
             makes at each start and removes at each stop, so the key would be lost. Write it \
             to {KEY_HOME} (owned by the service user, mode 0600) and name that file in \
             `openpgp.secret_keys`: runuser -u disclosed -- disclosed key generate --output {KEY_HOME}",
            path.display()
        )));
    }
    // Before any work: an existing key is never replaced.
    if path.symlink_metadata().is_ok() {
        return Err(CliError::Usage(format!(
            "{} already exists; not overwriting it",
            path.display()
        )));
    }
    let passphrase = config
        .openpgp
        .passphrase_file
        .as_deref()
        .map(keys::read_passphrase)
        .transpose()
        .map_err(|e| usage(config, "openpgp.passphrase_file", &e))?;
    let userid = userid.map_or_else(
        || {
            format!(
                "{} Security Team <{}>",
                config.program.name, config.program.address
            )
        },
        str::to_owned,
    );
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
    }
    let cert = keys::generate(&userid, now, Some(validity), passphrase.as_ref())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    keys::write_secret(path, &cert).map_err(|e| match e {
        KeyError::Exists { .. } => CliError::Usage(e.to_string()),
        _ => CliError::Other(anyhow::anyhow!("{e}")),
    })?;
    let info = keys::key_info(&cert, now);
    outln!(
        "generated key {} for {userid}, expires {}{}",
        info.fingerprint,
        info.expires
            .map_or_else(|| "never".to_owned(), |at| date(at, config)),
        if passphrase.is_some() {
            ", encrypted with the passphrase from `openpgp.passphrase_file`"
        } else {
            ""
        }
    );
    outln!("wrote the secret key to {} (mode 0600)", path.display());
    Ok(())
}

/// Whether `path` lies in a systemd credential directory, by its name with `.`
/// and `..` resolved, or through symbolic links in the part that exists.
fn under_credentials(path: &Path) -> bool {
    use std::path::Component;
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut lexical = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::ParentDir => {
                lexical.pop();
            }
            Component::CurDir => {}
            other => lexical.push(other),
        }
    }
    let resolved = absolute.ancestors().find_map(|a| a.canonicalize().ok());
    [Some(lexical), resolved]
        .iter()
        .flatten()
        .any(|p| CREDENTIALS_DIRS.iter().any(|dir| p.starts_with(dir)))
}

/// What the configured keys amount to, for `check` and `init`.
pub(super) struct KeySurvey {
    /// e.g. "2 team keys (signing ABCD…), 1 member key, keyring 3 keys".
    pub summary: String,
    /// Keys that expire soon (or, for members, have expired).
    pub warnings: Vec<String>,
}

/// A key the configuration names that cannot be used: which setting, and why.
pub(super) struct KeyProblem {
    pub key: String,
    pub error: KeyError,
}

impl KeyProblem {
    /// As a configuration error (exit 2), naming the file and the setting.
    pub fn into_usage(self, config: &Config) -> CliError {
        usage(config, &self.key, &self.error)
    }
}

impl std::fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.key, self.error)
    }
}

/// Loads every key the configuration names as the daemon would: the team keys
/// unlocked, the members' keys, the keyring.
pub(super) fn survey(config: &Config, now: Timestamp) -> Result<KeySurvey, KeyProblem> {
    let problem = |key: &str| {
        let key = key.to_owned();
        move |error| KeyProblem { key, error }
    };
    let mut parts = Vec::new();
    let mut warnings = Vec::new();
    let soon = now.checked_add(WARN_BEFORE).unwrap_or(now);

    match TeamKeys::load(&config.openpgp, now).map_err(problem("openpgp.secret_keys"))? {
        None => parts.push("no team key".to_owned()),
        Some(team) => {
            parts.push(format!(
                "{} (signing {})",
                count(team.certs().len(), "team key"),
                team.current().fingerprint().to_hex()
            ));
            for cert in team.certs() {
                let info = keys::key_info(cert, now);
                if let Some(at) = info.expires.filter(|at| *at > now && *at <= soon) {
                    warnings.push(format!(
                        "team key {} ({}) expires on {}",
                        info.fingerprint,
                        first_uid(&info),
                        date(at, config)
                    ));
                }
            }
        }
    }

    let mut members = 0;
    for (i, member) in config.team.members.iter().enumerate() {
        let Some(path) = &member.key else { continue };
        let cert =
            keys::load_public_cert(path).map_err(problem(&format!("team.members[{i}].key")))?;
        members += 1;
        let info = keys::key_info(&cert, now);
        match info.expires {
            Some(at) if at <= now => warnings.push(format!(
                "{}'s key {} expired on {}: mail to them cannot be encrypted",
                member.name,
                info.fingerprint,
                date(at, config)
            )),
            Some(at) if at <= soon => warnings.push(format!(
                "{}'s key {} expires on {}",
                member.name,
                info.fingerprint,
                date(at, config)
            )),
            _ => {}
        }
    }
    parts.push(if members == 0 {
        "no member keys".to_owned()
    } else {
        count(members, "member key")
    });

    if let Some(path) = &config.openpgp.keyring {
        let keyring = keys::load_keyring(path).map_err(problem("openpgp.keyring"))?;
        parts.push(format!("keyring {}", count(keyring.len(), "key")));
    }
    Ok(KeySurvey {
        summary: parts.join(", "),
        warnings,
    })
}

/// One row of `disclosed key list`.
#[derive(Debug, serde::Serialize)]
struct ListedKey {
    /// "signs", "decrypt-only" or "member".
    role: &'static str,
    /// The member's name, for member keys.
    member: Option<String>,
    file: PathBuf,
    fingerprint: String,
    user_ids: Vec<String>,
    created: Timestamp,
    /// `null`: never.
    expires: Option<Timestamp>,
    expired: bool,
    /// Whether it has a signing key that is valid now.
    can_sign: bool,
}

fn list(config: &Config, as_json: bool, now: Timestamp) -> Result<(), CliError> {
    let listed = |role, member: Option<&str>, file: &Path, cert: &Cert| {
        let info = keys::key_info(cert, now);
        ListedKey {
            role,
            member: member.map(str::to_owned),
            file: file.to_path_buf(),
            expired: info.expires.is_some_and(|at| at <= now),
            fingerprint: info.fingerprint,
            user_ids: info.user_ids,
            created: info.created,
            expires: info.expires,
            can_sign: info.signs,
        }
    };
    let mut rows = Vec::new();
    for (i, path) in config.openpgp.secret_keys.iter().enumerate() {
        // Listing needs no passphrase: the secret parts stay as they are.
        let certs = keys::read_secret_keys(path)
            .map_err(|e| usage(config, &format!("openpgp.secret_keys[{i}]"), &e))?;
        for cert in &certs {
            let role = if rows.is_empty() {
                "signs"
            } else {
                "decrypt-only"
            };
            rows.push(listed(role, None, path, cert));
        }
    }
    for (i, member) in config.team.members.iter().enumerate() {
        let Some(path) = &member.key else { continue };
        let cert = keys::load_public_cert(path)
            .map_err(|e| usage(config, &format!("team.members[{i}].key"), &e))?;
        rows.push(listed("member", Some(&member.name), path, &cert));
    }

    if as_json {
        let text = serde_json::to_string_pretty(&rows)
            .map_err(|e| anyhow::anyhow!("cannot serialize: {e}"))?;
        // JSON keeps every character; only what a terminal obeys is escaped.
        println!("{}", super::output::json_terminal_safe(&text));
        return Ok(());
    }
    if config.openpgp.secret_keys.is_empty() {
        outln!("no team key (`openpgp.secret_keys` is empty)");
    }
    if rows.is_empty() {
        return Ok(());
    }
    let role = |r: &ListedKey| match &r.member {
        Some(name) => format!("member {name}"),
        None if r.role == "signs" => "signs".to_owned(),
        None => "decrypt only".to_owned(),
    };
    let width = rows
        .iter()
        .map(|r| role(r).chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    outln!(
        "{:<width$}  {:<40}  {:<10}  {:<18}  USER IDS",
        "ROLE",
        "FINGERPRINT",
        "CREATED",
        "EXPIRES"
    );
    for r in &rows {
        let expires = match r.expires {
            None => "never".to_owned(),
            Some(at) if r.expired => format!("{} expired", date(at, config)),
            Some(at) => date(at, config),
        };
        outln!(
            "{:<width$}  {:<40}  {:<10}  {:<18}  {}",
            role(r),
            r.fingerprint,
            date(r.created, config),
            expires,
            r.user_ids.join(", ")
        );
    }
    Ok(())
}

/// A key problem as a configuration error: exit 2, naming the config file and
/// the setting (the error itself names the key file).
fn usage(config: &Config, key: &str, err: &KeyError) -> CliError {
    match err {
        KeyError::Other(_) | KeyError::Write { .. } => {
            CliError::Other(anyhow::anyhow!("`{key}`: {err}"))
        }
        KeyError::Read { source, .. }
            if source.kind() == std::io::ErrorKind::NotFound
                && key.starts_with("openpgp.secret_keys") =>
        {
            CliError::Usage(format!(
                "{}: `{key}`: {err}; `disclosed key generate` creates it",
                config.path.display()
            ))
        }
        _ => CliError::Usage(format!("{}: `{key}`: {err}", config.path.display())),
    }
}

/// The day `at` falls on in the program's time zone.
pub(super) fn date(at: Timestamp, config: &Config) -> String {
    at.to_zoned_datetime(config.program.timezone.clone())
        .strftime("%Y-%m-%d")
        .to_string()
}

fn first_uid(info: &KeyInfo) -> &str {
    info.user_ids.first().map_or("no user id", String::as_str)
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_never_generated_into_a_credential_directory() {
        for path in [
            "/run/credentials/disclosed.service/team-key",
            "/run/credentials",
            "/var/run/credentials/disclosed.service/team-key",
            "/etc/../run/credentials/disclosed.service/team-key",
            "/run/./credentials/x",
        ] {
            assert!(under_credentials(Path::new(path)), "{path}");
        }
    }

    #[test]
    fn a_key_may_be_generated_into_its_home() {
        for path in [
            KEY_HOME,
            "/run/credentials-elsewhere/team.key",
            "/etc/disclosed/run/credentials/team.key",
        ] {
            assert!(!under_credentials(Path::new(path)), "{path}");
        }
    }
}
