//! The project's own mail stack (`scripts/mailstack`): a private Dovecot and
//! Postfix on loopback, one per test. Starting it must work: a test that needs
//! it fails, never skips, when it cannot start.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use futures::TryStreamExt;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/mailstack");

pub struct MailStack {
    /// Holds the stack's state; removed after `stop`.
    _dir: tempfile::TempDir,
    root: PathBuf,
    env: HashMap<String, String>,
    stopped: bool,
}

impl MailStack {
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ms")
            .tempdir()
            .expect("tempdir for the mail stack");
        let root = dir.path().join("stack");
        let out = Command::new(SCRIPT)
            .arg("start")
            .arg(&root)
            .output()
            .expect("run scripts/mailstack");
        assert!(
            out.status.success(),
            "the mail stack did not start (run `scripts/mailstack install` as root first):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(root.join("env")).expect("mail stack env file");
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Self {
            _dir: dir,
            root,
            env,
            stopped: false,
        }
    }

    pub fn var(&self, key: &str) -> &str {
        self.env
            .get(key)
            .unwrap_or_else(|| panic!("mail stack env has no {key}"))
    }

    pub fn port(&self, key: &str) -> u16 {
        self.var(key).parse().expect("a port number")
    }

    pub fn password(&self) -> &str {
        self.var("PASSWORD")
    }

    pub fn ca_file(&self) -> &Path {
        Path::new(self.var("CA_FILE"))
    }

    /// Runs `scripts/mailstack <verb> DIR [args]`, asserting success.
    pub fn script(&self, verb: &str, args: &[&str]) {
        let out = Command::new(SCRIPT)
            .arg(verb)
            .arg(&self.root)
            .args(args)
            .output()
            .expect("run scripts/mailstack");
        assert!(
            out.status.success(),
            "mailstack {verb} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A `[source]` section reading `user`'s mailbox over plain IMAP.
    pub fn imap_source(&self, user: &str, extra: &str) -> String {
        let poll = if extra.contains("poll_interval") {
            ""
        } else {
            "poll_interval = \"500ms\"\n"
        };
        format!(
            "[source]\nkind = \"imap\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
             username = \"{user}\"\npassword = \"{}\"\ntimeout = \"10s\"\n{poll}{extra}\n",
            self.port("IMAP_PORT"),
            self.password()
        )
    }

    /// A `[transport]` section sending over the plain SMTP port.
    pub fn smtp_transport(&self, extra: &str) -> String {
        format!(
            "[transport]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
             timeout = \"10s\"\n{extra}\n",
            self.port("SMTP_PORT")
        )
    }

    /// The config of program `security` on the stack, with the team key in
    /// `team.key`: its mailbox over IMAP in, SMTP out (retrying within
    /// seconds); `rest` adds the sections after `[openpgp]`.
    pub fn keyed_config(&self, security: &str, rest: &str) -> String {
        let sections = format!(
            "{}{}",
            self.imap_source(security, ""),
            self.smtp_transport("retry_initial = \"1s\"\nretry_max = \"2s\"")
        );
        crate::common::keyed_config(security, &sections, rest)
    }

    /// Submits `raw` over plain SMTP, as a researcher's mail server would.
    pub fn send(&self, from: &str, to: &str, raw: &[u8]) {
        use lettre::Transport as _;
        let smtp = lettre::SmtpTransport::builder_dangerous("127.0.0.1")
            .port(self.port("SMTP_PORT"))
            .build();
        let envelope = lettre::address::Envelope::new(
            Some(from.parse().expect("from")),
            vec![to.parse().expect("to")],
        )
        .expect("envelope");
        smtp.send_raw(&envelope, raw)
            .expect("SMTP server accepted the mail");
    }

    /// Puts `raw` straight into `user`'s INBOX over IMAP (APPEND), even when
    /// Postfix is down.
    pub fn append(&self, user: &str, raw: &[u8]) {
        self.append_all(user, &[raw.to_vec()]);
    }

    /// APPENDs each message in one session.
    pub fn append_all(&self, user: &str, messages: &[Vec<u8>]) {
        self.imap(user, |mut session| async move {
            for raw in messages {
                session
                    .append("INBOX", None, None, raw)
                    .await
                    .expect("APPEND");
            }
            session
        });
    }

    /// Creates `mailbox` (if missing) and APPENDs each message to it.
    pub fn append_to(&self, user: &str, mailbox: &str, messages: &[Vec<u8>]) {
        self.imap(user, |mut session| async move {
            // Already there is as good as created.
            let _ = session.create(mailbox).await;
            for raw in messages {
                session
                    .append(mailbox, None, None, raw)
                    .await
                    .expect("APPEND");
            }
            session
        });
    }

    /// All messages in `user`'s `mailbox`, in UID order, with their flags.
    pub fn messages(&self, user: &str, mailbox: &str) -> Vec<Fetched> {
        let mut found = Vec::new();
        let out = &mut found;
        self.imap(user, |mut session| async move {
            let selected = session.select(mailbox).await;
            if selected.is_ok() {
                let fetched: Vec<_> = session
                    .uid_fetch("1:*", "(UID FLAGS BODY.PEEK[])")
                    .await
                    .expect("UID FETCH")
                    .try_collect()
                    .await
                    .expect("UID FETCH answers");
                for f in &fetched {
                    out.push(Fetched {
                        uid: f.uid.unwrap_or(0),
                        seen: f
                            .flags()
                            .any(|flag| matches!(flag, async_imap::types::Flag::Seen)),
                        raw: f.body().unwrap_or_default().to_vec(),
                    });
                }
            }
            session
        });
        found.sort_by_key(|f| f.uid);
        found
    }

    /// UIDVALIDITY of `user`'s INBOX.
    pub fn uidvalidity(&self, user: &str) -> u32 {
        let mut value = 0;
        let out = &mut value;
        self.imap(user, |mut session| async move {
            *out = session
                .select("INBOX")
                .await
                .expect("SELECT")
                .uid_validity
                .expect("UIDVALIDITY");
            session
        });
        value
    }

    /// Waits until `user`'s `mailbox` holds at least `n` messages.
    pub fn wait_for(&self, user: &str, mailbox: &str, n: usize, limit: Duration) -> Vec<Fetched> {
        let started = Instant::now();
        loop {
            let found = self.messages(user, mailbox);
            if found.len() >= n {
                return found;
            }
            assert!(
                started.elapsed() < limit,
                "{user}/{mailbox} has {} of {n} messages after {limit:?}",
                found.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn imap<'a, F, Fut>(&self, user: &str, work: F)
    where
        F: FnOnce(async_imap::Session<tokio::net::TcpStream>) -> Fut + 'a,
        Fut: std::future::Future<Output = async_imap::Session<tokio::net::TcpStream>> + 'a,
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let port = self.port("IMAP_PORT");
        let password = self.password().to_owned();
        runtime.block_on(async move {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect to IMAP");
            let client = async_imap::Client::new(tcp);
            let session = client
                .login(user, &password)
                .await
                .map_err(|(err, _)| err)
                .expect("IMAP login");
            let mut session = work(session).await;
            let _ = session.logout().await;
        });
    }
}

pub struct Fetched {
    pub uid: u32,
    pub seen: bool,
    pub raw: Vec<u8>,
}

impl Drop for MailStack {
    fn drop(&mut self) {
        if !self.stopped {
            self.stopped = true;
            let _ = Command::new(SCRIPT).arg("stop").arg(&self.root).output();
        }
    }
}

/// A user name no other test uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}x{}@example.test",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
