//! The team runs a report from their mail: notifications
//! encrypted per member, answers relayed to the reporter, internal notes,
//! commands, and forged mail in a member's name refused. Here on the real mail
//! stack, asserting on what lands in each mailbox.

use std::time::Duration;

use disclosed::report::ReportState;

use crate::common::{Env, body_text, header, parse_subject, y};
use crate::mailstack::{MailStack, unique};
use crate::pgp::{Algo, Gpg, crlf, encrypted_payload, inner_entity, pgp_mime, write_secret};

const WAIT: Duration = Duration::from_secs(30);

/// Someone with their own GnuPG: the team's key holder, a member, the reporter.
pub struct Person {
    pub address: String,
    pub gpg: Gpg,
    pub fpr: String,
}

impl Person {
    pub fn new(name: &str, address: &str) -> Self {
        let gpg = Gpg::new();
        let fpr = gpg.generate(&format!("{name} <{address}>"), Algo::Curve25519);
        Self {
            address: address.to_owned(),
            gpg,
            fpr,
        }
    }

    pub fn public(&self) -> Vec<u8> {
        self.gpg.export_public(&self.fpr)
    }

    /// Decrypts `mail` (PGP/MIME) and checks it is signed by `signer`; the
    /// decrypted entity's subject and text.
    pub fn read(&self, mail: &[u8], signer: &str) -> String {
        let (plain, status) = self.gpg.decrypt(&encrypted_payload(&crlf(mail)));
        assert!(status.contains("[GNUPG:] DECRYPTION_OKAY"), "{status}");
        let signed = status.lines().any(|l| {
            l.starts_with("[GNUPG:] VALIDSIG ") && l.split(' ').skip(2).any(|f| f == signer)
        });
        assert!(signed, "not signed by {signer}:\n{status}");
        format!(
            "{}\n{}",
            parse_subject(&plain).unwrap_or_default(),
            body_text(&plain)
        )
    }

    /// A PGP/MIME mail from this person to `to`, signed by them and encrypted
    /// to `team` (and themselves), with `subject` and `to` protected inside, as
    /// mail clients that sign headers write it.
    pub fn signed_mail(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        team: &Person,
        id: &str,
    ) -> Vec<u8> {
        self.readdressed_mail(to, to, subject, text, team, id)
    }

    /// Like [`Self::signed_mail`], but the signed (protected) `To:` is
    /// `signed_to` while the outer one is `to`: what someone on the mail's way
    /// could make of it.
    pub fn readdressed_mail(
        &self,
        to: &str,
        signed_to: &str,
        subject: &str,
        text: &str,
        team: &Person,
        id: &str,
    ) -> Vec<u8> {
        let inner = String::from_utf8(inner_entity(subject, &self.address, text, &[]))
            .expect("utf-8")
            .replacen(
                "\r\nSubject: ",
                &format!("\r\nTo: {signed_to}\r\nSubject: "),
                1,
            )
            .into_bytes();
        let armored = self
            .gpg
            .encrypt(&inner, &[&team.fpr, &self.fpr], Some(&self.fpr));
        pgp_mime(
            &format!(
                "From: {}\r\nTo: {to}\r\nSubject: ...\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
                 Message-ID: <{id}@example.test>\r\n",
                self.address
            ),
            &armored,
        )
    }
}

/// The program `security` with its team key, and Alice and Bob as members
/// with keys of their own (and the team's key), on the mail stack: IMAP in,
/// SMTP out. `sections` adds TOML after `[openpgp]`.
pub struct KeyedTeam {
    pub security: String,
    pub team: Person,
    pub alice: Person,
    pub bob: Person,
    pub env: Env,
}

impl KeyedTeam {
    pub fn start(stack: &MailStack, sections: &str) -> Self {
        let security = unique("security");
        let team = Person::new("Example Security", &security);
        let alice = Person::new("Alice", &unique("alice"));
        let bob = Person::new("Bob", &unique("bob"));
        for p in [&alice, &bob] {
            p.gpg.import(&team.public());
        }
        let env = Env::with_sections(&security, "", "");
        write_secret(&env.path("team.key"), &team.gpg.export_secret(&team.fpr));
        std::fs::write(env.path("alice.asc"), alice.public()).expect("alice's key");
        std::fs::write(env.path("bob.asc"), bob.public()).expect("bob's key");
        env.write_config(&stack.keyed_config(
            &security,
            &format!(
                r#"
{sections}
[[team.members]]
name = "Alice"
email = "{alice}"
key = "alice.asc"

[[team.members]]
name = "Bob"
email = "{bob}"
key = "bob.asc"
"#,
                alice = alice.address,
                bob = bob.address,
            ),
        ));
        env.init();
        Self {
            security,
            team,
            alice,
            bob,
            env,
        }
    }
}

