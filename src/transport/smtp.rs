//! The SMTP transport: lettre on tokio with rustls. Implicit TLS, STARTTLS, or
//! none on loopback; AUTH when credentials are configured.
//!
//! lettre's own timeout covers only the TCP connect, so every exchange runs under
//! our `timeout`. No connection pool: a pooled connection the server has closed
//! fails the next send, and a disclosure inbox sends a few mails an hour.
//!
//! Results are classified by who is at fault. A 5xx answer to one mail (recipient
//! or message refused) fails that mail at once, with the server's reply recorded.
//! 4xx answers, network and TLS errors, and a refused login are transient: the
//! mail is fine, the path is not, and retrying can work once it is repaired.

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Outgoing, SendError};
use crate::config::{Server, SmtpConfig, TlsMode};

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

pub struct SmtpTransport {
    server: Server,
    inner: AsyncSmtpTransport<Tokio1Executor>,
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
        let tls_error = |source| SmtpSetupError::Tls {
            server: server.to_string(),
            source,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)
            .port(server.port)
            .timeout(Some(server.timeout))
            .hello_name(ClientId::Domain(hello_name.to_owned()));
        if server.tls != TlsMode::None {
            let mut params = TlsParameters::builder(server.host.clone());
            if let Some(path) = &server.ca_file {
                for der in crate::net::read_ca_file(path)? {
                    params = params.add_root_certificate(
                        Certificate::from_der(der.to_vec()).map_err(tls_error)?,
                    );
                }
            }
            let params = params.build_rustls().map_err(tls_error)?;
            builder = builder.tls(match server.tls {
                TlsMode::Implicit => Tls::Wrapper(params),
                _ => Tls::Required(params),
            });
        }
        if let Some(creds) = &config.credentials {
            builder = builder
                .credentials(Credentials::new(
                    creds.username.clone(),
                    creds.password.expose().to_owned(),
                ))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(Self {
            server,
            inner: builder.build(),
            runtime,
        })
    }

    pub fn server(&self) -> &Server {
        &self.server
    }

    /// Connects, says EHLO, upgrades to TLS and logs in as configured, then quits.
    pub async fn check(&self) -> Result<(), SendError> {
        match tokio::time::timeout(self.server.timeout, self.inner.test_connection()).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(SendError::transient(format!(
                "SMTP server {} did not accept the connection",
                self.server
            ))),
            Ok(Err(err)) => Err(self.connection_error(&err)),
            Err(_) => Err(self.timed_out()),
        }
    }

    /// Delivers each mail, one connection per mail, and tells `done` each
    /// result. Blocking: call it from a blocking thread (it drives the async
    /// client on the runtime). Once the server cannot be reached or refuses us,
    /// the rest are not tried: no mail is to blame, and each gets the same
    /// transient error.
    pub fn send_batch<E>(
        &self,
        mails: &[Outgoing<'_>],
        mut done: impl FnMut(usize, Result<(), SendError>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.runtime.block_on(async {
            let mut path_broken: Option<SendError> = None;
            for (i, mail) in mails.iter().enumerate() {
                let result = match &path_broken {
                    Some(err) => Err(err.clone()),
                    None => self.send(mail).await,
                };
                if let Err(err) = &result
                    && err.transient
                {
                    path_broken = Some(err.clone());
                }
                done(i, result)?;
            }
            Ok(())
        })
    }

    async fn send(&self, mail: &Outgoing<'_>) -> Result<(), SendError> {
        let envelope = super::lettre_envelope(&mail.envelope)?;
        // The whole exchange, data included, gets a generous multiple of the
        // per-operation timeout: a large mail over a slow link is not a hang.
        let limit = self.server.timeout.saturating_mul(4);
        match tokio::time::timeout(limit, self.inner.send_raw(&envelope, mail.bytes)).await {
            Ok(Ok(response)) => {
                tracing::debug!(message_id = %mail.message_id, code = %response.code(), "accepted by SMTP server");
                Ok(())
            }
            Ok(Err(err)) if err.is_permanent() && !is_login_failure(&err) => {
                Err(SendError::permanent(format!(
                    "SMTP server {} refused the mail: {err}",
                    self.server
                )))
            }
            Ok(Err(err)) => Err(self.connection_error(&err)),
            Err(_) => Err(self.timed_out()),
        }
    }

    fn connection_error(&self, err: &lettre::transport::smtp::Error) -> SendError {
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

    fn timed_out(&self) -> SendError {
        SendError::transient(format!(
            "SMTP server {} did not answer within {:?}",
            self.server, self.server.timeout
        ))
    }
}

/// Authentication failures (RFC 4954: 530, 534, 535, 538) are about our
/// credentials, not the mail: retry once they are fixed.
fn is_login_failure(err: &lettre::transport::smtp::Error) -> bool {
    err.status().is_some_and(|code| {
        let code = code.to_string();
        matches!(code.as_str(), "530" | "534" | "535" | "538")
    })
}
