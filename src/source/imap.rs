//! The IMAP source: async-imap on tokio, rustls for TLS.
//!
//! The daemon drives it in cycles: [`Connection::select`] the mailbox, list the
//! UIDs above the stored cursor with their sizes, fetch them in bounded batches
//! (`BODY.PEEK[]`, so nothing is flagged by reading; a message above the size limit
//! gets only its header block), commit each batch, and only then flag it `\Seen` or
//! move it to `processed_mailbox`. Between cycles it waits in IDLE where the server
//! offers it, or sleeps `poll_interval`.
//!
//! Every network operation runs under the configured timeout, and errors are
//! classified: [`ImapError::is_permanent`] means retrying cannot help until the
//! configuration changes (a refused login, a missing mailbox).

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_imap::types::{Capabilities, UnsolicitedResponse};
use futures::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, pki_types::ServerName};

use super::{Incoming, Raw};
use crate::config::{ImapConfig, TlsMode};
use crate::net::TlsSetupError;

/// IDLE is re-issued after this long; servers may drop an IDLE after 30 minutes
/// (RFC 2177).
pub const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);

/// What an IMAP connection runs over: TLS or, on loopback, plain TCP.
pub trait ImapIo: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug> ImapIo for T {}

type Session = async_imap::Session<Box<dyn ImapIo>>;

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error(transparent)]
    Setup(#[from] TlsSetupError),
    #[error("cannot connect to IMAP server {server}: {source}")]
    Connect {
        server: String,
        source: std::io::Error,
    },
    #[error("TLS with IMAP server {server} failed: {source}")]
    Tls {
        server: String,
        source: std::io::Error,
    },
    #[error("IMAP server {server} did not answer within {timeout:?} while {action}")]
    Timeout {
        server: String,
        action: &'static str,
        timeout: Duration,
    },
    #[error(
        "IMAP server {server} refused the login of `{username}` ({detail}); check [source] username and password"
    )]
    LoginRefused {
        server: String,
        username: String,
        detail: String,
    },
    #[error("IMAP server {server} has no mailbox `{mailbox}` ({detail}); check [source] mailbox")]
    NoMailbox {
        server: String,
        mailbox: String,
        detail: String,
    },
    #[error("IMAP server {server} does not offer {what}")]
    Unsupported { server: String, what: &'static str },
    #[error("IMAP error with {server} while {action}: {source}")]
    Protocol {
        server: String,
        action: &'static str,
        source: async_imap::error::Error,
    },
    #[error("IMAP server {server} answered a fetch of {asked} messages with {got}")]
    ShortFetch {
        server: String,
        asked: usize,
        got: usize,
    },
}

impl ImapError {
    /// True when retrying with the same configuration cannot succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::Setup(_)
                | Self::LoginRefused { .. }
                | Self::NoMailbox { .. }
                | Self::Unsupported { .. }
        )
    }
}

/// The mailbox as selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxState {
    pub uidvalidity: u32,
    pub exists: u32,
}

/// What the server offers that we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Features {
    pub idle: bool,
    pub moves: bool,
    pub uidplus: bool,
}

/// How an IDLE ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The server announced a change.
    NewData,
    /// [`IDLE_RENEW`] or the caller's limit passed.
    Timeout,
    /// The caller asked us to stop.
    Cancelled,
}

/// Connects to one IMAP server as configured.
#[derive(Clone)]
pub struct ImapSource {
    config: ImapConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
    link: Link,
}

impl fmt::Debug for ImapSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapSource")
            .field("server", &self.config.server)
            .field("mailbox", &self.config.mailbox)
            .finish_non_exhaustive()
    }
}

impl ImapSource {
    pub fn new(config: ImapConfig) -> Result<Self, ImapError> {
        let tls = match config.server.tls {
            TlsMode::None => None,
            _ => Some(crate::net::client_config(config.server.ca_file.as_deref())?),
        };
        let link = Link {
            server: config.server.to_string(),
            timeout: config.server.timeout,
        };
        Ok(Self { config, tls, link })
    }

