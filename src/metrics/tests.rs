use super::*;

fn at(s: &str) -> Timestamp {
    s.parse().expect("time")
}

fn gauges() -> StoreGauges {
    StoreGauges {
        messages_by_class: vec![("reporter".into(), 3), ("team".into(), 2)],
        reports_by_state: vec![("new".into(), 2), ("triaged".into(), 1)],
        outbox_queued: 4,
        outbox_failed: 1,
        oldest_queued: Some(at("2026-12-01T11:00:00Z")),
        breaches_by_deadline: vec![("acknowledge".into(), 2)],
    }
}

#[test]
fn the_exposition_shows_the_store_and_the_daemon() {
    let telemetry = Telemetry::default();
    telemetry.delivered(3, 1, 1);
    telemetry.imap_connected(true);
    telemetry.polled(at("2026-12-01T11:59:00Z"));
    let text = render(&Snapshot {
        now: at("2026-12-01T12:00:00Z"),
        store: gauges(),
        telemetry: &telemetry,
        team_key_expires: Some(at("2026-12-31T13:00:00Z")),
    })
    .expect("render");
    let get = |name: &str, labels: &[(&str, &str)]| sample(&text, name, labels);
    assert_eq!(
        get(
            "disclosed_messages_ingested_total",
            &[("class", "reporter")]
        ),
        Some(3.0)
    );
    assert_eq!(get("disclosed_reports", &[("state", "new")]), Some(2.0));
    // A state no report is in is still there, as 0.
    assert_eq!(get("disclosed_reports", &[("state", "fixed")]), Some(0.0));
    assert_eq!(get("disclosed_outbox_queued", &[]), Some(4.0));
    assert_eq!(
        get("disclosed_outbox_oldest_queued_age_seconds", &[]),
        Some(3600.0)
    );
    assert_eq!(get("disclosed_deliveries_failed_total", &[]), Some(2.0));
    assert_eq!(get("disclosed_deliveries_given_up_total", &[]), Some(1.0));
    assert_eq!(
        get(
            "disclosed_deadlines_breached_total",
            &[("deadline", "acknowledge")]
        ),
        Some(2.0)
    );
    assert_eq!(get("disclosed_imap_connected", &[]), Some(1.0));
    assert_eq!(
        get("disclosed_last_successful_poll_timestamp_seconds", &[]),
        Some(at("2026-12-01T11:59:00Z").as_second() as f64)
    );
    assert_eq!(get("disclosed_team_key_expiry_days", &[]), Some(30.0));
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[test]
fn an_expired_team_key_shows_negative_days_and_a_maildir_source_no_imap_gauge() {
    let telemetry = Telemetry::default();
    let text = render(&Snapshot {
        now: at("2026-12-01T12:00:00Z"),
        store: StoreGauges::default(),
        telemetry: &telemetry,
        team_key_expires: Some(at("2026-11-29T12:00:00Z")),
    })
    .expect("render");
    assert_eq!(
        sample(&text, "disclosed_team_key_expiry_days", &[]),
        Some(-2.0)
    );
    assert_eq!(sample(&text, "disclosed_imap_connected", &[]), None);
    assert_eq!(
        sample(
            &text,
            "disclosed_last_successful_poll_timestamp_seconds",
            &[]
        ),
        None
    );
    assert_eq!(
        sample(&text, "disclosed_outbox_oldest_queued_age_seconds", &[]),
        Some(0.0)
    );
}

#[test]
fn health_fails_when_a_loop_has_not_run_for_too_long() {
    let limits = HealthLimits {
        source: Duration::from_secs(60),
        sla: Duration::from_secs(180),
    };
    let t = Telemetry::default();
    let now = at("2026-12-01T12:00:00Z");
    assert!(!t.health(now, limits).ok, "nothing ran, nothing started");
    // A loop that has not run yet gets its limit from the start.
    t.started(now);
    let starting = t.health(at("2026-12-01T12:01:00Z"), limits);
    assert!(starting.ok, "{starting:?}");
    assert_eq!(starting.sla_seconds_ago, None);
    assert!(
        !t.health(at("2026-12-01T12:01:01Z"), limits).ok,
        "the source never ran"
    );
    t.source_alive(now);
    t.ticked(now);
    let health = t.health(at("2026-12-01T12:01:00Z"), limits);
    assert!(health.ok, "{health:?}");
    assert_eq!(health.imap_connected, None);
    let stale = t.health(at("2026-12-01T12:01:01Z"), limits);
    assert!(!stale.ok);
    assert_eq!(stale.source_seconds_ago, Some(61));
    let json: serde_json::Value = serde_json::from_str(&stale.to_json()).expect("json");
    assert_eq!(json["status"], "stalled");
}
