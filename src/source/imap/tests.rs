//! IMAP helpers that need no server: UID sets, error kinds, locations.

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
