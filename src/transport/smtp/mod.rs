//! The SMTP transport: lettre's SMTP client on tokio with rustls. Implicit TLS,
//! STARTTLS, or none on loopback; AUTH when credentials are configured.
//!
//! We open the TCP connection ourselves, with `TCP_NODELAY`, and hand it to
//! lettre: lettre writes a mail's content and its final dot in two writes, and
//! with Nagle's algorithm on the dot would wait for the server's delayed ACK
//! (about 40 ms on Linux) before leaving.
//!
//! A batch spreads over up to `[transport] connections` connections (default
//! 4, never more than there are mails), each opened once: connect, EHLO,
//! STARTTLS and AUTH, then one transaction per mail. One client waits for the
//! server's reply to every mail before the next; several let the server work
//! on several mails at once, which is where a mail server's throughput is. Each
//! connection takes the next mail not yet taken, so a slow one holds up only
//! its own. When the server offers PIPELINING, a mail's MAIL, RCPT and DATA go
//! out in one write and their replies are read in order (RFC 2920); the content
//! follows, and the reply to its final dot is awaited before that connection
//! starts its next mail. (lettre's call that sends the content waits for that
//! reply, so the next mail's commands cannot ride along with the content.)
//! Each result is told to the caller before its connection carries another
//! mail, so that it can be recorded first: a crash can resend at most the mails
//! in flight, one per connection. The connections run on a thread of their
//! own while the caller records, and the results that arrive while it records
//! one group are told together as the next, so that it records them in one
//! transaction rather than one commit per mail. They come in the order the server answers,
//! which across connections is not the batch's order. Every step runs under the
//! configured timeout, a mail's content under four times it (a large mail over
//! a slow link is not a hang).
//!
//! Results are classified by who is at fault. A 5xx answer to one mail (sender,
//! recipient or message refused) fails that mail at once, with the server's
//! reply recorded; a 4xx answer is a transient failure of that mail. Either way
//! the next mail goes over the same connection, after RSET if the transaction
//! was left open. A refused login, a server that cannot be reached, and TLS
//! errors are about the path, not the mail: transient. A connection that meets
//! one while others are open leaves its mail to them and closes; when the last
//! one meets it, that mail and the rest of the batch get the same error without
//! being tried.
//!
//! A connection lost before a mail's content went out (a network error, a
//! timeout or a 421 during MAIL, RCPT or DATA) took nothing: the mail is tried
//! once more on a new connection. A connection lost while the content was on
//! its way, or before the reply to the final dot arrived, leaves it unknown
//! whether the server kept the mail: that mail is a transient failure and is
//! retried later with the same Message-ID (so it may arrive twice), and the next
//! mail goes over a new connection. A mail the server accepted (250 to the dot)
//! is never sent again.

mod tls;

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

use super::{Outgoing, SendError};
use crate::config::{Server, SmtpConfig, TlsMode};

type SmtpError = lettre::transport::smtp::Error;

/// The mechanisms we log in with, in order of preference.
const MECHANISMS: &[Mechanism] = &[Mechanism::Plain, Mechanism::Login];

#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    #[error(transparent)]
    CaFile(#[from] crate::net::TlsSetupError),
    #[error("TLS setup for {server} failed: {source}")]
    Tls {
        server: String,
        source: lettre::transport::smtp::Error,
    },
    #[error("the SMTP transport needs the tokio runtime")]
    NoRuntime,
}

/// How a connection is secured.
enum Security {
    Plain,
    /// TLS from the first byte: our own handshake, then lettre speaks SMTP in it.
    Implicit(TlsConnector),
    /// lettre upgrades the connection after its first EHLO.
    Starttls(TlsParameters),
}

