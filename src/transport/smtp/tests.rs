//! The SMTP transport against a scripted server on loopback that counts
//! connections and keeps what it accepted. The real Postfix runs in the
//! integration tests (`tests/it/live.rs`).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::*;
use crate::transport::Envelope;

/// How the scripted server behaves.
#[derive(Debug, Clone, Copy, Default)]
struct Script {
    pipelining: bool,
    /// Refused at RCPT with 550.
    refuse: Option<&'static str>,
    /// On the first RCPT for this address the server closes the connection.
    drop_at_rcpt: Option<&'static str>,
    /// After the final dot of the first mail to this address the server keeps
    /// the mail but closes the connection without answering.
    drop_after_dot: Option<&'static str>,
    /// The n-th connection (from 1) is greeted with 421 and closed.
    refuse_connection: Option<usize>,
    /// How long the server takes to answer a mail's final dot.
    think: Duration,
}

/// What the server saw.
#[derive(Debug, Default)]
struct Seen {
    connections: usize,
    /// The recipients of each mail accepted, in order.
    accepted: Vec<Vec<String>>,
    resets: usize,
    dropped: Vec<&'static str>,
    /// Mails whose content is being received or answered right now, and the
    /// most there were at once.
    in_progress: usize,
    most_in_progress: usize,
}

struct FakeServer {
    port: u16,
    seen: Arc<Mutex<Seen>>,
}

impl FakeServer {
    fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = seen.clone();
        // A thread per connection; the threads end with the test process.
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let number = {
                    let mut seen = lock(&shared);
                    seen.connections += 1;
                    seen.connections
                };
                if script.refuse_connection == Some(number) {
                    let _ = stream.write_all(b"421 4.7.0 too many connections\r\n");
                    continue;
                }
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, script, &shared));
            }
        });
        Self { port, seen }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        lock(&self.seen)
    }
}

fn lock(seen: &Mutex<Seen>) -> std::sync::MutexGuard<'_, Seen> {
    seen.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One SMTP session; returns when the client quits or the script drops it.
fn serve(stream: TcpStream, script: Script, seen: &Mutex<Seen>) -> std::io::Result<()> {
    // Each reply is its own write: with Nagle's algorithm the server's second
    // reply to a pipelined group would wait for the client's delayed ACK.
    stream.set_nodelay(true)?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    out.write_all(b"220 fake ESMTP\r\n")?;
    let mut rcpts: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        let address = || {
            let start = line.find('<').map_or(0, |i| i + 1);
            let end = line.find('>').unwrap_or(line.len());
            line[start..end].to_owned()
        };
        let reply: String = if upper.starts_with("EHLO") {
            let pipelining = if script.pipelining {
                "250-PIPELINING\r\n"
            } else {
                ""
            };
            format!("250-fake\r\n{pipelining}250 8BITMIME\r\n")
        } else if upper.starts_with("MAIL") {
            rcpts.clear();
            "250 2.1.0 Ok\r\n".into()
        } else if upper.starts_with("RCPT") {
            let to = address();
            let mut seen = lock(seen);
            if script.refuse == Some(to.as_str()) {
                format!("550 5.1.1 <{to}>: Recipient address rejected\r\n")
            } else if let Some(drop) = script.drop_at_rcpt.filter(|d| *d == to)
                && !seen.dropped.contains(&drop)
            {
                seen.dropped.push(drop);
                return Ok(());
            } else {
                rcpts.push(to);
                "250 2.1.5 Ok\r\n".into()
            }
        } else if upper.starts_with("DATA") {
            if rcpts.is_empty() {
                "554 5.5.1 Error: no valid recipients\r\n".into()
            } else {
                out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
                {
                    let mut seen = lock(seen);
                    seen.in_progress += 1;
                    seen.most_in_progress = seen.most_in_progress.max(seen.in_progress);
                }
                loop {
                    line.clear();
                    if input.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                }
                std::thread::sleep(script.think);
                let mut seen = lock(seen);
                seen.in_progress -= 1;
                seen.accepted.push(std::mem::take(&mut rcpts));
                let last = seen.accepted.last().and_then(|r| r.first()).cloned();
                if let Some(drop) = script
                    .drop_after_dot
                    .filter(|d| last.as_deref() == Some(*d))
                    && !seen.dropped.contains(&drop)
                {
                    seen.dropped.push(drop);
                    return Ok(());
                }
                "250 2.0.0 Ok: queued\r\n".into()
            }
        } else if upper.starts_with("RSET") {
            rcpts.clear();
            lock(seen).resets += 1;
            "250 2.0.0 Ok\r\n".into()
        } else if upper.starts_with("NOOP") {
            "250 2.0.0 Ok\r\n".into()
        } else if upper.starts_with("QUIT") {
            out.write_all(b"221 2.0.0 Bye\r\n")?;
            return Ok(());
        } else {
            "502 5.5.2 Error: command not recognized\r\n".into()
        };
        out.write_all(reply.as_bytes())?;
    }
}