/// Exactly `n` messages in `user`'s INBOX, waiting for them to arrive.
pub fn mailbox(stack: &MailStack, user: &str, n: usize) -> Vec<Vec<u8>> {
    stack.wait_for(user, "INBOX", n, WAIT);
    // Give anything unexpected a moment to arrive too, so counts are exact.
    std::thread::sleep(Duration::from_millis(500));
    let found = stack.messages(user, "INBOX");
    assert_eq!(
        found.len(),
        n,
        "{user} has {} messages, expected {n}",
        found.len()
    );
    found.into_iter().map(|f| f.raw).collect()
}

#[test]
fn over_the_real_mail_stack_the_team_runs_a_report_from_their_mail() {
    let stack = MailStack::start();
    let KeyedTeam {
        security,
        team,
        alice,
        bob,
        env,
    } = KeyedTeam::start(&stack, "[team]\ncommand_auth = [\"openpgp\"]\n");
    let rita = Person::new("Rita Reporter", &unique("rita"));
    rita.gpg.import(&team.public());

    // 1. Rita reports, encrypted and signed, with her key attached.
    let inner = inner_entity(
        "RCE in the image resizer",
        &rita.address,
        "ImageMagick delegates are enabled; a crafted SVG runs commands.\n",
        &[crate::pgp::Part {
            content_type: "application/pgp-keys",
            name: "rita.asc",
            data: &rita.public(),
        }],
    );
    let armored = rita
        .gpg
        .encrypt(&inner, &[&team.fpr, &rita.fpr], Some(&rita.fpr));
    let report = pgp_mime(
        &format!(
            "From: Rita Reporter <{}>\r\nTo: {security}\r\nSubject: ...\r\n\
             Date: Mon, 23 Nov 2026 09:00:00 +0000\r\nMessage-ID: <report1@example.test>\r\n",
            rita.address
        ),
        &armored,
    );
    stack.send(&rita.address, &security, &report);
    stack.wait_for(&security, "INBOX", 1, WAIT);
    env.run_once();

    let id = y("SEC-2026-0001");
    let reply_address = security.replace('@', &format!("+{id}@"));
    let internal_address = security.replace('@', &format!("+{id}-internal@"));
    let control_address = security.replace('@', "+control@");

    // 2. The key Rita's mail carried proves nothing yet: she is asked to
    // confirm it, and her acknowledgement waits. The team vouches for the key
    // instead, which sends the acknowledgement; each member gets the report,
    // encrypted to them.
    let rita_box = mailbox(&stack, &rita.address, 1);
    let confirmation = rita.read(&rita_box[0], &team.fpr);
    assert!(confirmation.contains("key-confirm-"), "{confirmation}");
    env.ok(&["key", "accept", &rita.address, &rita.fpr, "--by", "alice"]);
    env.run_once();
    let rita_box = mailbox(&stack, &rita.address, 2);
    let ack = rita.read(&rita_box[1], &team.fpr);
    assert!(ack.contains(&id), "{ack}");
    assert!(ack.contains("RCE in the image resizer"), "{ack}");
    for member in [&alice, &bob] {
        let got = mailbox(&stack, &member.address, 1);
        assert_eq!(
            header(&got[0], "Reply-To").as_deref(),
            Some(internal_address.as_str()),
            "a careless reply-all stays inside the team"
        );
        let notice = member.read(&got[0], &team.fpr);
        for expected in [
            id.as_str(),
            "New report",
            "RCE in the image resizer",
            "a crafted SVG runs commands",
            &rita.address,
            &reply_address,
            &internal_address,
            "#state",
        ] {
            assert!(notice.contains(expected), "no {expected:?} in {notice}");
        }
        // The other member's key cannot read it: one mail per member.
        let other = if std::ptr::eq(member, &alice) {
            &bob
        } else {
            &alice
        };
        let (_, status) = other.gpg.decrypt(&encrypted_payload(&crlf(&got[0])));
        assert!(!status.contains("DECRYPTION_OKAY"), "{status}");
    }

    // 3. Alice answers from her mail client: a command, her text, her
    // signature, and the quoted notification.
    let answer = format!(
        "#state triaged\n\nThanks Rita, we can reproduce it and are working on a fix.\n\n\
         Alice\n-- \nAlice Example, security team\n{alice}\n\n\
         On Mon, 23 Nov 2026 at 10:00, Example disclosed wrote:\n\
         > -----BEGIN DISCLOSED NOTIFICATION-----\n> New report: {id}\n> ImageMagick delegates are enabled\n",
        alice = alice.address
    );
    let mail = alice.signed_mail(
        &reply_address,
        &format!("Re: [{id}] New report: RCE in the image resizer"),
        &answer,
        &team,
        "answer1",
    );
    stack.send(&alice.address, &reply_address, &mail);
    stack.wait_for(&security, "INBOX", 2, WAIT);
    env.run_once();

    // Rita receives a clean, encrypted relay from the program address.
    let rita_box = mailbox(&stack, &rita.address, 3);
    let relay = &rita_box[2];
    assert!(
        header(relay, "From").is_some_and(|f| f.contains(&security)),
        "{:?}",
        header(relay, "From")
    );
    let text = rita.read(relay, &team.fpr);
    assert!(text.contains("we can reproduce it"), "{text}");
    for absent in [
        "#state",
        "BEGIN DISCLOSED",
        "ImageMagick delegates",
        "security team\n",
        alice.address.as_str(),
    ] {
        assert!(
            !text.contains(absent),
            "{absent:?} reached the reporter: {text}"
        );
    }
    assert!(
        !String::from_utf8_lossy(relay).contains(&alice.address),
        "the member's address is in the relayed mail"
    );
    let d = env.report(1);
    assert_eq!(d.summary.state, ReportState::Triaged);
    let relayed = d
        .events
        .iter()
        .find(|e| e.kind == "relayed-to-reporter")
        .expect("the relay is in the event log");
    assert_eq!(relayed.actor, alice.address);
    assert_eq!(relayed.auth, "openpgp");

    // Bob got the copy; Alice got the answer to her command.
    let bob_box = mailbox(&stack, &bob.address, 2);
    let copy = bob.read(&bob_box[1], &team.fpr);
    assert!(copy.contains("we can reproduce it"), "{copy}");
    assert!(copy.contains("Alice"), "{copy}");
    let alice_box = mailbox(&stack, &alice.address, 2);
    let applied = alice.read(&alice_box[1], &team.fpr);
    assert!(applied.contains("triaged"), "{applied}");

    // 4. An internal note reaches Bob only, whatever its headers say.
    let note = alice.signed_mail(
        &internal_address,
        &format!("Re: [{id}] internal"),
        "The fix is in review; do not promise a date yet.\n",
        &team,
        "note1",
    );
    stack.send(&alice.address, &internal_address, &note);
    stack.wait_for(&security, "INBOX", 3, WAIT);
    env.run_once();
    let bob_box = mailbox(&stack, &bob.address, 3);
    let shown = bob.read(&bob_box[2], &team.fpr);
    assert!(shown.contains("do not promise a date"), "{shown}");
    mailbox(&stack, &rita.address, 3);
    mailbox(&stack, &alice.address, 2);

    // 5. A forged, unsigned mail in Alice's name changes nothing; Alice hears
    // of it.
    let forged = format!(
        "From: Alice <{alice}>\r\nTo: {reply_address}\r\nSubject: Re: [{id}] close it\r\n\
         Date: Mon, 23 Nov 2026 11:00:00 +0000\r\nMessage-ID: <forged1@evil.example>\r\n\r\n\
         #state rejected\r\n\r\nThis is not a bug, sorry.\r\n",
        alice = alice.address
    );
    stack.send("mallory@example.test", &reply_address, forged.as_bytes());
    stack.wait_for(&security, "INBOX", 4, WAIT);
    env.run_once();
    assert_eq!(env.report(1).summary.state, ReportState::Triaged);
    mailbox(&stack, &rita.address, 3);
    mailbox(&stack, &bob.address, 3);
    let alice_box = mailbox(&stack, &alice.address, 3);
    let refusal = alice.read(&alice_box[2], &team.fpr);
    assert!(refusal.contains("NOT accepted"), "{refusal}");
    assert!(
        env.report(1)
            .events
            .iter()
            .any(|e| e.kind == "team-mail-refused"),
        "the refusal is in the event log"
    );

    // 6. The control address answers #list.
    let list = alice.signed_mail(&control_address, "list", "#list\n", &team, "list1");
    stack.send(&alice.address, &control_address, &list);
    stack.wait_for(&security, "INBOX", 5, WAIT);
    env.run_once();
    let alice_box = mailbox(&stack, &alice.address, 4);
    let listed = alice.read(&alice_box[3], &team.fpr);
    assert!(listed.contains(&id), "{listed}");
    assert!(listed.contains("triaged"), "{listed}");
    mailbox(&stack, &rita.address, 3);
    mailbox(&stack, &bob.address, 3);
}