pub struct SmtpTransport {
    server: Server,
    hello: ClientId,
    credentials: Option<Credentials>,
    security: Security,
    runtime: tokio::runtime::Handle,
    /// The most connections one batch goes over.
    connections: usize,
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl SmtpTransport {
    /// `hello_name` is what we call ourselves in EHLO (the program's domain).
    pub fn new(config: &SmtpConfig, hello_name: &str) -> Result<Self, SmtpSetupError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| SmtpSetupError::NoRuntime)?;
        let server = config.server.clone();
        let security = match server.tls {
            TlsMode::None => Security::Plain,
            TlsMode::Implicit => Security::Implicit(TlsConnector::from(crate::net::client_config(
                server.ca_file.as_deref(),
            )?)),
            TlsMode::Starttls => {
                let tls_error = |source| SmtpSetupError::Tls {
                    server: server.to_string(),
                    source,
                };
                let mut params = TlsParameters::builder(server.host.clone());
                if let Some(path) = &server.ca_file {
                    for der in crate::net::read_ca_file(path)? {
                        params = params.add_root_certificate(
                            Certificate::from_der(der.to_vec()).map_err(tls_error)?,
                        );
                    }
                }
                Security::Starttls(params.build_rustls().map_err(tls_error)?)
            }
        };
        let credentials = config.credentials.as_ref().map(|creds| {
            Credentials::new(creds.username.clone(), creds.password.expose().to_owned())
        });
        Ok(Self {
            hello: ClientId::Domain(hello_name.to_owned()),
            server,
            credentials,
            security,
            runtime,
            connections: config.connections.max(1),
        })
    }

    pub fn server(&self) -> &Server {
        &self.server
    }

    /// Connects, says EHLO, upgrades to TLS and logs in as configured, then quits.
    pub async fn check(&self) -> Result<(), SendError> {
        let mut conn = self.connect().await?;
        let alive = self
            .within(self.server.timeout, conn.inner.test_connected())
            .await?;
        conn.quit(self.server.timeout).await;
        if alive {
            Ok(())
        } else {
            Err(SendError::transient(format!(
                "SMTP server {} did not accept the connection",
                self.server
            )))
        }
    }

    /// Delivers each mail and tells `done` each result (with its index) as soon
    /// as it is final, over up to `connections` connections at once, several
    /// results at a time where they are final at once (see the module doc).
    /// Blocking: call it from a blocking thread. The connections run on the
    /// runtime from a thread of their own while this one calls `done`, so
    /// recording one group of results does not hold up the mails in flight.
    /// Once the server cannot be reached or refuses us on every connection,
    /// the rest are not tried: no mail is to blame, and each gets the same
    /// transient error. An error from `done` ends the batch: no connection
    /// starts another mail, and the mails other connections had in flight are
    /// not told of (they are sent again later).
    pub fn send_batch<E>(
        &self,
        mails: &[Outgoing<'_>],
        mut done: impl FnMut(Vec<(usize, Result<(), SendError>)>) -> Result<(), E>,
    ) -> Result<(), E> {
        let lanes = self.connections.min(mails.len()).max(1);
        let (results_tx, results_rx) = std::sync::mpsc::channel::<Told>();
        let (recorded_tx, recorded_rx) = tokio::sync::watch::channel(0u64);
        let stopped = AtomicBool::new(false);
        let dispatch = Dispatch {
            next: 0,
            returned: Vec::new(),
            open: lanes,
            sequence: 0,
            results: results_tx,
            recorded: recorded_rx,
            stopped: &stopped,
        };
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let dispatch = RefCell::new(dispatch);
                self.runtime.block_on(async {
                    let lanes = (0..lanes).map(|_| self.lane(mails, &dispatch));
                    futures::future::join_all(lanes).await;
                });
                // Dropping the dispatcher closes the channel: the loop below
                // ends once it has told every result sent.
            });
            // Owned here, so that a panic in `done` drops it and the
            // connections stop waiting for a record that will not come.
            let recorded_tx = recorded_tx;
            let mut told = Ok(());
            // Everything that arrived while the previous group was recorded
            // is the next group.
            while let Ok(first) = results_rx.recv() {
                let mut last = first.sequence;
                let mut group = vec![(first.index, first.result)];
                for more in results_rx.try_iter() {
                    last = more.sequence;
                    group.push((more.index, more.result));
                }
                told = done(group);
                if told.is_err() {
                    stopped.store(true, Ordering::Relaxed);
                    recorded_tx.send_replace(u64::MAX);
                    break;
                }
                recorded_tx.send_replace(last + 1);
            }
            tracing::debug!(mails = mails.len(), connections = lanes, "SMTP batch done");
            told
        })
    }

    /// One connection's share of a batch: it takes mails until none is left,
    /// and each result is recorded before it starts the next.
    async fn lane(&self, mails: &[Outgoing<'_>], dispatch: &RefCell<Dispatch<'_>>) {
        let mut conn: Option<Connection> = None;
        loop {
            let Some(i) = dispatch.borrow_mut().take(mails.len()) else {
                break;
            };
            match self.send_one(&mut conn, &mails[i]).await {
                Ok(result) => {
                    let (sequence, mut recorded) = {
                        let mut dispatch = dispatch.borrow_mut();
                        (dispatch.tell(i, result), dispatch.recorded.clone())
                    };
                    if recorded.wait_for(|&r| r > sequence).await.is_err() {
                        // The caller is gone (it panicked): the batch is over.
                        break;
                    }
                }
                Err(path) => {
                    let mut dispatch = dispatch.borrow_mut();
                    if dispatch.open > 1 {
                        // Nothing of this mail went out: another connection
                        // takes it.
                        tracing::info!(error = %path, "SMTP connection failed; the others carry on");
                        dispatch.returned.push(i);
                    } else {
                        dispatch.tell(i, Err(path.clone()));
                        while let Some(rest) = dispatch.take(mails.len()) {
                            dispatch.tell(rest, Err(path.clone()));
                        }
                    }
                    break;
                }
            }
        }
        dispatch.borrow_mut().open -= 1;
        if let Some(mut conn) = conn {
            conn.quit(self.server.timeout).await;
        }
    }

    /// One mail over the connection in `slot`, opened if there is none. The
    /// outer error is about the path (the rest of the batch cannot go either);
    /// the inner result is this mail's.
    async fn send_one(
        &self,
        slot: &mut Option<Connection>,
        mail: &Outgoing<'_>,
    ) -> Result<Result<(), SendError>, SendError> {
        let envelope = match super::lettre_envelope(&mail.envelope) {
            Ok(envelope) => envelope,
            Err(err) => return Ok(Err(err)),
        };
        let mut tried_again = false;
        loop {
            let conn = match slot {
                Some(conn) => conn,
                None => slot.insert(self.connect().await?),
            };
            let failure = match self.transact(conn, mail, &envelope).await {
                Ok(()) => {
                    conn.accepted += 1;
                    tracing::debug!(message_id = %mail.message_id, on_connection = conn.accepted, "accepted by SMTP server");
                    return Ok(Ok(()));
                }
                Err(failure) => failure,
            };
            match failure {
                Failure::Refused { error, then } => {
                    match then {
                        After::Continue => {}
                        After::Reset => {
                            let reset = self.within(self.server.timeout, conn.inner.command(Rset));
                            if !matches!(reset.await, Ok(Ok(_))) {
                                *slot = None;
                            }
                        }
                        After::Close => *slot = None,
                    }
                    return Ok(Err(error));
                }
                Failure::LostBeforeContent(error) => {
                    *slot = None;
                    if tried_again {
                        return Ok(Err(error));
                    }
                    tracing::info!(message_id = %mail.message_id, error = %error, "SMTP connection lost before the mail went out; trying it again on a new one");
                    tried_again = true;
                }
                Failure::Uncertain(error) => {
                    *slot = None;
                    tracing::warn!(message_id = %mail.message_id, error = %error, "SMTP connection lost while sending; the mail may arrive twice");
                    return Ok(Err(error));
                }
                Failure::Path(error) => {
                    *slot = None;
                    return Err(error);
                }
            }
        }
    }

    /// Opens a connection: TCP without Nagle's delay, TLS, EHLO and AUTH.
    async fn connect(&self) -> Result<Connection, SendError> {
        let limit = self.server.timeout;
        let tcp = self
            .within(
                limit,
                TcpStream::connect((self.server.host.as_str(), self.server.port)),
            )
            .await?
            .map_err(|err| self.unreachable(&err))?;
        tcp.set_nodelay(true)
            .map_err(|err| self.unreachable(&err))?;
        let stream: Box<dyn AsyncTokioStream> = match &self.security {
            Security::Plain | Security::Starttls(_) => Box::new(tcp),
            Security::Implicit(connector) => {
                let name = ServerName::try_from(self.server.host.clone())
                    .map_err(|err| self.unreachable(&err))?;
                let tls = self
                    .within(limit, connector.connect(name, tcp))
                    .await?
                    .map_err(|err| self.unreachable(&err))?;
                Box::new(tls::ImplicitTls(tls))
            }
        };
        let mut inner = self
            .within(
                limit,
                AsyncSmtpConnection::connect_with_transport(stream, &self.hello),
            )
            .await?
            .map_err(|err| self.connection_error(&err))?;
        if let Security::Starttls(params) = &self.security {
            self.within(limit, inner.starttls(params.clone(), &self.hello))
                .await?
                .map_err(|err| self.connection_error(&err))?;
        }
        // lettre keeps only the EHLO keywords it uses, and PIPELINING is not
        // one of them: ask again and read the answer ourselves.
        let ehlo = self
            .within(limit, inner.command(Ehlo::new(self.hello.clone())))
            .await?
            .map_err(|err| self.connection_error(&err))?;
        let pipelining = ehlo.message().any(|line| {
            line.split_whitespace()
                .next()
                .is_some_and(|word| word.eq_ignore_ascii_case("PIPELINING"))
        });
        if let Some(credentials) = &self.credentials {
            self.within(limit, inner.auth(MECHANISMS, credentials))
                .await?
                .map_err(|err| self.connection_error(&err))?;
        }
        Ok(Connection {
            inner,
            pipelining,
            accepted: 0,
        })
    }

    /// One mail transaction: MAIL, RCPT, DATA, then the content.
    async fn transact(
        &self,
        conn: &mut Connection,
        mail: &Outgoing<'_>,
        envelope: &lettre::address::Envelope,
    ) -> Result<(), Failure> {
        let command = self.mail_command(conn, envelope, mail.bytes)?;
        let rcpts: Vec<Rcpt> = envelope
            .to()
            .iter()
            .map(|to| Rcpt::new(to.clone(), Vec::new()))
            .collect();
        let replies = if conn.pipelining {
            self.within(
                self.server.timeout,
                pipelined(&mut conn.inner, &command, &rcpts),
            )
            .await
        } else {
            self.within(
                self.server.timeout,
                one_by_one(&mut conn.inner, &command, &rcpts),
            )
            .await
        };
        let envelope_stage = match replies {
            Ok(stage) => stage,
            Err(timeout) => return Err(Failure::LostBeforeContent(timeout)),
        };
        match envelope_stage {
            Stage::Ready => {}
            Stage::Lost(err) => {
                return Err(Failure::LostBeforeContent(self.connection_error(&err)));
            }
            Stage::Refused { error, data_open } => {
                return Err(self.refused(
                    &error,
                    if data_open {
                        After::Close
                    } else {
                        After::Reset
                    },
                ));
            }
        }
        // The whole content gets a generous multiple of the per-operation
        // timeout: a large mail over a slow link is not a hang.
        let limit = self.server.timeout.saturating_mul(4);
        match self.within(limit, conn.inner.message(mail.bytes)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) if err.status().is_some() => Err(self.refused(&err, After::Continue)),
            Ok(Err(err)) => Err(Failure::Uncertain(self.connection_error(&err))),
            Err(timeout) => Err(Failure::Uncertain(timeout)),
        }
    }

    /// MAIL FROM with the parameters the mail needs, as lettre would send it;
    /// a server that lacks them cannot take this mail.
    fn mail_command(
        &self,
        conn: &Connection,
        envelope: &lettre::address::Envelope,
        bytes: &[u8],
    ) -> Result<Mail, Failure> {
        let info = conn.inner.server_info();
        let cannot = |what: &str| Failure::Refused {
            error: SendError::transient(format!(
                "SMTP server {} cannot take this mail: {what}",
                self.server
            )),
            then: After::Continue,
        };
        let mut parameters = Vec::new();
        let non_ascii_address = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|a: &lettre::Address| !AsRef::<str>::as_ref(a).is_ascii());
        if non_ascii_address {
            if !info.supports_feature(Extension::SmtpUtfEight) {
                return Err(cannot("an address is not ASCII and it lacks SMTPUTF8"));
            }
            parameters.push(MailParameter::SmtpUtfEight);
        }
        if !bytes.is_ascii() {
            if !info.supports_feature(Extension::EightBitMime) {
                return Err(cannot("the mail is not ASCII and it lacks 8BITMIME"));
            }
            parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        Ok(Mail::new(envelope.from().cloned(), parameters))
    }

    /// A negative reply to one mail. 421 (the server is closing) and the
    /// codes of a missing or refused login are about the path.
    fn refused(&self, err: &SmtpError, then: After) -> Failure {
        let code = err.status().map(|c| c.to_string()).unwrap_or_default();
        if code == "421" {
            let error = self.connection_error(err);
            return match then {
                // After the dot, 421 is still an answer: the mail was not taken.
                After::Continue => Failure::Refused {
                    error,
                    then: After::Close,
                },
                _ => Failure::LostBeforeContent(error),
            };
        }
        if is_login_failure(err) {
            return Failure::Path(self.connection_error(err));
        }
        let error = if err.is_permanent() {
            SendError::permanent(format!(
                "SMTP server {} refused the mail: {err}",
                self.server
            ))
        } else {
            self.connection_error(err)
        };
        Failure::Refused { error, then }
    }

    fn connection_error(&self, err: &SmtpError) -> SendError {
        let what = if is_login_failure(err) {
            "refused our login (check [transport] username and password)"
        } else if err.is_transient() {
            "answered with a temporary failure"
        } else if err.is_permanent() {
            "refused"
        } else {
            "could not be reached"
        };
        SendError::transient(format!("SMTP server {} {what}: {err}", self.server))
    }

    fn unreachable(&self, err: &dyn fmt::Display) -> SendError {
        SendError::transient(format!(
            "SMTP server {} could not be reached: {err}",
            self.server
        ))
    }

    /// Runs `fut` under `limit`; running out is a transient error.
    async fn within<F: Future>(&self, limit: Duration, fut: F) -> Result<F::Output, SendError> {
        tokio::time::timeout(limit, fut).await.map_err(|_| {
            SendError::transient(format!(
                "SMTP server {} did not answer within {:?}",
                self.server, limit
            ))
        })
    }
}

