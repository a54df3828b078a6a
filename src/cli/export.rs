//! `disclosed export ID --eml-dir DIR | --mbox FILE`: everything the store
//! holds of one report, in formats other tools read, so that nothing is
//! locked in.
//!
//! - The raw messages exactly as received, byte for byte: `NNN.eml` (NNN is
//!   the message's place in the report, from 001), or the entries of an mbox
//!   (mboxrd: lines starting `From ` or `>From `, `>>From `… get one more `>`,
//!   which mbox readers remove; no blank line is added between entries, so
//!   mail-parser's reader, and `disclosed import`, give back the same bytes).
//! - The readable entity of each encrypted message that could be decrypted:
//!   `NNN.decrypted.eml`, or the entries of `FILE.decrypted`.
//! - The report's attachments, numbered as `disclosed attachment` numbers
//!   them: `attachments/NN-<name>` (with --eml-dir; an mbox has them inside
//!   the messages).
//! - The report's fields, participants, messages' metadata and mail as
//!   `report.json`, and its event log as `events.json` (`FILE.report.json`,
//!   `FILE.events.json` beside an mbox).
//!
//! These hold decrypted reports: files are created `0600` and directories
//! `0700` whatever the umask, and nothing is written into a directory that is
//! not empty, or over an existing file, without `--force`.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::output::outln;
use super::{CliError, failed, load_crypto, open_existing, suffixed};
use crate::config::Config;
use crate::parse::{self, ParseLimits};
use crate::report::ReportId;
use crate::store::{MessageView, Store};

/// Where `disclosed export` writes.
#[derive(Debug, Clone)]
pub enum Target {
    EmlDir(PathBuf),
    Mbox(PathBuf),
}

/// One message of the report as the store keeps it.
struct Exported {
    raw: Option<Vec<u8>>,
    decrypted: Option<Vec<u8>>,
}

/// Creates `path` (mode 0600, replaced only with `force`) holding `data`.
fn write_private(path: &Path, data: &[u8], force: bool) -> Result<(), CliError> {
    let mut options = OpenOptions::new();
    options.write(true).mode(0o600);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let cannot = |err: std::io::Error| failed(format!("cannot write {}: {err}", path.display()));
    let mut file = options.open(path).map_err(cannot)?;
    // The mode given to open(2) is masked by the umask, and an existing file
    // keeps its own; fchmod sets exactly 0600.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(cannot)?;
    file.write_all(data)
        .and_then(|()| file.sync_all())
        .map_err(cannot)
}

fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .and_then(|()| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
        .map_err(|err| failed(format!("cannot create {}: {err}", dir.display())))
}

/// Appends `message` to `mbox` as one mboxrd entry. The `From ` line names the
/// sender (or `MAILER-DAEMON`) and the time the store received it.
pub fn mbox_entry(mbox: &mut Vec<u8>, from: Option<&str>, received: Timestamp, message: &[u8]) {
    let sender = from
        .filter(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("MAILER-DAEMON");
    mbox.extend_from_slice(
        format!(
            "From {sender} {}\n",
            received.strftime("%a %b %e %H:%M:%S %Y")
        )
        .as_bytes(),
    );
    for line in message.split_inclusive(|&b| b == b'\n') {
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        if line[quotes..].starts_with(b"From ") {
            mbox.push(b'>');
        }
        mbox.extend_from_slice(line);
    }
    // An entry ends at a line end, or the next `From ` line would join its last line.
    if !message.ends_with(b"\n") {
        mbox.push(b'\n');
    }
}

/// A file name from a mail-supplied attachment name: letters, digits, `.`, `-`
/// and `_` only, no leading dot, at most 80 characters.
fn safe_name(name: Option<&str>) -> String {
    let cleaned: String = name
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        "attachment".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// Whether `dir` is missing or empty.
fn empty_or_missing(dir: &Path) -> Result<bool, CliError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(err) => Err(failed(format!("cannot read {}: {err}", dir.display()))),
    }
}

