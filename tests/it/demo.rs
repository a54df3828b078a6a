//! The sample Maildir of `examples/demo.sh` works in any year.

use crate::common::{Env, year};

#[test]
fn the_sample_mails_thread_into_their_reports_in_any_year() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/maildir/new");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("examples/maildir/new")
        .map(|e| e.expect("entry").path())
        .collect();
    names.sort();
    assert_eq!(names.len(), 5);
    let env = Env::with_file_transport("");
    env.init();
    let fixed_year = regex::Regex::new(r"SEC-\d{4}-").expect("regex");
    for path in names {
        let text = std::fs::read(&path).expect("read");
        let shown = String::from_utf8_lossy(&text);
        // No year is written into a report id: it would go stale.
        assert!(
            !fixed_year.is_match(&shown),
            "{} names a report of a fixed year",
            path.display()
        );
        // What demo.sh does to the copy it runs.
        let text = shown.replace("SEC-YEAR-", &format!("SEC-{}-", year()));
        env.deliver(text.as_bytes());
    }
    let out = env.run_once();
    assert!(out.contains("opened 3 report(s)"), "{out}");
    assert_eq!(env.report(1).summary.messages, 2, "the follow-up joined");
    assert_eq!(env.report(2).summary.messages, 2, "the auto-reply joined");
    assert_eq!(env.report(3).summary.messages, 1);
}