    pub fn config(&self) -> &ImapConfig {
        &self.config
    }

    /// The name the store records as this message's source.
    pub fn source_name(&self) -> String {
        let s = &self.config.server;
        format!(
            "imap://{}@{}:{}",
            self.config.credentials.username, s.host, s.port
        )
    }

    /// Connects, secures the connection, logs in and learns the server's features.
    pub async fn connect(&self) -> Result<Connection, ImapError> {
        let server = &self.config.server;
        let link = &self.link;
        let tcp = link
            .within(
                "connecting",
                TcpStream::connect((server.host.as_str(), server.port)),
            )
            .await?
            .map_err(|source| link.connect_error(source))?;
        keep_alive(&tcp);
        let stream: Box<dyn ImapIo> = match server.tls {
            TlsMode::None => Box::new(tcp),
            TlsMode::Implicit => Box::new(self.handshake(tcp).await?),
            TlsMode::Starttls => {
                let mut client = async_imap::Client::new(tcp);
                link.greeting(&mut client).await?;
                link.run(
                    "starting TLS",
                    client.run_command_and_check_ok("STARTTLS", None),
                )
                .await?;
                Box::new(self.handshake(client.into_inner()).await?)
            }
        };
        let mut client = async_imap::Client::new(stream);
        if server.tls != TlsMode::Starttls {
            link.greeting(&mut client).await?;
        }
        let creds = &self.config.credentials;
        let login = client.login(&creds.username, creds.password.expose());
        let mut session = match link.within("logging in", login).await? {
            Ok(session) => session,
            Err((async_imap::error::Error::No(detail), _)) if !detail.contains("UNAVAILABLE") => {
                return Err(ImapError::LoginRefused {
                    server: link.server.clone(),
                    username: creds.username.clone(),
                    detail: tidy(&detail),
                });
            }
            Err((source, _)) => return Err(link.protocol("logging in", source)),
        };
        let caps = link
            .run("asking capabilities", session.capabilities())
            .await?;
        Ok(Connection {
            session: Some(session),
            features: features(&caps),
            link: link.clone(),
            mailbox: self.config.mailbox.clone(),
            processed: self.config.processed_mailbox.clone(),
            uidvalidity: 0,
        })
    }

    async fn handshake(
        &self,
        tcp: TcpStream,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ImapError> {
        let link = &self.link;
        let tls_error = |source| ImapError::Tls {
            server: link.server.clone(),
            source,
        };
        let tls = self
            .tls
            .clone()
            .ok_or_else(|| tls_error(std::io::Error::other("TLS is not configured")))?;
        let host = ServerName::try_from(self.config.server.host.clone())
            .map_err(|err| tls_error(std::io::Error::other(err)))?;
        link.within(
            "negotiating TLS",
            TlsConnector::from(tls).connect(host, tcp),
        )
        .await?
        .map_err(tls_error)
    }
}

/// One server's name and timeout: every network step runs under the timeout,
/// and every error names the server and the step.
#[derive(Debug, Clone)]
struct Link {
    server: String,
    timeout: Duration,
}

impl Link {
    /// Runs `fut` under the timeout; a timeout is a (transient) error naming
    /// the step.
    async fn within<F: std::future::Future>(
        &self,
        action: &'static str,
        fut: F,
    ) -> Result<F::Output, ImapError> {
        self.within_for(self.timeout, action, fut).await
    }

    async fn within_for<F: std::future::Future>(
        &self,
        timeout: Duration,
        action: &'static str,
        fut: F,
    ) -> Result<F::Output, ImapError> {
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| ImapError::Timeout {
                server: self.server.clone(),
                action,
                timeout,
            })
    }

    /// Runs one IMAP exchange under the timeout; its errors become
    /// [`ImapError::Protocol`].
    async fn run<T>(
        &self,
        action: &'static str,
        fut: impl std::future::Future<Output = async_imap::error::Result<T>>,
    ) -> Result<T, ImapError> {
        self.within(action, fut)
            .await?
            .map_err(|source| self.protocol(action, source))
    }

