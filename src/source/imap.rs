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
        Ok(Self { config, tls })
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

    fn server(&self) -> String {
        self.config.server.to_string()
    }

    /// Connects, secures the connection, logs in and learns the server's features.
    pub async fn connect(&self) -> Result<Connection, ImapError> {
        let server = &self.config.server;
        let name = self.server();
        let timeout = server.timeout;
        let tcp = within(
            timeout,
            &name,
            "connecting",
            TcpStream::connect((server.host.as_str(), server.port)),
        )
        .await?
        .map_err(|source| ImapError::Connect {
            server: name.clone(),
            source,
        })?;
        keep_alive(&tcp);
        let stream: Box<dyn ImapIo> = match server.tls {
            TlsMode::None => Box::new(tcp),
            TlsMode::Implicit => Box::new(self.handshake(tcp).await?),
            TlsMode::Starttls => {
                let mut client = async_imap::Client::new(tcp);
                self.greeting(&mut client).await?;
                within(
                    timeout,
                    &name,
                    "starting TLS",
                    client.run_command_and_check_ok("STARTTLS", None),
                )
                .await?
                .map_err(|source| self.protocol("starting TLS", source))?;
                Box::new(self.handshake(client.into_inner()).await?)
            }
        };
        let mut client = async_imap::Client::new(stream);
        if server.tls != TlsMode::Starttls {
            self.greeting(&mut client).await?;
        }
        let creds = &self.config.credentials;
        let login = client.login(&creds.username, creds.password.expose());
        let mut session = match within(timeout, &name, "logging in", login).await? {
            Ok(session) => session,
            Err((async_imap::error::Error::No(detail), _)) if !detail.contains("UNAVAILABLE") => {
                return Err(ImapError::LoginRefused {
                    server: name,
                    username: creds.username.clone(),
                    detail: tidy(&detail),
                });
            }
            Err((source, _)) => return Err(self.protocol("logging in", source)),
        };
        let caps = within(
            timeout,
            &name,
            "asking capabilities",
            session.capabilities(),
        )
        .await?
        .map_err(|source| self.protocol("asking capabilities", source))?;
        let features = features(&caps);
        Ok(Connection {
            session: Some(session),
            features,
            server: name,
            timeout,
            mailbox: self.config.mailbox.clone(),
            processed: self.config.processed_mailbox.clone(),
            uidvalidity: 0,
        })
    }

    async fn handshake(
        &self,
        tcp: TcpStream,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ImapError> {
        let name = self.server();
        let tls = self.tls.clone().ok_or_else(|| ImapError::Tls {
            server: name.clone(),
            source: std::io::Error::other("TLS is not configured"),
        })?;
        let host = ServerName::try_from(self.config.server.host.clone()).map_err(|err| {
            ImapError::Tls {
                server: name.clone(),
                source: std::io::Error::other(err),
            }
        })?;
        within(
            self.config.server.timeout,
            &name,
            "negotiating TLS",
            TlsConnector::from(tls).connect(host, tcp),
        )
        .await?
        .map_err(|source| ImapError::Tls {
            server: name,
            source,
        })
    }

    /// Reads the server's greeting; a `* BYE` greeting is a refusal.
    async fn greeting<T: ImapIo>(
        &self,
        client: &mut async_imap::Client<T>,
    ) -> Result<(), ImapError> {
        let name = self.server();
        let greeting = within(
            self.config.server.timeout,
            &name,
            "waiting for the greeting",
            client.read_response(),
        )
        .await?;
        match greeting {
            Ok(Some(response)) => {
                if matches!(
                    response.parsed(),
                    imap_proto::Response::Data {
                        status: imap_proto::Status::Bye,
                        ..
                    }
                ) {
                    return Err(ImapError::Connect {
                        server: name,
                        source: std::io::Error::other("the server greeted with BYE"),
                    });
                }
                Ok(())
            }
            Ok(None) => Err(ImapError::Connect {
                server: name,
                source: std::io::ErrorKind::UnexpectedEof.into(),
            }),
            Err(source) => Err(ImapError::Connect {
                server: name,
                source,
            }),
        }
    }

    fn protocol(&self, action: &'static str, source: async_imap::error::Error) -> ImapError {
        ImapError::Protocol {
            server: self.server(),
            action,
            source,
        }
    }
}

