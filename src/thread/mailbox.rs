//! The mailbox behind an address, for counting what one sender causes: the
//! variants a stranger can write for one inbox (`Victim@example.org`,
//! `victim+1@example.org`) are one sender to the rate limits, so a flood of
//! re-addressed copies does not multiply the mail we send to one victim.

/// `address` lower-cased, without a `+detail` in its local part. An address
/// with no `@`, or whose local part would be empty, is only lower-cased.
pub fn mailbox(address: &str) -> String {
    let address = address.trim().to_lowercase();
    let Some((local, domain)) = address.rsplit_once('@') else {
        return address;
    };
    match local.split_once('+') {
        Some((base, _)) if !base.is_empty() => format!("{base}@{domain}"),
        _ => address,
    }
}

#[cfg(test)]
mod tests {
    use super::mailbox;

    #[test]
    fn one_inbox_written_several_ways_is_one_mailbox() {
        for (written, expected) in [
            ("victim@example.org", "victim@example.org"),
            ("Victim@Example.ORG", "victim@example.org"),
            ("victim+1@example.org", "victim@example.org"),
            ("VICTIM+a+b@example.org", "victim@example.org"),
            ("victim+@example.org", "victim@example.org"),
            (" victim@example.org ", "victim@example.org"),
        ] {
            assert_eq!(mailbox(written), expected, "{written}");
        }
    }

    #[test]
    fn different_inboxes_stay_apart() {
        for (a, b) in [
            ("victim@example.org", "victim@example.net"),
            ("victim@example.org", "victim2@example.org"),
            ("+1@example.org", "+2@example.org"),
            ("no-at-sign", "no-at-sign+1"),
        ] {
            assert_ne!(mailbox(a), mailbox(b), "{a} vs {b}");
        }
    }
}