    fn protocol(&self, action: &'static str, source: async_imap::error::Error) -> ImapError {
        ImapError::Protocol {
            server: self.server.clone(),
            action,
            source,
        }
    }

    fn connect_error(&self, source: std::io::Error) -> ImapError {
        ImapError::Connect {
            server: self.server.clone(),
            source,
        }
    }

    fn no_mailbox(&self, mailbox: &str, detail: &str) -> ImapError {
        ImapError::NoMailbox {
            server: self.server.clone(),
            mailbox: mailbox.to_owned(),
            detail: tidy(detail),
        }
    }

    /// The session, unless an interrupted IDLE took it with it.
    fn session<'s>(&self, slot: &'s mut Option<Session>) -> Result<&'s mut Session, ImapError> {
        slot.as_mut().ok_or_else(|| {
            self.protocol(
                "using the session",
                async_imap::error::Error::ConnectionLost,
            )
        })
    }

    /// Reads the server's greeting; a `* BYE` greeting is a refusal.
    async fn greeting<T: ImapIo>(
        &self,
        client: &mut async_imap::Client<T>,
    ) -> Result<(), ImapError> {
        match self
            .within("waiting for the greeting", client.read_response())
            .await?
        {
            Ok(Some(response)) if is_bye(response.parsed()) => {
                Err(self.connect_error(std::io::Error::other("the server greeted with BYE")))
            }
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(self.connect_error(std::io::ErrorKind::UnexpectedEof.into())),
            Err(source) => Err(self.connect_error(source)),
        }
    }
}

fn is_bye(response: &imap_proto::Response<'_>) -> bool {
    matches!(
        response,
        imap_proto::Response::Data {
            status: imap_proto::Status::Bye,
            ..
        }
    )
}

/// A logged-in session.
pub struct Connection {
    /// `None` only after an IDLE that ended with the connection.
    session: Option<Session>,
    features: Features,
    link: Link,
    mailbox: String,
    processed: Option<String>,
    uidvalidity: u32,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("server", &self.link.server)
            .field("features", &self.features)
            .finish_non_exhaustive()
    }
}

impl Connection {
    pub fn features(&self) -> Features {
        self.features
    }

    /// Selects the mailbox. A missing mailbox is a permanent error.
    pub async fn select(&mut self) -> Result<MailboxState, ImapError> {
        self.open(false).await
    }

    /// Opens the mailbox read-only (EXAMINE), for reading a folder without
    /// changing anything in it, not even its `\Recent` flags.
    pub async fn examine(&mut self) -> Result<MailboxState, ImapError> {
        self.open(true).await
    }

    /// SELECT, or EXAMINE when `read_only`.
    async fn open(&mut self, read_only: bool) -> Result<MailboxState, ImapError> {
        let link = &self.link;
        let session = link.session(&mut self.session)?;
        let action = if read_only {
            "examining the mailbox"
        } else {
            "selecting the mailbox"
        };
        let opened = if read_only {
            link.within(action, session.examine(&self.mailbox)).await?
        } else {
            link.within(action, session.select(&self.mailbox)).await?
        };
        let mailbox = match opened {
            Ok(m) => m,
            Err(async_imap::error::Error::No(detail)) => {
                return Err(link.no_mailbox(&self.mailbox, &detail));
            }
            Err(source) => return Err(link.protocol(action, source)),
        };
        let uidvalidity = mailbox.uid_validity.ok_or_else(|| ImapError::Unsupported {
            server: link.server.clone(),
            what: "UIDVALIDITY (UIDs are needed to track what was processed)",
        })?;
        self.uidvalidity = uidvalidity;
        self.drain_unsolicited();
        Ok(MailboxState {
            uidvalidity,
            exists: mailbox.exists,
        })
    }