/// One mail's result on its way to the caller.
struct Told {
    /// The order results were told in, from 0.
    sequence: u64,
    index: usize,
    result: Result<(), SendError>,
}

/// Hands a batch's mails to its connections and their results to the caller.
struct Dispatch<'a> {
    /// The first mail no connection has taken yet.
    next: usize,
    /// Mails a failed connection took but did not send.
    returned: Vec<usize>,
    /// Connections still taking mail.
    open: usize,
    /// The next result's sequence number.
    sequence: u64,
    results: std::sync::mpsc::Sender<Told>,
    /// How many results the caller has recorded.
    recorded: tokio::sync::watch::Receiver<u64>,
    /// The caller failed: the batch is over.
    stopped: &'a AtomicBool,
}

impl Dispatch<'_> {
    /// The next mail to send, unless the batch is over.
    fn take(&mut self, len: usize) -> Option<usize> {
        if self.stopped.load(Ordering::Relaxed) {
            return None;
        }
        self.returned.pop().or_else(|| {
            let i = self.next;
            (i < len).then(|| {
                self.next += 1;
                i
            })
        })
    }

    /// Sends one mail's result to the caller; its sequence number.
    fn tell(&mut self, index: usize, result: Result<(), SendError>) -> u64 {
        let sequence = self.sequence;
        self.sequence += 1;
        // A caller that stopped listening has failed: `take` ends the batch.
        let _ = self.results.send(Told {
            sequence,
            index,
            result,
        });
        sequence
    }
}

