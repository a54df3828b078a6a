//! One report from arrival to publication over the real mail stack: a
//! researcher's encrypted report, the team's signed commands through accepted
//! and fixed, the researcher's `Credit:` answer, `#publish` with its signed
//! bulletin in the list's mailbox, the researcher kept informed at each step,
//! the site the daemon publishes (security.txt, Hall of Fame, Security
//! Updates, the advisory and its CVE, OSV and CSAF records) agreeing with the
//! CLI, and the control address answering `#hall-of-fame` and `#advisory`.
//! Nothing the researcher wrote, nor who they or the team are, may reach
//! anything public.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::ToSpan;
use jiff::civil::Date;
use serde_json::Value;

use disclosed::report::{Credit, ReportState};

use crate::advisory::{errors, validator};
use crate::common::{Env, body_text, header, parse_subject, stop, y};
use crate::mailstack::{MailStack, unique};
use crate::pgp::{Gpg, inner_entity, pgp_mime, write_secret};
use crate::team::{Person, mailbox};

const WAIT: Duration = Duration::from_secs(30);
/// Planted in the report and in the researcher's answer: none may reach the
/// list or the site.
const SUBJECT_MARK: &str = "SUBJMARK5810";
const BODY_MARK: &str = "BODYMARK3377";
const ANSWER_MARK: &str = "ANSWERMARK2290";
/// The team's public summary: it must be published.
const SUMMARY: &str = "Stored cross-site scripting in the wiki page title (PUBLICSUMMARY)";
const CVE: &str = "CVE-1900-0001";
const CVSS: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N";

/// Today in program time.
fn today() -> Date {
    use disclosed::clock::Clock;
    disclosed::clock::SystemClock
        .now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Berlin").expect("zone"))
        .date()
}

/// Checks a cleartext-signed `text` with a keyring holding only the team's
/// public key; the signed text.
fn verified(team: &Person, text: &str) -> String {
    let reader = Gpg::new();
    reader.import(&team.public());
    let (signed, status) = reader.decrypt(text.as_bytes());
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("[GNUPG:] VALIDSIG ") && l.contains(&team.fpr)),
        "not signed by the team key:\n{status}\n{text}"
    );
    String::from_utf8_lossy(&signed).into_owned()
}

/// Every file under `dir`, with its path relative to `dir`.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read");
                found.push((path.strip_prefix(dir).expect("under").to_path_buf(), bytes));
            }
        }
    }
    found.sort();
    found
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|err| panic!("{rel}: {err}"))
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("{err}:\n{text}"))
}

