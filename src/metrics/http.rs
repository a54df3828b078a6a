//! The listener behind `[metrics] listen`: a minimal HTTP/1.x server that
//! answers `GET /metrics` and `GET /healthz` and nothing else, one request per
//! connection.
//!
//! It is built to stay harmless whoever connects: a request must arrive whole
//! (at most [`MAX_REQUEST`] bytes of head, no body) within [`REQUEST_TIME`],
//! the answer must be taken within [`WRITE_TIME`], and at most
//! [`MAX_CONNECTIONS`] are served at once; a connection beyond that is told
//! 503 and closed at once rather than queued, so idle connections cannot pile
//! up. Everything else it is sent is answered 400, 404, 405 or 431 and closed.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// The most request head read; a scraper sends a few hundred bytes.
pub const MAX_REQUEST: usize = 8 * 1024;
/// How long a client has to send its whole request.
pub const REQUEST_TIME: Duration = Duration::from_secs(2);
/// How long a client has to take the answer.
pub const WRITE_TIME: Duration = Duration::from_secs(5);
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 32;

/// The pages there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Metrics,
    Health,
}

/// An answer: status, content type, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Reply {
    fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: format!("{body}\n"),
        }
    }
}

/// Makes a page's answer.
pub type Handler = Arc<dyn Fn(Page) -> BoxFuture<'static, Reply> + Send + Sync>;

/// What a request asked for, or why it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Page(Page),
    BadRequest,
    NotFound,
    MethodNotAllowed,
}

/// Routes a request head (up to its blank line). Only `GET`; the query string
/// is ignored, as a scraper may add one.
pub fn route(head: &[u8]) -> Route {
    let Ok(head) = std::str::from_utf8(head) else {
        return Route::BadRequest;
    };
    let line = head.split("\r\n").next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1")
        || method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || !target.starts_with('/')
    {
        return Route::BadRequest;
    }
    let path = target.split('?').next().unwrap_or_default();
    let page = match path {
        "/metrics" => Page::Metrics,
        "/healthz" => Page::Health,
        _ => return Route::NotFound,
    };
    if method == "GET" {
        Route::Page(page)
    } else {
        Route::MethodNotAllowed
    }
}

/// Serves `listener` until `cancel` fires.
pub async fn serve(listener: TcpListener, handler: Handler, cancel: CancellationToken) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = cancel.cancelled() => return,
        };
        let (stream, _) = match accepted {
            Ok(a) => a,
            Err(err) => {
                // Out of file descriptors, mostly: pause rather than spin.
                tracing::warn!(error = %err, "metrics listener cannot accept");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let cancel = cancel.clone();
        match slots.clone().try_acquire_owned() {
            Ok(permit) => {
                let handler = handler.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        () = answer(stream, &handler) => {}
                        () = cancel.cancelled() => {}
                    }
                    drop(permit);
                });
            }
            Err(_) => {
                tokio::spawn(async move {
                    let busy = Reply::text(503, "busy");
                    let _ = tokio::time::timeout(WRITE_TIME, write(stream, &busy)).await;
                });
            }
        }
    }
}

async fn answer(mut stream: TcpStream, handler: &Handler) {
    let head = match tokio::time::timeout(REQUEST_TIME, read_head(&mut stream)).await {
        Ok(Ok(head)) => head,
        Ok(Err(Refused::TooLarge)) => {
            let reply = Reply::text(431, "request too large");
            let _ = tokio::time::timeout(WRITE_TIME, write(stream, &reply)).await;
            return;
        }
        // Closed before a whole request, or too slow: nothing to answer.
        Ok(Err(Refused::Closed)) | Err(_) => return,
    };
    let reply = match route(&head) {
        Route::Page(page) => handler(page).await,
        Route::BadRequest => Reply::text(400, "bad request"),
        Route::NotFound => Reply::text(404, "not found: try /metrics or /healthz"),
        Route::MethodNotAllowed => Reply::text(405, "only GET"),
    };
    let _ = tokio::time::timeout(WRITE_TIME, write(stream, &reply)).await;
}

enum Refused {
    TooLarge,
    Closed,
}

/// Reads up to the blank line that ends a request head.
async fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, Refused> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await.map_err(|_| Refused::Closed)?;
        if n == 0 {
            return Err(Refused::Closed);
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            head.truncate(end);
            return Ok(head);
        }
        if head.len() > MAX_REQUEST {
            return Err(Refused::TooLarge);
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

async fn write(mut stream: TcpStream, reply: &Reply) -> std::io::Result<()> {
    let allow = if reply.status == 405 {
        "Allow: GET\r\n"
    } else {
        ""
    };
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n{allow}Connection: close\r\n\r\n",
        reply.status,
        reason(reply.status),
        reply.content_type,
        reply.body.len(),
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(reply.body.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_get_of_the_two_pages_is_served() {
        assert_eq!(
            route(b"GET /metrics HTTP/1.1\r\nHost: x"),
            Route::Page(Page::Metrics)
        );
        assert_eq!(route(b"GET /healthz HTTP/1.0"), Route::Page(Page::Health));
        assert_eq!(
            route(b"GET /metrics?x=1 HTTP/1.1"),
            Route::Page(Page::Metrics)
        );
        assert_eq!(route(b"POST /metrics HTTP/1.1"), Route::MethodNotAllowed);
        assert_eq!(route(b"HEAD /healthz HTTP/1.1"), Route::MethodNotAllowed);
        assert_eq!(route(b"GET / HTTP/1.1"), Route::NotFound);
        assert_eq!(route(b"GET /metrics/../etc HTTP/1.1"), Route::NotFound);
    }

    #[test]
    fn garbage_is_a_bad_request() {
        for head in [
            &b""[..],
            b"\xff\xfe\x00",
            b"GET /metrics",
            b"GET /metrics HTTP/2.0",
            b"GET  /metrics HTTP/1.1",
            b"get /metrics HTTP/1.1",
            b"GET metrics HTTP/1.1",
            b"GET /metrics HTTP/1.1 extra",
        ] {
            assert_eq!(route(head), Route::BadRequest, "{head:?}");
        }
    }
}