/// An open, logged-in connection.
struct Connection {
    inner: AsyncSmtpConnection,
    /// The server offered PIPELINING in its EHLO answer.
    pipelining: bool,
    /// Mails the server accepted on this connection.
    accepted: u32,
}

impl Connection {
    /// Says goodbye; a server that does not answer is left all the same.
    async fn quit(&mut self, limit: Duration) {
        let _ = tokio::time::timeout(limit, self.inner.quit()).await;
    }
}

/// Why a mail did not go through, and what that means for the connection.
enum Failure {
    /// The server answered no.
    Refused { error: SendError, then: After },
    /// The connection broke before the content was sent: nothing was taken.
    LostBeforeContent(SendError),
    /// The connection broke while the content was on its way or before the
    /// server answered it: the mail may or may not have been taken.
    Uncertain(SendError),
    /// The server will take no mail from us on any connection now.
    Path(SendError),
}

/// What the connection needs after a refused mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// The transaction is over: go on.
    Continue,
    /// The transaction is open: RSET it.
    Reset,
    /// The server waits for content we will not send: only closing ends it.
    Close,
}

/// How the envelope commands went.
enum Stage {
    /// DATA was answered 354: the content may follow.
    Ready,
    Refused {
        /// The first negative reply.
        error: SmtpError,
        /// DATA was accepted although an earlier command was not (a
        /// pipelined group with some recipients refused).
        data_open: bool,
    },
    Lost(SmtpError),
}