/// Mails to `to[i]`, each with a body of a few hundred bytes.
struct Batch {
    recipients: Vec<Vec<String>>,
    ids: Vec<String>,
    body: Vec<u8>,
}

impl Batch {
    fn to(recipients: &[&[&str]]) -> Self {
        let mut body = b"From: security@example.org\r\nSubject: ack\r\n\r\n".to_vec();
        for _ in 0..20 {
            body.extend_from_slice(b"Thank you for your report; we will look at it.\r\n");
        }
        Self {
            recipients: recipients
                .iter()
                .map(|r| r.iter().map(|a| (*a).to_owned()).collect())
                .collect(),
            ids: (0..recipients.len())
                .map(|i| format!("disclosed.{i}@example.org"))
                .collect(),
            body,
        }
    }

    fn numbered(n: usize) -> Self {
        let names: Vec<String> = (0..n).map(|i| format!("r{i}@example.net")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let lists: Vec<[&str; 1]> = names.iter().map(|n| [*n]).collect();
        let refs: Vec<&[&str]> = lists.iter().map(|l| &l[..]).collect();
        Self::to(&refs)
    }

    fn mails(&self) -> Vec<Outgoing<'_>> {
        self.recipients
            .iter()
            .zip(&self.ids)
            .map(|(recipients, id)| Outgoing {
                message_id: id,
                envelope: Envelope {
                    from: "security@example.org",
                    recipients,
                },
                bytes: &self.body,
            })
            .collect()
    }
}

struct Client {
    transport: SmtpTransport,
    _runtime: tokio::runtime::Runtime,
}

impl Client {
    /// One connection per batch: mails go out, and results come, in order.
    fn to_port(port: u16) -> Self {
        Self::with_connections(port, 1)
    }

    fn with_connections(port: u16, connections: usize) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let config = SmtpConfig {
            server: Server {
                host: "127.0.0.1".into(),
                port,
                tls: TlsMode::None,
                ca_file: None,
                timeout: Duration::from_secs(5),
            },
            credentials: None,
            connections,
        };
        let transport = {
            let _entered = runtime.enter();
            SmtpTransport::new(&config, "example.org").expect("transport")
        };
        Self {
            transport,
            _runtime: runtime,
        }
    }

    fn send(&self, batch: &Batch) -> Vec<Result<(), SendError>> {
        let mut results = Vec::new();
        let sent = self.transport.send_batch(&batch.mails(), |told| {
            for (i, result) in told {
                assert_eq!(i, results.len(), "results come in order");
                results.push(result);
            }
            Ok::<_, ()>(())
        });
        assert_eq!(sent, Ok(()));
        results
    }
}

fn single(recipients: &[Vec<String>]) -> Vec<&str> {
    recipients
        .iter()
        .map(|r| r.first().map_or("", String::as_str))
        .collect()
}

