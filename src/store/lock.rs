//! Kernel locks next to the database, released by the kernel when their holder
//! dies however it dies:
//!
//! - `<database>.lock`: the one running daemon ([`InstanceLock`]). It holds the
//!   daemon's pid and start time, so that a second one can say which process
//!   is in its way.
//! - `<database>.senders/<token>`: one file per process that sends mail
//!   ([`Claimant`]). The outbox rows a sender claims carry its token; a token
//!   whose file is no longer locked belongs to a process that has exited, and
//!   its claims can be taken over at once.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another `disclosed run` is already running on {}: {holder} (it holds {}); stop it first, or use `run --once`, which works beside it",
        database.display(),
        lock.display()
    )]
    Held {
        database: PathBuf,
        lock: PathBuf,
        holder: String,
    },
    #[error("cannot use the lock file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The daemon's lock on its database: held while it lives.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
    path: PathBuf,
}

/// `<database><suffix>`, beside the database.
pub(crate) fn beside(database: &Path, suffix: &str) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl InstanceLock {
    /// Takes the lock on `database` for this process, started at `started`, or
    /// says who holds it.
    pub fn acquire(database: &Path, started: Timestamp) -> Result<Self, LockError> {
        let path = beside(database, ".lock");
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                // The holder writes its line right after locking; an empty file
                // means it is doing so now.
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(LockError::Held {
                    database: database.to_owned(),
                    lock: path.clone(),
                    holder: if holder.is_empty() {
                        "a process that is starting".to_owned()
                    } else {
                        holder.to_owned()
                    },
                });
            }
            Err(TryLockError::Error(err)) => return Err(io(err)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "pid {}, started {started}", std::process::id()).map_err(io)?;
        Ok(Self { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// This process as a sender: the token its claims carry, kept alive by a lock
/// on its file. Dropping it ends the claims (another sender takes them over).
#[derive(Debug)]
pub struct Claimant {
    token: String,
    path: PathBuf,
    _file: File,
}

fn senders_dir(database: &Path) -> PathBuf {
    beside(database, ".senders")
}

/// Tokens are ours: lower-case hex and `-`. Anything else read from the store
/// is never used as a file name.
fn valid_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 64
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-')
}

impl Claimant {
    /// Registers this process as a sender on `database`; `what` says what it
    /// is (`daemon`, `run --once`, `sla tick`), for whoever reads the file.
    pub fn register(database: &Path, what: &str, started: Timestamp) -> Result<Self, LockError> {
        let dir = senders_dir(database);
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| LockError::Io { path, source }
        };
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let token = format!("{:x}-{:016x}", std::process::id(), fastrand::u64(..));
        let path = dir.join(&token);
        // Locked before it appears under its name: a sender's file is never
        // seen unlocked while the sender lives.
        let staging = dir.join(format!(".{token}.new"));
        let mut file = File::create(&staging).map_err(io(&staging))?;
        file.try_lock().map_err(|err| LockError::Io {
            path: staging.clone(),
            source: match err {
                TryLockError::Error(err) => err,
                TryLockError::WouldBlock => std::io::ErrorKind::WouldBlock.into(),
            },
        })?;
        writeln!(
            file,
            "{what}, pid {}, started {started}",
            std::process::id()
        )
        .map_err(io(&staging))?;
        std::fs::rename(&staging, &path).map_err(io(&path))?;
        Ok(Self {
            token,
            path,
            _file: file,
        })
    }

    pub fn token(&self) -> &str {
        &self.token
    }
}

impl Drop for Claimant {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether the sender with `token` on `database` has exited: its file is gone
/// or no longer locked. A file that cannot be checked counts as alive (its
/// claims then lapse with their lease). The file of an exited sender is removed.
pub fn claimant_exited(database: &Path, token: &str) -> bool {
    if !valid_token(token) {
        // Not a token we wrote: leave it to the lease.
        return false;
    }
    let path = senders_dir(database).join(token);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(err) => return err.kind() == std::io::ErrorKind::NotFound,
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = std::fs::remove_file(&path);
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_instance_lock_names_the_first_holder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("d.sqlite3");
        let first = InstanceLock::acquire(&db, Timestamp::UNIX_EPOCH).expect("first");
        let err = InstanceLock::acquire(&db, Timestamp::UNIX_EPOCH).expect_err("second");
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        assert!(text.contains("1970-01-01T00:00:00Z"), "{text}");
        drop(first);
        InstanceLock::acquire(&db, Timestamp::UNIX_EPOCH).expect("free again");
    }

    #[test]
    fn a_sender_is_alive_while_registered_and_exited_after() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("d.sqlite3");
        let sender = Claimant::register(&db, "test", Timestamp::UNIX_EPOCH).expect("register");
        let token = sender.token().to_owned();
        assert!(valid_token(&token), "{token}");
        assert!(!claimant_exited(&db, &token));
        drop(sender);
        assert!(claimant_exited(&db, &token));
        assert!(claimant_exited(&db, "abc-0123"), "an unknown token");
        assert!(
            !claimant_exited(&db, "../../etc/passwd"),
            "a token that is not ours is never a path"
        );
    }
}