    /// Like [`Self::fetch`], with each message's INTERNALDATE (its delivery
    /// time on the server), when the server gives one.
    pub async fn fetch_dated(
        &mut self,
        uids: &[u32],
    ) -> Result<Vec<(Incoming, Option<jiff::Timestamp>)>, ImapError> {
        let fetched = self
            .fetch_parts(uids, "(UID INTERNALDATE BODY.PEEK[])", "fetching mail")
            .await?;
        Ok(fetched
            .into_iter()
            .map(|(location, bytes, date)| {
                let date = date.and_then(|s| jiff::Timestamp::from_second(s).ok());
                let raw = Raw::Loaded(bytes);
                (Incoming { location, raw }, date)
            })
            .collect())
    }

    /// Makes sure `processed_mailbox` exists, creating it if not.
    pub async fn ensure_processed_mailbox(&mut self) -> Result<(), ImapError> {
        let Some(target) = &self.processed else {
            return Ok(());
        };
        let link = &self.link;
        let session = link.session(&mut self.session)?;
        let status = link
            .within(
                "looking for the processed mailbox",
                session.status(target, "(UIDVALIDITY)"),
            )
            .await?;
        if status.is_ok() {
            return Ok(());
        }
        match link
            .within("creating the processed mailbox", session.create(target))
            .await?
        {
            Ok(()) => {
                tracing::warn!(mailbox = %target, "created the processed mailbox");
                Ok(())
            }
            Err(async_imap::error::Error::No(detail)) => Err(link.no_mailbox(target, &detail)),
            Err(source) => Err(link.protocol("creating the processed mailbox", source)),
        }
    }