#[test]
fn a_batch_goes_over_one_connection_with_or_without_pipelining() {
    for pipelining in [true, false] {
        let server = FakeServer::start(Script {
            pipelining,
            ..Script::default()
        });
        let batch = Batch::numbered(12);
        let results = Client::to_port(server.port).send(&batch);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let seen = server.seen();
        assert_eq!(seen.connections, 1, "pipelining {pipelining}");
        assert_eq!(seen.accepted, batch.recipients, "each mail once, in order");
        assert_eq!(seen.resets, 0, "nothing to reset after accepted mail");
    }
}

#[test]
fn the_final_dot_is_not_held_back_by_nagles_algorithm() {
    // With Nagle's algorithm on, the dot after the content waits for the
    // server's delayed ACK, 40 ms or more on Linux: 60 mails would take 2.4 s.
    let server = FakeServer::start(Script {
        pipelining: true,
        ..Script::default()
    });
    let client = Client::to_port(server.port);
    let batch = Batch::numbered(60);
    let started = Instant::now();
    let results = client.send(&batch);
    let took = started.elapsed();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(took < Duration::from_millis(1500), "60 mails took {took:?}");
}

#[test]
fn a_refused_recipient_fails_only_its_mail() {
    for pipelining in [true, false] {
        let server = FakeServer::start(Script {
            pipelining,
            refuse: Some("r2@example.net"),
            ..Script::default()
        });
        let batch = Batch::numbered(5);
        let results = Client::to_port(server.port).send(&batch);
        for (i, result) in results.iter().enumerate() {
            if i == 2 {
                let err = result.as_ref().expect_err("r2 refused");
                assert!(!err.transient, "{err:?}");
                assert!(
                    err.message.contains("refused the mail") && err.message.contains("550"),
                    "{err:?}"
                );
            } else {
                assert_eq!(result, &Ok(()), "mail {i}");
            }
        }
        let seen = server.seen();
        assert_eq!(seen.connections, 1, "pipelining {pipelining}");
        assert_eq!(seen.resets, 1, "the refused transaction is reset");
        assert_eq!(
            single(&seen.accepted),
            [
                "r0@example.net",
                "r1@example.net",
                "r3@example.net",
                "r4@example.net"
            ]
        );
    }
}

#[test]
fn a_mail_with_one_refused_recipient_reaches_none_of_them() {
    // Pipelined, DATA is accepted for the other recipient before the client
    // has read the refusal: the content must not follow.
    let server = FakeServer::start(Script {
        pipelining: true,
        refuse: Some("bad@example.net"),
        ..Script::default()
    });
    let batch = Batch::to(&[
        &["a@example.net"],
        &["good@example.net", "bad@example.net"],
        &["b@example.net"],
    ]);
    let results = Client::to_port(server.port).send(&batch);
    assert_eq!(results[0], Ok(()));
    assert!(matches!(&results[1], Err(e) if !e.transient), "{results:?}");
    assert_eq!(results[2], Ok(()));
    let seen = server.seen();
    assert_eq!(single(&seen.accepted), ["a@example.net", "b@example.net"]);
}

#[test]
fn a_connection_lost_before_the_content_is_retried_without_resending_accepted_mail() {
    for pipelining in [true, false] {
        let server = FakeServer::start(Script {
            pipelining,
            drop_at_rcpt: Some("r2@example.net"),
            ..Script::default()
        });
        let batch = Batch::numbered(5);
        let results = Client::to_port(server.port).send(&batch);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let seen = server.seen();
        assert_eq!(seen.dropped, ["r2@example.net"], "the drop happened");
        assert_eq!(seen.connections, 2, "pipelining {pipelining}");
        assert_eq!(seen.accepted, batch.recipients, "each mail exactly once");
    }
}