/// Exports report `id` to `target`.
pub fn export(
    config: &Config,
    id: &str,
    target: &Target,
    force: bool,
    now: Timestamp,
) -> Result<(), CliError> {
    let Some(report) = ReportId::parse(&config.program.id_prefix, id) else {
        return Err(CliError::Usage(format!(
            "`{id}` is not a report id like {}-2026-0042",
            config.program.id_prefix
        )));
    };
    // Refused before anything is read or decrypted.
    match target {
        Target::EmlDir(dir) => {
            if !force && !empty_or_missing(dir)? {
                return Err(failed(format!(
                    "{} is not empty; pass --force to write into it",
                    dir.display()
                )));
            }
        }
        Target::Mbox(file) => {
            if !force {
                for path in [
                    file.clone(),
                    suffixed(file, ".decrypted"),
                    suffixed(file, ".report.json"),
                    suffixed(file, ".events.json"),
                ] {
                    if path.exists() {
                        return Err(failed(format!(
                            "{} already exists; pass --force to replace it",
                            path.display()
                        )));
                    }
                }
            }
        }
    }
    let store = open_existing(config)?;
    let detail = store
        .read()
        .report_detail(&report)
        .map_err(anyhow::Error::from)?
        .ok_or_else(|| anyhow::anyhow!("no report {report} in {}", store.path().display()))?;
    let messages = load_messages(config, &store, &detail.messages, now)?;
    let report_json = serde_json::to_vec_pretty(&detail).map_err(anyhow::Error::from)?;
    let events_json = serde_json::to_vec_pretty(&detail.events).map_err(anyhow::Error::from)?;
    let missing = messages.iter().filter(|m| m.raw.is_none()).count();
    let decrypted = messages.iter().filter(|m| m.decrypted.is_some()).count();
    let mut attachments = 0;
    match target {
        Target::EmlDir(dir) => {
            create_private_dir(dir)?;
            for (n, message) in messages.iter().enumerate() {
                let n = n + 1;
                if let Some(raw) = &message.raw {
                    write_private(&dir.join(format!("{n:03}.eml")), raw, force)?;
                }
                if let Some(inner) = &message.decrypted {
                    write_private(&dir.join(format!("{n:03}.decrypted.eml")), inner, force)?;
                }
            }
            let listed = store
                .read()
                .report_attachments(&report)
                .map_err(anyhow::Error::from)?;
            if !listed.is_empty() {
                let adir = dir.join("attachments");
                create_private_dir(&adir)?;
                let limits = ParseLimits::from_config(&config.limits);
                for wanted in &listed {
                    let Some(at) = detail.messages.iter().position(|m| m.id == wanted.message)
                    else {
                        continue;
                    };
                    let readable = messages[at]
                        .decrypted
                        .as_ref()
                        .or(messages[at].raw.as_ref());
                    let Some(found) = readable.and_then(|bytes| {
                        parse::attachment_contents(bytes, &limits)
                            .into_iter()
                            .find(|a| parse::sha256_hex(&a.data) == wanted.sha256)
                    }) else {
                        eprintln!(
                            "warning: attachment {} of {report} is not in its stored message",
                            wanted.number
                        );
                        continue;
                    };
                    let name =
                        format!("{:02}-{}", wanted.number, safe_name(wanted.name.as_deref()));
                    write_private(&adir.join(name), &found.data, force)?;
                    attachments += 1;
                }
            }
            write_private(&dir.join("report.json"), &report_json, force)?;
            write_private(&dir.join("events.json"), &events_json, force)?;
        }
        Target::Mbox(file) => {
            let mut raw_box = Vec::new();
            let mut inner_box = Vec::new();
            for (view, message) in detail.messages.iter().zip(&messages) {
                if let Some(raw) = &message.raw {
                    mbox_entry(&mut raw_box, view.from.as_deref(), view.received_at, raw);
                }
                if let Some(inner) = &message.decrypted {
                    mbox_entry(
                        &mut inner_box,
                        view.from.as_deref(),
                        view.received_at,
                        inner,
                    );
                }
            }
            write_private(file, &raw_box, force)?;
            if decrypted > 0 {
                write_private(&suffixed(file, ".decrypted"), &inner_box, force)?;
            }
            write_private(&suffixed(file, ".report.json"), &report_json, force)?;
            write_private(&suffixed(file, ".events.json"), &events_json, force)?;
        }
    }
    let place = match target {
        Target::EmlDir(dir) | Target::Mbox(dir) => dir.display(),
    };
    outln!(
        "exported {report} to {place}: {} message(s), {decrypted} decrypted, {attachments} attachment file(s), {} event(s)",
        messages.len() - missing,
        detail.events.len()
    );
    if missing > 0 {
        eprintln!(
            "warning: {missing} message(s) of {report} were too large to store and are not exported; they are still on the source"
        );
    }
    Ok(())
}