    /// UIDs above `last` with their sizes, in UID order.
    pub async fn list_after(&mut self, last: u32) -> Result<Vec<(u32, u32)>, ImapError> {
        let session = self.link.session(&mut self.session)?;
        let query = format!("{}:*", u64::from(last) + 1);
        let listed = self
            .link
            .run("listing new mail", async {
                session
                    .uid_fetch(&query, "(UID RFC822.SIZE)")
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
        // `N:*` also names the highest UID when it is below N (RFC 3501 §6.4.8).
        let mut uids: Vec<(u32, u32)> = listed
            .iter()
            .filter_map(|f| Some((f.uid?, f.size.unwrap_or(0))))
            .filter(|&(uid, _)| uid > last)
            .collect();
        uids.sort_unstable();
        uids.dedup_by_key(|(uid, _)| *uid);
        Ok(uids)
    }

    /// UIDs up to `last` that are still waiting to be marked processed: stored
    /// before a crash or disconnect, not yet flagged or moved.
    pub async fn unmarked_up_to(&mut self, last: u32) -> Result<Vec<u32>, ImapError> {
        if last == 0 {
            return Ok(Vec::new());
        }
        let query = if self.processed.is_some() {
            format!("UID 1:{last}")
        } else {
            format!("UID 1:{last} UNSEEN")
        };
        let session = self.link.session(&mut self.session)?;
        let found = self
            .link
            .run("searching unmarked mail", session.uid_search(&query))
            .await?;
        let mut uids: Vec<u32> = found.into_iter().filter(|&u| u <= last).collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// Fetches whole messages (`BODY.PEEK[]`, leaving flags alone). Every asked-for
    /// UID must come back: a short answer means the session is broken.
    pub async fn fetch(&mut self, uids: &[u32]) -> Result<Vec<Incoming>, ImapError> {
        let fetched = self
            .fetch_parts(uids, "(UID BODY.PEEK[])", "fetching mail")
            .await?;
        Ok(fetched
            .into_iter()
            .map(|(location, bytes, _)| Incoming {
                location,
                raw: Raw::Loaded(bytes),
            })
            .collect())
    }

    /// Fetches only the header blocks of messages too large to load.
    pub async fn fetch_heads(&mut self, uids: &[(u32, u32)]) -> Result<Vec<Incoming>, ImapError> {
        let just_uids: Vec<u32> = uids.iter().map(|(u, _)| *u).collect();
        let heads = self
            .fetch_parts(&just_uids, "(UID BODY.PEEK[HEADER])", "fetching headers")
            .await?;
        Ok(heads
            .into_iter()
            .zip(uids)
            .map(|((location, head, _), &(_, size))| {
                // The whole message is never loaded, so its identity is the hash
                // of its header block and size: stable across UIDVALIDITY changes.
                let mut identity = head.clone();
                identity.extend_from_slice(format!("\n{size}").as_bytes());
                Incoming {
                    location,
                    raw: Raw::TooLarge {
                        size: u64::from(size),
                        sha256: crate::parse::sha256_hex(&identity),
                        head,
                    },
                }
            })
            .collect())
    }

    /// The requested section of each UID, in the order asked, with its
    /// location and INTERNALDATE (Unix seconds) if asked for and given.
    async fn fetch_parts(
        &mut self,
        uids: &[u32],
        query: &str,
        action: &'static str,
    ) -> Result<Vec<(String, Vec<u8>, Option<i64>)>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let link = &self.link;
        let set = uid_set(uids);
        let session = link.session(&mut self.session)?;
        // The timeout covers one batch; batches are bounded in bytes, so a
        // healthy server answers well within a few multiples of it.
        let fetched = link
            .within_for(link.timeout.saturating_mul(4), action, async {
                session
                    .uid_fetch(&set, query)
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?
            .map_err(|source| link.protocol(action, source))?;
        let headers_only = query.contains("HEADER");
        let wanted: HashSet<u32> = uids.iter().copied().collect();
        let mut by_uid = std::collections::HashMap::with_capacity(uids.len());
        for f in fetched {
            // Unsolicited FETCH responses (e.g. another client's flag change)
            // carry no section or an unrequested UID.
            let Some(uid) = f.uid.filter(|u| wanted.contains(u)) else {
                continue;
            };
            let bytes = if headers_only { f.header() } else { f.body() };
            if let Some(bytes) = bytes {
                let date = f.internal_date().map(|d| d.timestamp());
                by_uid.insert(uid, (bytes.to_vec(), date));
            }
        }
        if by_uid.len() != uids.len() {
            return Err(ImapError::ShortFetch {
                server: link.server.clone(),
                asked: uids.len(),
                got: by_uid.len(),
            });
        }
        Ok(uids
            .iter()
            .filter_map(|uid| {
                let (bytes, date) = by_uid.remove(uid)?;
                Some((location(&self.mailbox, self.uidvalidity, *uid), bytes, date))
            })
            .collect())
    }

    /// Marks committed messages processed: flagged `\Seen`, or moved to the
    /// processed mailbox (MOVE, else COPY + `\Deleted` + UID EXPUNGE).
    pub async fn mark_processed(&mut self, uids: &[u32]) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let features = self.features;
        let set = uid_set(uids);
        let session = self.link.session(&mut self.session)?;
        self.link
            .run("marking mail processed", async {
                match &self.processed {
                    None => {
                        session
                            .uid_store(&set, "+FLAGS.SILENT (\\Seen)")
                            .await?
                            .try_collect::<Vec<_>>()
                            .await?;
                    }
                    Some(target) if features.moves => session.uid_mv(&set, target).await?,
                    Some(target) => {
                        session.uid_copy(&set, target).await?;
                        session
                            .uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
                            .await?
                            .try_collect::<Vec<_>>()
                            .await?;
                        if features.uidplus {
                            session
                                .uid_expunge(&set)
                                .await?
                                .try_collect::<Vec<_>>()
                                .await?;
                        } else {
                            // Without UIDPLUS, EXPUNGE also removes what others
                            // marked \Deleted; that is what \Deleted asks for.
                            session.expunge().await?.try_collect::<Vec<_>>().await?;
                        }
                    }
                }
                Ok(())
            })
            .await
    }

    /// Waits in IDLE until the server reports a change, `limit` passes (at most
    /// [`IDLE_RENEW`]), or `stop` fires. Mail that arrived while we were busy
    /// (announced in untagged responses) returns [`Wake::NewData`] at once.
    pub async fn idle(
        &mut self,
        limit: Duration,
        stop: &tokio_util::sync::CancellationToken,
    ) -> Result<Wake, ImapError> {
        use async_imap::extensions::idle::IdleResponse;

        if self.drain_unsolicited() {
            return Ok(Wake::NewData);
        }
        let link = &self.link;
        let session = self.session.take().ok_or_else(|| {
            link.protocol("starting IDLE", async_imap::error::Error::ConnectionLost)
        })?;
        let mut handle = session.idle();
        link.run("starting IDLE", handle.init()).await?;
        let limit = limit.min(IDLE_RENEW);
        let (wait, interrupt) = handle.wait_with_timeout(limit);
        // Our own limit as well: async-imap restarts its timer on every server
        // keep-alive, which Dovecot sends every two minutes.
        let outcome = tokio::select! {
            result = wait => Some(result),
            () = stop.cancelled() => None,
            () = tokio::time::sleep(limit) => None,
        };
        drop(interrupt);
        let wake = match outcome {
            None if stop.is_cancelled() => Wake::Cancelled,
            None | Some(Ok(IdleResponse::Timeout)) => Wake::Timeout,
            Some(Ok(IdleResponse::NewData(data))) if is_bye(data.parsed()) => {
                return Err(
                    link.connect_error(std::io::Error::other("the server said BYE during IDLE"))
                );
            }
            Some(Ok(IdleResponse::NewData(_))) => Wake::NewData,
            // The interrupt is only dropped after the wait ended, so this is
            // async-imap's way of saying the connection is gone.
            Some(Ok(IdleResponse::ManualInterrupt)) => {
                return Err(link.connect_error(std::io::ErrorKind::ConnectionReset.into()));
            }
            Some(Err(source)) => return Err(link.protocol("waiting in IDLE", source)),
        };
        let session = link.run("ending IDLE", handle.done()).await?;
        self.session = Some(session);
        Ok(wake)
    }

    /// Says goodbye; errors do not matter any more.
    pub async fn logout(mut self) {
        if let Some(mut session) = self.session.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), session.logout()).await;
        }
    }