#[test]
fn a_connection_lost_after_the_final_dot_fails_that_mail_and_sends_it_no_second_time() {
    let server = FakeServer::start(Script {
        pipelining: true,
        drop_after_dot: Some("r2@example.net"),
        ..Script::default()
    });
    let batch = Batch::numbered(5);
    let results = Client::to_port(server.port).send(&batch);
    for (i, result) in results.iter().enumerate() {
        if i == 2 {
            // The server kept it, but the client cannot know: retried later.
            assert!(matches!(result, Err(e) if e.transient), "{result:?}");
        } else {
            assert_eq!(result, &Ok(()), "mail {i}");
        }
    }
    let seen = server.seen();
    assert_eq!(seen.connections, 2);
    assert_eq!(seen.accepted, batch.recipients, "none of them twice");
}

#[test]
fn a_recording_failure_stops_the_batch_before_the_next_mail() {
    let server = FakeServer::start(Script {
        pipelining: true,
        ..Script::default()
    });
    let client = Client::to_port(server.port);
    let batch = Batch::numbered(5);
    let mut told = 0;
    let stopped = client.transport.send_batch(&batch.mails(), |results| {
        assert_eq!(results.len(), 1, "one connection: one result at a time");
        let (i, result) = &results[0];
        assert_eq!(result, &Ok(()));
        told += 1;
        if *i == 1 {
            Err("cannot record")
        } else {
            Ok(())
        }
    });
    assert_eq!(stopped, Err("cannot record"));
    assert_eq!(told, 2);
    assert_eq!(
        single(&server.seen().accepted),
        ["r0@example.net", "r1@example.net"],
        "nothing is sent that could not be recorded"
    );
}

#[test]
fn an_unreachable_server_fails_the_batch_transiently() {
    // A port nobody listens on: bind one, then free it.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let results = Client::to_port(port).send(&Batch::numbered(3));
    assert_eq!(results.len(), 3);
    for result in &results {
        let err = result.as_ref().expect_err("nobody listens");
        assert!(err.transient, "{err:?}");
        assert!(err.message.contains("could not be reached"), "{err:?}");
    }
}

/// Sends `batch` over up to `connections` connections; the results by index,
/// after checking that each mail was told of exactly once.
fn send_parallel(port: u16, connections: usize, batch: &Batch) -> Vec<Result<(), SendError>> {
    let client = Client::with_connections(port, connections);
    let mut told: Vec<Option<Result<(), SendError>>> = vec![None; batch.ids.len()];
    let sent = client.transport.send_batch(&batch.mails(), |results| {
        for (i, result) in results {
            assert!(told[i].is_none(), "mail {i} told of twice");
            told[i] = Some(result);
        }
        Ok::<_, ()>(())
    });
    assert_eq!(sent, Ok(()));
    told.into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|| panic!("mail {i} never told of")))
        .collect()
}

fn sorted(mut recipients: Vec<Vec<String>>) -> Vec<Vec<String>> {
    recipients.sort();
    recipients
}

#[test]
fn a_batch_spreads_over_several_connections_that_the_server_works_on_at_once() {
    let server = FakeServer::start(Script {
        pipelining: true,
        think: Duration::from_millis(20),
        ..Script::default()
    });
    let batch = Batch::numbered(16);
    let results = send_parallel(server.port, 4, &batch);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let seen = server.seen();
    assert_eq!(seen.connections, 4);
    assert!(seen.most_in_progress >= 2, "one mail at a time: {seen:?}");
    assert_eq!(
        sorted(seen.accepted.clone()),
        sorted(batch.recipients.clone()),
        "each mail exactly once"
    );
}

#[test]
fn a_batch_smaller_than_the_connections_opens_one_per_mail_at_most() {
    let server = FakeServer::start(Script::default());
    let batch = Batch::numbered(2);
    let results = send_parallel(server.port, 4, &batch);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(server.seen().connections, 2);
}