/// The stored bytes of each message, and its readable entity when it was
/// decrypted: the kept copy, or decrypted again with the team keys when none
/// was kept (loaded only then).
fn load_messages(
    config: &Config,
    store: &Store,
    views: &[MessageView],
    now: Timestamp,
) -> Result<Vec<Exported>, CliError> {
    let crypto = std::cell::OnceCell::new();
    let mut out = Vec::with_capacity(views.len());
    for view in views {
        let raw = store
            .read()
            .raw_message(&view.sha256)
            .map_err(anyhow::Error::from)?;
        let mut decrypted = store
            .read()
            .decrypted_message(view.id)
            .map_err(anyhow::Error::from)?;
        if decrypted.is_none()
            && view.encryption == "decrypted"
            && let Some(raw) = &raw
        {
            let keys = crypto.get_or_init(|| load_crypto(config, now).ok());
            decrypted = keys
                .as_ref()
                .and_then(|c| super::attachment::decrypt(config, c, raw, now));
            if decrypted.is_none() {
                eprintln!(
                    "warning: message {} could not be decrypted again; only its raw form is exported",
                    view.id
                );
            }
        }
        out.push(Exported { raw, decrypted });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(mbox: &[u8]) -> Vec<Vec<u8>> {
        mail_parser::mailbox::mbox::MessageIterator::new(mbox)
            .map(|m| m.expect("entry").contents().to_vec())
            .collect()
    }

    #[test]
    fn mbox_quoting_is_undone_by_mail_parsers_reader_byte_for_byte() {
        let at: Timestamp = "2026-12-04T19:35:07Z".parse().expect("time");
        let messages: [&[u8]; 4] = [
            b"From: a@example.net\r\nSubject: one\r\n\r\nFrom here\r\n>From there\r\n>>From far\r\n",
            b"From nobody Thu Jan  1 00:00:00 1970\nSubject: envelope line first\n\nbody\n\n",
            b"Subject: no From lines\n\n> quoted\n>> Fromage\n",
            b"Subject: three\n\nFrom \nFrom\n",
        ];
        let mut mbox = Vec::new();
        for m in messages {
            mbox_entry(&mut mbox, Some("a@example.net"), at, m);
        }
        let back = read_back(&mbox);
        assert_eq!(back.len(), messages.len());
        for (got, want) in back.iter().zip(messages) {
            assert_eq!(got.as_slice(), want);
        }
        assert!(mbox.starts_with(b"From a@example.net Fri Dec  4 19:35:07 2026\n"));
    }

    #[test]
    fn a_sender_with_spaces_cannot_forge_an_mbox_from_line() {
        let at = Timestamp::UNIX_EPOCH;
        let mut mbox = Vec::new();
        mbox_entry(
            &mut mbox,
            Some("x Thu Jan  1\nFrom evil"),
            at,
            b"Subject: s\n\nb\n",
        );
        assert_eq!(read_back(&mbox).len(), 1);
        assert!(mbox.starts_with(b"From MAILER-DAEMON "));
    }

    #[test]
    fn attachment_names_from_mail_cannot_leave_the_directory() {
        assert_eq!(safe_name(Some("../../etc/passwd")), "_.._etc_passwd");
        assert_eq!(safe_name(Some(".hidden")), "hidden");
        assert_eq!(safe_name(None), "attachment");
        assert_eq!(safe_name(Some("poc.py")), "poc.py");
        assert!(!safe_name(Some("a/b\0c")).contains('/'));
    }
}