    /// Empties the queue of untagged responses (async-imap drops what does not
    /// fit); true if any announced new mail.
    fn drain_unsolicited(&mut self) -> bool {
        let Some(session) = self.session.as_mut() else {
            return false;
        };
        let mut new_mail = false;
        while let Ok(response) = session.unsolicited_responses.try_recv() {
            new_mail |= matches!(
                response,
                UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
            );
        }
        new_mail
    }
}

fn features(caps: &Capabilities) -> Features {
    Features {
        idle: caps.has_str("IDLE"),
        moves: caps.has_str("MOVE"),
        uidplus: caps.has_str("UIDPLUS"),
    }
}

/// Where a message is on the server, in the spirit of RFC 5092 IMAP URLs.
pub fn location(mailbox: &str, uidvalidity: u32, uid: u32) -> String {
    format!("{mailbox};UIDVALIDITY={uidvalidity};UID={uid}")
}

/// A compact UID set: `1:3,7,9:10`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// async-imap reports NO answers as `code: …, info: Some("…")`; keep the words.
fn tidy(detail: &str) -> String {
    match detail.split_once("info: Some(\"") {
        Some((_, rest)) => rest.trim_end_matches("\")").to_owned(),
        None => detail.to_owned(),
    }
}

/// TCP keep-alives find a silently dropped connection while we sit in IDLE.
fn keep_alive(tcp: &TcpStream) {
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(60))
        .with_interval(Duration::from_secs(15))
        .with_retries(4);
    if let Err(err) = socket2::SockRef::from(tcp).set_tcp_keepalive(&keepalive) {
        tracing::debug!(error = %err, "cannot enable TCP keep-alive");
    }
}

#[cfg(test)]
mod tests;