#[test]
fn a_connection_refused_mid_batch_leaves_its_mail_to_the_others() {
    // The server takes three connections and turns the fourth away.
    let server = FakeServer::start(Script {
        pipelining: true,
        refuse_connection: Some(4),
        think: Duration::from_millis(5),
        ..Script::default()
    });
    let batch = Batch::numbered(12);
    let results = send_parallel(server.port, 4, &batch);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let seen = server.seen();
    assert_eq!(seen.connections, 4, "the refused one was tried");
    assert_eq!(
        sorted(seen.accepted.clone()),
        sorted(batch.recipients.clone()),
        "each mail exactly once, none lost with the refused connection"
    );
}

#[test]
fn over_parallel_connections_a_lost_connection_fails_only_the_mail_it_carried() {
    let server = FakeServer::start(Script {
        pipelining: true,
        drop_at_rcpt: Some("r3@example.net"),
        drop_after_dot: Some("r7@example.net"),
        ..Script::default()
    });
    let batch = Batch::numbered(12);
    let results = send_parallel(server.port, 3, &batch);
    for (i, result) in results.iter().enumerate() {
        if i == 7 {
            // Kept by the server, unknown to the client: retried later.
            assert!(matches!(result, Err(e) if e.transient), "{result:?}");
        } else {
            assert_eq!(result, &Ok(()), "mail {i}");
        }
    }
    let seen = server.seen();
    assert_eq!(seen.dropped.len(), 2, "both drops happened: {seen:?}");
    assert_eq!(
        sorted(seen.accepted.clone()),
        sorted(batch.recipients.clone()),
        "the mail lost before its content is sent once more, none twice"
    );
}

#[test]
fn an_unreachable_server_fails_every_mail_of_a_parallel_batch_once() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let results = send_parallel(port, 4, &Batch::numbered(9));
    assert_eq!(results.len(), 9);
    for result in &results {
        let err = result.as_ref().expect_err("nobody listens");
        assert!(
            err.transient && err.message.contains("could not be reached"),
            "{err:?}"
        );
    }
}

#[test]
fn a_recording_failure_stops_every_connection_from_starting_another_mail() {
    let server = FakeServer::start(Script {
        pipelining: true,
        think: Duration::from_millis(5),
        ..Script::default()
    });
    let client = Client::with_connections(server.port, 4);
    let batch = Batch::numbered(40);
    let (mut calls, mut told, mut after_failure) = (0, 0, 0);
    let stopped = client.transport.send_batch(&batch.mails(), |results| {
        if calls == 3 {
            after_failure += 1;
        }
        calls += 1;
        told += results.len();
        assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
        if calls == 3 {
            Err("cannot record")
        } else {
            Ok(())
        }
    });
    assert_eq!(stopped, Err("cannot record"));
    assert_eq!(after_failure, 0, "nothing is told after the failure");
    let accepted = server.seen().accepted.len();
    // Those told of, and at most one in flight on each other connection.
    assert!(
        accepted <= told + 3,
        "{accepted} mails went out, {told} told"
    );
    assert!(
        accepted < 40,
        "the batch went on: {accepted} mails went out"
    );
}

#[test]
fn answers_that_arrive_while_the_caller_records_are_told_together() {
    let server = FakeServer::start(Script {
        pipelining: true,
        ..Script::default()
    });
    let client = Client::with_connections(server.port, 4);
    let batch = Batch::numbered(24);
    let mut groups = Vec::new();
    let sent = client.transport.send_batch(&batch.mails(), |results| {
        groups.push(results.len());
        // A slow commit: the other connections' answers come in meanwhile.
        std::thread::sleep(Duration::from_millis(20));
        Ok::<_, ()>(())
    });
    assert_eq!(sent, Ok(()));
    assert_eq!(groups.iter().sum::<usize>(), 24, "{groups:?}");
    assert!(groups.len() < 24, "one result per call: {groups:?}");
    assert!(
        groups.iter().all(|&n| n <= 4),
        "more than one per connection: {groups:?}"
    );
    assert_eq!(
        sorted(server.seen().accepted.clone()),
        sorted(batch.recipients.clone())
    );
}