/// A logged-in session.
pub struct Connection {
    /// `None` only while IDLE holds it, or after a failure mid-IDLE.
    session: Option<Session>,
    features: Features,
    server: String,
    timeout: Duration,
    mailbox: String,
    processed: Option<String>,
    uidvalidity: u32,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("server", &self.server)
            .field("features", &self.features)
            .finish_non_exhaustive()
    }
}

impl Connection {
    pub fn features(&self) -> Features {
        self.features
    }

    fn session(&mut self) -> Result<&mut Session, ImapError> {
        self.session.as_mut().ok_or_else(|| ImapError::Protocol {
            server: self.server.clone(),
            action: "using the session",
            source: async_imap::error::Error::ConnectionLost,
        })
    }

    fn protocol(&self, action: &'static str) -> impl FnOnce(async_imap::error::Error) -> ImapError {
        let server = self.server.clone();
        move |source| ImapError::Protocol {
            server,
            action,
            source,
        }
    }

    /// Selects the mailbox. A missing mailbox is a permanent error.
    pub async fn select(&mut self) -> Result<MailboxState, ImapError> {
        let (server, timeout, mailbox) = (self.server.clone(), self.timeout, self.mailbox.clone());
        let session = self.session()?;
        let selected = within(
            timeout,
            &server,
            "selecting the mailbox",
            session.select(&mailbox),
        )
        .await?;
        let mailbox_state = match selected {
            Ok(m) => m,
            Err(async_imap::error::Error::No(detail)) => {
                return Err(ImapError::NoMailbox {
                    server,
                    mailbox,
                    detail: tidy(&detail),
                });
            }
            Err(source) => return Err(self.protocol("selecting the mailbox")(source)),
        };
        let uidvalidity = mailbox_state.uid_validity.ok_or(ImapError::Unsupported {
            server,
            what: "UIDVALIDITY (UIDs are needed to track what was processed)",
        })?;
        self.uidvalidity = uidvalidity;
        self.drain_unsolicited();
        Ok(MailboxState {
            uidvalidity,
            exists: mailbox_state.exists,
        })
    }

    /// Makes sure `processed_mailbox` exists, creating it if not.
    pub async fn ensure_processed_mailbox(&mut self) -> Result<(), ImapError> {
        let Some(target) = self.processed.clone() else {
            return Ok(());
        };
        let (server, timeout) = (self.server.clone(), self.timeout);
        let session = self.session()?;
        let status = within(
            timeout,
            &server,
            "looking for the processed mailbox",
            session.status(&target, "(UIDVALIDITY)"),
        )
        .await?;
        if status.is_ok() {
            return Ok(());
        }
        let session = self.session()?;
        match within(
            timeout,
            &server,
            "creating the processed mailbox",
            session.create(&target),
        )
        .await?
        {
            Ok(()) => {
                tracing::warn!(mailbox = %target, "created the processed mailbox");
                Ok(())
            }
            Err(async_imap::error::Error::No(detail)) => Err(ImapError::NoMailbox {
                server,
                mailbox: target,
                detail: tidy(&detail),
            }),
            Err(source) => Err(self.protocol("creating the processed mailbox")(source)),
        }
    }