/// MAIL, RCPT… and DATA in one write, then each reply in order.
async fn pipelined(conn: &mut AsyncSmtpConnection, mail: &Mail, rcpts: &[Rcpt]) -> Stage {
    let expected = rcpts.len() + 2;
    let mut replies = Vec::with_capacity(expected);
    let mut reply = conn.command(Group { mail, rcpts }).await;
    loop {
        match reply {
            // No SMTP answer (a network error, garbage): the connection is lost.
            Err(err) if err.status().is_none() => return Stage::Lost(err),
            reply => replies.push(reply),
        }
        if replies.len() == expected {
            break;
        }
        reply = conn.read_response().await;
    }
    let data_open = replies.last().is_some_and(Result::is_ok);
    match replies.into_iter().find_map(Result::err) {
        None => Stage::Ready,
        Some(error) => Stage::Refused { error, data_open },
    }
}

/// MAIL, RCPT… and DATA each waiting for its reply; the first refusal ends it.
async fn one_by_one(conn: &mut AsyncSmtpConnection, mail: &Mail, rcpts: &[Rcpt]) -> Stage {
    let check = |reply: Result<_, SmtpError>| match reply {
        Ok(_) => None,
        Err(err) if err.status().is_some() => Some(Stage::Refused {
            error: err,
            data_open: false,
        }),
        Err(err) => Some(Stage::Lost(err)),
    };
    if let Some(stage) = check(conn.command(mail).await) {
        return stage;
    }
    for rcpt in rcpts {
        if let Some(stage) = check(conn.command(rcpt).await) {
            return stage;
        }
    }
    check(conn.command(Data).await).unwrap_or(Stage::Ready)
}

/// A pipelined group: lettre's own commands, written as one string.
struct Group<'a> {
    mail: &'a Mail,
    rcpts: &'a [Rcpt],
}

impl fmt::Display for Group<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.mail)?;
        for rcpt in self.rcpts {
            write!(f, "{rcpt}")?;
        }
        write!(f, "{Data}")
    }
}

/// Authentication failures (RFC 4954: 530, 534, 535, 538) are about our
/// credentials, not the mail: retry once they are fixed.
fn is_login_failure(err: &SmtpError) -> bool {
    err.status().is_some_and(|code| {
        let code = code.to_string();
        matches!(code.as_str(), "530" | "534" | "535" | "538")
    })
}

#[cfg(test)]
mod tests;
