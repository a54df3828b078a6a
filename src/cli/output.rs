//! How the read commands print: a table or text for people, JSON for scripts.

use jiff::Timestamp;

use crate::config::Config;
use crate::store::{ReportDetail, ReportSummary};

fn local(at: Timestamp, config: &Config) -> String {
    at.to_zoned_datetime(config.program.timezone.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

pub(super) fn json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(err) => eprintln!("cannot serialize: {err}"),
    }
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

pub fn reports(reports: &[ReportSummary], as_json: bool, config: &Config) {
    if as_json {
        return json(&reports);
    }
    if reports.is_empty() {
        println!("no reports");
        return;
    }
    println!(
        "{:<15} {:<13} {:<22} {:>4}  {:<30} SUBJECT",
        "ID", "STATE", "OPENED", "MSGS", "REPORTER"
    );
    for r in reports {
        println!(
            "{:<15} {:<13} {:<22} {:>4}  {:<30} {}",
            r.id,
            r.state,
            local(r.created_at, config),
            r.messages,
            clip(&r.reporter, 30),
            clip(&r.subject, 60)
        );
    }
}

pub fn report(
    d: &ReportDetail,
    sla: Option<&crate::sla::ReportSla>,
    now: Timestamp,
    as_json: bool,
    config: &Config,
) {
    let cal = crate::sla::calendar(config);
    if as_json {
        #[derive(serde::Serialize)]
        struct WithDeadlines<'a> {
            #[serde(flatten)]
            detail: &'a ReportDetail,
            sla: Option<crate::sla::ReportView>,
        }
        return json(&WithDeadlines {
            detail: d,
            sla: sla.map(|r| r.view(&cal, now)),
        });
    }
    let s = &d.summary;
    println!("{}  [{}]  {}", s.id, s.state, s.subject);
    println!("reporter: {}", s.reporter);
    println!("opened:   {}", local(s.created_at, config));
    println!("updated:  {}", local(s.updated_at, config));
    println!(
        "reply to: {}",
        config.program.address.with_tag(s.id.as_str())
    );
    if let Some(team) = &d.team {
        println!("\nteam:");
        print!(
            "{}",
            crate::respond::control::show(team, &config.program.timezone)
        );
    }
    if let Some(r) = sla {
        println!("\ndeadlines (as of {}):", local(now, config));
        for line in crate::sla::text::report_lines(r, &cal, now) {
            println!("  {line}");
        }
    }
    println!("\nparticipants:");
    for p in &d.participants {
        println!("  {:<10} {}", p.role, p.address);
    }
    println!("\nmessages:");
    for m in &d.messages {
        println!(
            "  #{} {}  {}  from {}  ({}, via {}, {} bytes)",
            m.id,
            local(m.received_at, config),
            clip(&m.subject, 50),
            m.from.as_deref().unwrap_or("?"),
            m.kind,
            m.threaded_by,
            m.size
        );
        if m.openpgp != "plain" {
            let signer = m.signer.as_deref().map_or(String::new(), |f| {
                let matches = match m.signer_matches_from {
                    Some(true) => ", matches From",
                    Some(false) => ", does NOT match From",
                    None => "",
                };
                format!(" by {f}{matches}")
            });
            println!(
                "      openpgp {}: encryption {}, signature {}{signer}",
                m.openpgp, m.encryption, m.signature
            );
        }
        for a in &m.attachments {
            println!(
                "      attachment {} ({}, {} bytes, sha256 {})",
                a.name.as_deref().unwrap_or("(unnamed)"),
                a.content_type,
                a.size,
                &a.sha256[..16.min(a.sha256.len())]
            );
        }
        for p in &m.problems {
            println!("      problem {p}");
        }
        for line in m.text.trim_end().lines() {
            println!("      | {line}");
        }
    }
    if !d.keys.is_empty() {
        println!("\nkeys:");
        for k in &d.keys {
            println!(
                "  {:<8} {}  {}  ({}, from {}, first seen {}, last seen {})",
                k.status,
                k.address,
                k.fingerprint,
                k.trust,
                k.source,
                local(k.first_seen, config),
                local(k.last_seen, config)
            );
        }
    }
    println!("\nevents:");
    for e in &d.events {
        println!(
            "  {}  {:<24} {}  {}",
            local(e.at, config),
            e.kind,
            e.actor,
            e.detail
        );
    }
    println!("\nmail:");
    for o in &d.outbox {
        println!(
            "  {} {:<16} to {}  [{}; {} attempt(s)]{}",
            o.message_id,
            o.kind,
            o.recipients.join(", "),
            o.status,
            o.attempts,
            o.last_error
                .as_deref()
                .map(|e| format!(" last error: {e}"))
                .unwrap_or_default()
        );
    }
}