    /// UIDs above `last` with their sizes, in UID order.
    pub async fn list_after(&mut self, last: u32) -> Result<Vec<(u32, u32)>, ImapError> {
        let (server, timeout) = (self.server.clone(), self.timeout);
        let session = self.session()?;
        let query = format!("{}:*", u64::from(last) + 1);
        let listed = within(timeout, &server, "listing new mail", async {
            session
                .uid_fetch(&query, "(UID RFC822.SIZE)")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?
        .map_err(self.protocol("listing new mail"))?;
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
        let (server, timeout) = (self.server.clone(), self.timeout);
        let session = self.session()?;
        let found = within(
            timeout,
            &server,
            "searching unmarked mail",
            session.uid_search(&query),
        )
        .await?
        .map_err(self.protocol("searching unmarked mail"))?;
        let mut uids: Vec<u32> = found.into_iter().filter(|&u| u <= last).collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// Fetches whole messages (`BODY.PEEK[]`, leaving flags alone). Every asked-for
    /// UID must come back: a short answer means the session is broken.
    pub async fn fetch(&mut self, uids: &[u32]) -> Result<Vec<Incoming>, ImapError> {
        self.fetch_parts(uids, "(UID BODY.PEEK[])", "fetching mail")
            .await
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
            .map(|(incoming, &(_, size))| {
                let head = match incoming.raw {
                    Raw::Loaded(bytes) => bytes,
                    Raw::TooLarge { head, .. } => head,
                };
                // The whole message is never loaded, so its identity is the hash
                // of its header block and size: stable across UIDVALIDITY changes.
                let mut identity = head.clone();
                identity.extend_from_slice(format!("\n{size}").as_bytes());
                Incoming {
                    location: incoming.location,
                    raw: Raw::TooLarge {
                        size: u64::from(size),
                        sha256: crate::parse::sha256_hex(&identity),
                        head,
                    },
                }
            })
            .collect())
    }

    async fn fetch_parts(
        &mut self,
        uids: &[u32],
        query: &str,
        action: &'static str,
    ) -> Result<Vec<Incoming>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let (server, timeout) = (self.server.clone(), self.timeout);
        let set = uid_set(uids);
        let session = self.session()?;
        // The timeout covers one batch; batches are bounded in bytes, so a
        // healthy server answers well within a few multiples of it.
        let fetched = within(timeout.saturating_mul(4), &server, action, async {
            session
                .uid_fetch(&set, query)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?
        .map_err(self.protocol(action))?;
        let wanted: HashSet<u32> = uids.iter().copied().collect();
        let mut by_uid = std::collections::HashMap::with_capacity(uids.len());
        for f in fetched {
            let Some(uid) = f.uid.filter(|u| wanted.contains(u)) else {
                // Unsolicited FETCH (e.g. a flag change by another client).
                continue;
            };
            let bytes = if query.contains("HEADER") {
                f.header().map(<[u8]>::to_vec)
            } else {
                f.body().map(<[u8]>::to_vec)
            };
            if let Some(bytes) = bytes {
                by_uid.insert(uid, bytes);
            }
        }
        if by_uid.len() != uids.len() {
            return Err(ImapError::ShortFetch {
                server,
                asked: uids.len(),
                got: by_uid.len(),
            });
        }
        let mailbox = self.mailbox.clone();
        let uidvalidity = self.uidvalidity;
        Ok(uids
            .iter()
            .filter_map(|uid| {
                let bytes = by_uid.remove(uid)?;
                Some(Incoming {
                    location: location(&mailbox, uidvalidity, *uid),
                    raw: Raw::Loaded(bytes),
                })
            })
            .collect())
    }

    /// Marks committed messages processed: flagged `\Seen`, or moved to the
    /// processed mailbox (MOVE, else COPY + `\Deleted` + UID EXPUNGE).
    pub async fn mark_processed(&mut self, uids: &[u32]) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let (server, timeout, features) = (self.server.clone(), self.timeout, self.features);
        let set = uid_set(uids);
        let processed = self.processed.clone();
        let session = self.session()?;
        let result = within(timeout, &server, "marking mail processed", async {
            match &processed {
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
            Ok::<_, async_imap::error::Error>(())
        })
        .await?;
        result.map_err(self.protocol("marking mail processed"))
    }

    /// Waits in IDLE until the server reports a change, `limit` passes (at most
    /// [`IDLE_RENEW`]), or `cancel` fires. Mail that arrived while we were busy
    /// (announced in untagged responses) returns [`Wake::NewData`] at once.
    pub async fn idle(
        &mut self,
        limit: Duration,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<Wake, ImapError> {
        if self.drain_unsolicited() {
            return Ok(Wake::NewData);
        }
        let (server, timeout) = (self.server.clone(), self.timeout);
        let session = self.session.take().ok_or_else(|| ImapError::Protocol {
            server: server.clone(),
            action: "starting IDLE",
            source: async_imap::error::Error::ConnectionLost,
        })?;
        let mut handle = session.idle();
        within(timeout, &server, "starting IDLE", handle.init())
            .await?
            .map_err(self.protocol("starting IDLE"))?;
        let limit = limit.min(IDLE_RENEW);
        let (wait, stop) = handle.wait_with_timeout(limit);
        // A dead connection looks like our own interrupt to async-imap, so keep
        // our own record of why the wait ended.
        let mut interrupted_by_us = false;
        let outcome = tokio::select! {
            result = wait => Some(result),
            () = cancel.cancelled() => { interrupted_by_us = true; None }
            () = tokio::time::sleep(limit) => { interrupted_by_us = true; None }
        };
        drop(stop);
        let wake = match outcome {
            None if cancel.is_cancelled() => Wake::Cancelled,
            None => Wake::Timeout,
            Some(Ok(async_imap::extensions::idle::IdleResponse::NewData(data))) => {
                if matches!(
                    data.parsed(),
                    imap_proto::Response::Data {
                        status: imap_proto::Status::Bye,
                        ..
                    }
                ) {
                    return Err(ImapError::Connect {
                        server,
                        source: std::io::Error::other("the server said BYE during IDLE"),
                    });
                }
                Wake::NewData
            }
            Some(Ok(async_imap::extensions::idle::IdleResponse::Timeout)) => Wake::Timeout,
            Some(Ok(async_imap::extensions::idle::IdleResponse::ManualInterrupt)) => {
                if !interrupted_by_us {
                    return Err(ImapError::Connect {
                        server,
                        source: std::io::ErrorKind::ConnectionReset.into(),
                    });
                }
                Wake::Timeout
            }
            Some(Err(source)) => return Err(self.protocol("waiting in IDLE")(source)),
        };
        let session = within(timeout, &server, "ending IDLE", handle.done())
            .await?
            .map_err(self.protocol("ending IDLE"))?;
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

/// Runs `fut` under `timeout`; a timeout is a (transient) error naming the step.
async fn within<F: std::future::Future>(
    timeout: Duration,
    server: &str,
    action: &'static str,
    fut: F,
) -> Result<F::Output, ImapError> {
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| ImapError::Timeout {
            server: server.to_owned(),
            action,
            timeout,
        })
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
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_compact_and_sorted() {
        assert_eq!(uid_set(&[3, 1, 2, 7, 9, 10, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(
            uid_set(&[u32::MAX - 1, u32::MAX]),
            format!("{}:{}", u32::MAX - 1, u32::MAX)
        );
        assert_eq!(uid_set(&[]), "");
    }

    #[test]
    fn no_answers_keep_the_servers_words() {
        assert_eq!(
            tidy("code: Some(AuthenticationFailed), info: Some(\"Authentication failed.\")"),
            "Authentication failed."
        );
        assert_eq!(tidy("plain"), "plain");
    }

    #[test]
    fn login_and_mailbox_errors_are_permanent_network_errors_not() {
        let login = ImapError::LoginRefused {
            server: "h:1".into(),
            username: "u".into(),
            detail: "no".into(),
        };
        assert!(login.is_permanent());
        assert!(
            login
                .to_string()
                .contains("check [source] username and password")
        );
        let net = ImapError::Connect {
            server: "h:1".into(),
            source: std::io::ErrorKind::ConnectionRefused.into(),
        };
        assert!(!net.is_permanent());
        let slow = ImapError::Timeout {
            server: "h:1".into(),
            action: "logging in",
            timeout: Duration::from_secs(1),
        };
        assert!(!slow.is_permanent());
    }

    #[test]
    fn locations_name_mailbox_uidvalidity_and_uid() {
        assert_eq!(location("INBOX", 7, 42), "INBOX;UIDVALIDITY=7;UID=42");
    }
}