/// Waits until the site under `dir` lists `file`: the listing of what a run
/// wrote is written last, so the run is complete then.
fn wait_for_site(dir: &Path, file: &str) {
    let started = Instant::now();
    let listing = dir.join(".disclosed-site");
    while !std::fs::read_to_string(&listing).is_ok_and(|l| l.lines().any(|f| f == file)) {
        assert!(
            started.elapsed() < WAIT,
            "{file} not published after {WAIT:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The running daemon, killed if the test fails before it stops it.
struct Daemon(Option<std::process::Child>);

impl Daemon {
    fn start(env: &Env) -> Self {
        Self(Some(env.spawn_daemon()))
    }

    /// Stops it with SIGTERM, asserting a clean exit.
    fn stop(mut self) {
        if let Some(child) = self.0.take() {
            stop(child);
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn over_the_real_mail_stack_a_report_runs_from_arrival_to_the_published_advisory() {
    let stack = MailStack::start();
    let security = unique("security");
    let list = unique("announce");
    let team = Person::new("Example Security", &security);
    let alice = Person::new("Alice", &unique("alice"));
    let rita = Person::new("Rita Researcher", &unique("rita"));
    alice.gpg.import(&team.public());
    rita.gpg.import(&team.public());

    // The program on the stack: IMAP in, SMTP out, the team key, Rita's key
    // in the keyring (so the acknowledgement can be encrypted at once), Alice
    // as the one member, and everything the end of the process needs.
    let env = Env::with_sections(&security, "", "");
    write_secret(&env.path("team.key"), &team.gpg.export_secret(&team.fpr));
    std::fs::write(env.path("alice.asc"), alice.public()).expect("alice's key");
    std::fs::write(env.path("rita.asc"), rita.public()).expect("rita's key");
    let expires = today().checked_add(180.days()).expect("day");
    env.write_config(&stack.keyed_config(
        &security,
        &format!(
            r#"keyring = "rita.asc"

[sla]
digest = "off"

[sla.severity.high]
fix = "30 days"
fix_max = "45 days"

[publish]
base_url = "https://example.org/security"
dir = "site"

[security_txt]
expires = "{expires}"

[advisory]
vendor = "Example Org"
product = "Example Server"
url = "https://example.org/security/advisories/{{id}}.html"
cna_org_id = "8254265b-2729-46b6-b9e3-3dfca2d5bfca"
cna_short_name = "example"
csaf_namespace = "https://example.org"

[bulletin]
address = "{list}"

[[team.members]]
name = "Alice"
email = "{alice}"
key = "alice.asc"
"#,
            alice = alice.address,
        ),
    ));
    env.init();
    let site = env.path("site");
    let daemon = Daemon::start(&env);
    // The daemon publishes the site when it starts: nobody listed yet.
    wait_for_site(&site, "hall-of-fame.html");
    let hall = read(&site, "hall-of-fame.html");
    assert!(hall.contains("No one is listed yet."), "{hall}");
    let updates = read(&site, "security-updates.html");
    assert!(
        updates.contains("No advisory has been published yet."),
        "{updates}"
    );

    let id = y("SEC-2026-0001");
    let reply_address = security.replace('@', &format!("+{id}@"));
    let control_address = security.replace('@', "+control@");
    let command = |text: &str, n: &str| {
        let mail = alice.signed_mail(
            &reply_address,
            &format!("Re: [{id}] New report: {SUBJECT_MARK}"),
            text,
            &team,
            n,
        );
        stack.send(&alice.address, &reply_address, &mail);
    };

    // 1. Rita reports, signed and encrypted to the team; the acknowledgement
    // reaches her encrypted, and Alice gets the report.
    let inner = inner_entity(
        &format!("{SUBJECT_MARK} XSS in the wiki"),
        &rita.address,
        &format!("{BODY_MARK}: the page title is not escaped.\n"),
        &[],
    );
    let armored = rita
        .gpg
        .encrypt(&inner, &[&team.fpr, &rita.fpr], Some(&rita.fpr));
    let report = pgp_mime(
        &format!(
            "From: Rita Researcher <{}>\r\nTo: {security}\r\nSubject: ...\r\n\
             Date: Fri, 04 Dec 2026 09:00:00 +0000\r\nMessage-ID: <e2e-report@example.test>\r\n",
            rita.address
        ),
        &armored,
    );
    stack.send(&rita.address, &security, &report);
    let rita_box = mailbox(&stack, &rita.address, 1);
    assert!(
        String::from_utf8_lossy(&rita_box[0]).contains("multipart/encrypted"),
        "the acknowledgement is encrypted"
    );
    let ack = rita.read(&rita_box[0], &team.fpr);
    assert!(ack.contains(&id), "{ack}");
    assert!(ack.contains("Credit:"), "the credit question: {ack}");
    let alice_box = mailbox(&stack, &alice.address, 1);
    let notice = alice.read(&alice_box[0], &team.fpr);
    assert!(notice.contains(BODY_MARK), "{notice}");

    // 2. Alice accepts it with its public facts; Rita is told, encrypted,
    // with the fix target (the high severity's 30 days); Alice gets the
    // command reply.
    let accepted_on = today();
    command(
        &format!(
            "#state triaged\n#state accepted\n#severity high\n#cvss {CVSS}\n#cwe CWE-79\n\
             #affects \"Example Server\" < 3.1.1\n#summary {SUMMARY}\n"
        ),
        "e2e-accept",
    );
    let rita_box = mailbox(&stack, &rita.address, 2);
    let update = rita.read(&rita_box[1], &team.fpr);
    let targets = [30, 31].map(|n| accepted_on.checked_add(n.days()).expect("day"));
    assert!(
        update.contains("We have confirmed the issue")
            && targets
                .iter()
                .any(|d| update.contains(&format!("fixed by {d}"))),
        "{update}"
    );
    assert!(!update.contains(&alice.address), "{update}");
    let alice_box = mailbox(&stack, &alice.address, 2);
    let reply = alice.read(&alice_box[1], &team.fpr);
    assert!(
        reply.contains("Reporter update (reporter-accepted): queued, encrypted."),
        "{reply}"
    );
    let d = env.report(1);
    assert_eq!(d.summary.state, ReportState::Accepted);

    // 3. Rita answers how she wants to be credited; Alice sees the answer.
    let answer = rita.signed_mail(
        &reply_address,
        &format!("Re: [{id}] {SUBJECT_MARK} XSS in the wiki"),
        &format!(
            "Thanks! {ANSWER_MARK}\n\nCredit: Rita Researcher from ACME Red Team <https://rita.example>\n"
        ),
        &team,
        "e2e-credit",
    );
    stack.send(&rita.address, &reply_address, &answer);
    let alice_box = mailbox(&stack, &alice.address, 3);
    let follow_up = alice.read(&alice_box[2], &team.fpr);
    assert!(follow_up.contains(ANSWER_MARK), "{follow_up}");
    let d = env.report(1);
    assert_eq!(
        d.team.as_ref().expect("team facts").credit,
        Credit::Named {
            name: "Rita Researcher".into(),
            affiliation: Some("ACME Red Team".into()),
            url: Some("https://rita.example".into()),
            key: None,
        }
    );

    // 4. Fixed in 3.1.1 with a CVE: Rita is told.
    command(
        &format!("#state fixed\n#fixed-in 3.1.1\n#cve {CVE}\n"),
        "e2e-fixed",
    );
    let rita_box = mailbox(&stack, &rita.address, 3);
    let update = rita.read(&rita_box[2], &team.fpr);
    assert!(update.contains("The issue is fixed in 3.1.1"), "{update}");
    assert!(update.contains("co-ordinate the disclosure"), "{update}");
    let alice_box = mailbox(&stack, &alice.address, 4);
    let reply = alice.read(&alice_box[3], &team.fpr);
    assert!(
        reply.contains("Reporter update (reporter-fixed): queued, encrypted."),
        "{reply}"
    );
    assert_eq!(env.report(1).summary.state, ReportState::Fixed);

    // 5. Published: the signed bulletin reaches the list with the public
    // facts only; Rita gets the advisory's URL and her credit line.
    command("#publish\n", "e2e-publish");
    let bulletin = mailbox(&stack, &list, 1).remove(0);
    let subject = parse_subject(&bulletin).unwrap_or_default();
    assert!(
        subject.contains(&id) && subject.contains(CVE) && subject.contains("fixed in 3.1.1"),
        "{subject}"
    );
    assert_eq!(
        header(&bulletin, "Reply-To"),
        None,
        "no way back into the team"
    );
    let signed = verified(&team, &body_text(&bulletin));
    for public in [id.as_str(), CVE, SUMMARY, "3.1.1", "Rita Researcher"] {
        assert!(
            signed.contains(public),
            "no {public} in the bulletin:\n{signed}"
        );
    }
    let private = [
        SUBJECT_MARK,
        BODY_MARK,
        ANSWER_MARK,
        rita.address.as_str(),
        alice.address.as_str(),
        "Alice",
        "-internal@",
    ];
    let whole = String::from_utf8_lossy(&bulletin);
    for p in private {
        assert!(!whole.contains(p), "{p} reached the list:\n{whole}");
    }
    let advisory_url = format!("https://example.org/security/advisories/{id}.html");
    let rita_box = mailbox(&stack, &rita.address, 4);
    let update = rita.read(&rita_box[3], &team.fpr);
    assert!(update.contains(&advisory_url), "{update}");
    assert!(
        update.contains("Rita Researcher from ACME Red Team"),
        "{update}"
    );
    let alice_box = mailbox(&stack, &alice.address, 5);
    let reply = alice.read(&alice_box[4], &team.fpr);
    assert!(reply.contains(&list), "the bulletin is named: {reply}");
    assert_eq!(env.report(1).summary.state, ReportState::Disclosed);

    // 6. The site. The daemon writes it on a tick (at start, then every
    // minute): restarting it publishes the disclosure now.
    daemon.stop();
    let daemon = Daemon::start(&env);
    wait_for_site(&site, &format!("advisories/{id}.csaf.json"));

    let security_txt = read(&site, ".well-known/security.txt");
    let fields = verified(&team, &security_txt);
    assert!(
        fields.contains(&format!("Contact: mailto:{security}")),
        "{fields}"
    );
    assert!(
        fields.contains("Acknowledgments: https://example.org/security/hall-of-fame.html"),
        "{fields}"
    );
    assert!(
        fields.contains(&format!("Expires: {expires}T00:00:00")),
        "{fields}"
    );
    let hall = read(&site, "hall-of-fame.html");
    assert!(
        hall.contains("Rita Researcher") && hall.contains("ACME Red Team"),
        "{hall}"
    );
    let updates = read(&site, "security-updates.html");
    let release = updates
        .split("<section")
        .find(|s| s.contains("Release 3.1.1</h2>"))
        .unwrap_or_else(|| panic!("no release 3.1.1 in:\n{updates}"));
    assert!(
        release.contains(&format!(
            "<a href=\"advisories/{id}.html\">{id}</a> ({CVE})"
        )),
        "{updates}"
    );
    let html = read(&site, &format!("advisories/{id}.html"));
    for public in [CVE, SUMMARY, "CWE-79", "3.1.1", "Rita Researcher"] {
        assert!(
            html.contains(public),
            "no {public} in the advisory:\n{html}"
        );
    }
    // The records validate against the official schemas.
    let cve = json(&read(&site, &format!("advisories/{id}.cve.json")));
    assert_eq!(cve["cveMetadata"]["cveId"], CVE);
    let osv = json(&read(&site, &format!("advisories/{id}.osv.json")));
    assert_eq!(osv["id"], CVE, "keyed by its CVE without an OSV prefix");
    let csaf = json(&read(&site, &format!("advisories/{id}.csaf.json")));
    assert_eq!(csaf["document"]["tracking"]["status"], "final");
    for (schema, value) in [
        ("CVE_Record_Format_bundled.json", &cve),
        ("osv-schema.json", &osv),
        ("csaf_json_schema.json", &csaf),
    ] {
        assert_eq!(
            errors(&validator(schema), value),
            Vec::<String>::new(),
            "{schema}: {value:#}"
        );
    }
    let published = files(&site);
    let suffixes = [".html", ".json", ".cve.json", ".osv.json", ".csaf.json"];
    for want in [".well-known/security.txt", "pgp-key.txt", "statistics.html"]
        .into_iter()
        .map(String::from)
        .chain(suffixes.iter().map(|s| format!("advisories/{id}{s}")))
    {
        assert!(
            published.iter().any(|(p, _)| p == Path::new(&want)),
            "{want} is not published"
        );
    }
    for (path, bytes) in &published {
        let text = String::from_utf8_lossy(bytes);
        for p in private {
            assert!(
                !text.contains(p),
                "{p} is published in {}:\n{text}",
                path.display()
            );
        }
    }

    // The CLI says the same: `publish --out` writes the same site (only the
    // signature's and the OSV record's times may differ), and the Hall of
    // Fame, the CVE record and the report agree with it.
    let out = env.path("site-cli");
    env.ok(&["publish", "--out", out.to_str().expect("utf-8 path")]);
    let by_cli = files(&out);
    let names = |f: &[(PathBuf, Vec<u8>)]| f.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(&by_cli), names(&published), "the same files");
    for ((path, daemon_bytes), (_, cli_bytes)) in published.iter().zip(&by_cli) {
        let name = path.to_string_lossy();
        if name.ends_with("security.txt") {
            assert_eq!(
                verified(&team, &String::from_utf8_lossy(cli_bytes)),
                fields,
                "the same signed fields"
            );
        } else if !name.ends_with(".osv.json") {
            assert!(daemon_bytes == cli_bytes, "{name} differs");
        }
    }
    let hall_json = json(&env.ok(&["hall-of-fame", "--format", "json"]));
    let lines = hall_json.as_array().expect("a list");
    assert_eq!(lines.len(), 1, "{hall_json:#}");
    assert_eq!(lines[0]["name"], "Rita Researcher");
    assert_eq!(lines[0]["affiliation"], "ACME Red Team");
    assert_eq!(lines[0]["url"], "https://rita.example");
    assert_eq!(lines[0]["contributions"], 1);
    let cli_cve = json(&env.ok(&["advisory", &id, "--format", "cve"]));
    assert_eq!(cli_cve, cve, "the published CVE record is the CLI's");
    let shown = json(&env.ok(&["report", &id, "--json"]));
    assert_eq!(shown["state"], "disclosed");
    let facts = &shown["team"];
    assert_eq!(facts["cve"], CVE);
    assert_eq!(facts["fixed_in"], "3.1.1");
    assert_eq!(facts["cwe"], "CWE-79");
    assert_eq!(facts["severity"], "high");
    assert_eq!(facts["cvss_vector"], CVSS);
    assert_eq!(facts["public_summary"], SUMMARY);
    assert_eq!(facts["credit"]["name"], lines[0]["name"]);
    assert_eq!(facts["credit"]["affiliation"], lines[0]["affiliation"]);
    let cna = &cve["containers"]["cna"];
    assert_eq!(cna["problemTypes"][0]["descriptions"][0]["cweId"], "CWE-79");
    assert!(
        cna["credits"].to_string().contains("Rita Researcher"),
        "{cna:#}"
    );
    assert!(cna["affected"].to_string().contains("3.1.1"), "{cna:#}");

    // 7. The control address answers with the rendered Hall of Fame and
    // advisory.
    let control = |text: &str, n: &str| {
        let mail = alice.signed_mail(&control_address, &format!("commands {n}"), text, &team, n);
        stack.send(&alice.address, &control_address, &mail);
    };
    control("#hall-of-fame\n", "e2e-hall");
    let alice_box = mailbox(&stack, &alice.address, 6);
    let listed = alice.read(&alice_box[5], &team.fpr);
    assert!(
        listed.contains("Rita Researcher") && listed.contains("ACME Red Team"),
        "{listed}"
    );
    control(&format!("#advisory {id}\n"), "e2e-advisory");
    let alice_box = mailbox(&stack, &alice.address, 7);
    let drafted = alice.read(&alice_box[6], &team.fpr);
    for public in [CVE, SUMMARY, "Fixed in 3.1.1."] {
        assert!(drafted.contains(public), "no {public} in:\n{drafted}");
    }
    assert!(!drafted.contains(BODY_MARK), "{drafted}");
    mailbox(&stack, &rita.address, 4);
    mailbox(&stack, &list, 1);
    daemon.stop();
}
