//! Other OpenPGP implementations as the reporters' and the team's tools: GnuPG
//! (`gpg`) and Sequoia's CLI (`sq` 0.27), each in a throw-away home, and
//! builders for the mail they produce (RFC 3156 PGP/MIME, multipart/signed,
//! inline armor). A missing tool fails the test, never skips it.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mail_parser::MimeHeaders as _;

/// The key algorithms the tests generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    /// RSA-3072 primary (sign) and RSA-3072 subkey (encrypt).
    Rsa3072,
    /// Ed25519 primary (sign) and Cv25519 subkey (encrypt).
    Curve25519,
}

/// Runs `cmd` with `stdin` fed in, returning what it printed.
fn run_with_input(mut cmd: Command, stdin: &[u8], what: &str) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what} (is it installed?): {e}"));
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    // A writer thread: the tool may fill its stdout before reading all input.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for the tool");
    writer.join().expect("stdin writer");
    out
}

fn check(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// GnuPG with its own home directory (and agent, stopped on drop).
pub struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    pub fn new() -> Self {
        let home = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir()
            .expect("GNUPGHOME");
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod GNUPGHOME");
        Self { home }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", self.home())
            .args(["--batch", "--no-tty", "--trust-model", "always"]);
        cmd
    }

    /// Runs gpg with `args` and `stdin`, asserting success.
    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Vec<u8> {
        let mut cmd = self.cmd();
        cmd.args(args);
        check(run_with_input(cmd, stdin, "gpg"), &format!("gpg {args:?}")).stdout
    }

    /// Runs a `sh -c` pipeline with this home as `GNUPGHOME`; its output.
    pub fn shell(&self, script: &str) -> Vec<u8> {
        let mut cmd = Command::new("sh");
        cmd.env("GNUPGHOME", self.home()).arg("-c").arg(script);
        check(run_with_input(cmd, b"", "sh"), script).stdout
    }

    /// Generates a key for `uid` without passphrase: a signing primary and an
    /// encryption subkey. Returns its fingerprint (upper-case hex).
    pub fn generate(&self, uid: &str, algo: Algo) -> String {
        let (primary, sub) = match algo {
            Algo::Rsa3072 => ("rsa3072", "rsa3072"),
            Algo::Curve25519 => ("ed25519", "cv25519"),
        };
        let out = self.run(
            &[
                "--status-fd",
                "1",
                "--yes",
                "--passphrase",
                "",
                "--quick-gen-key",
                uid,
                primary,
                "sign",
                "never",
            ],
            b"",
        );
        let status = String::from_utf8_lossy(&out);
        let fpr = status
            .lines()
            .find_map(|l| l.strip_prefix("[GNUPG:] KEY_CREATED P "))
            .unwrap_or_else(|| panic!("no KEY_CREATED in:\n{status}"))
            .trim()
            .to_owned();
        self.run(
            &[
                "--passphrase",
                "",
                "--quick-add-key",
                &fpr,
                sub,
                "encr",
                "never",
            ],
            b"",
        );
        fpr
    }

    /// A Curve25519 key for `uid` made on 2020-01-01 that expired a year later.
    pub fn generate_expired(&self, uid: &str) -> String {
        let then = "20200101T000000!";
        let out = self.run(
            &[
                "--status-fd",
                "1",
                "--yes",
                "--faked-system-time",
                then,
                "--passphrase",
                "",
                "--quick-gen-key",
                uid,
                "ed25519",
                "sign",
                "1y",
            ],
            b"",
        );
        let status = String::from_utf8_lossy(&out);
        let fpr = status
            .lines()
            .find_map(|l| l.strip_prefix("[GNUPG:] KEY_CREATED P "))
            .unwrap_or_else(|| panic!("no KEY_CREATED in:\n{status}"))
            .trim()
            .to_owned();
        self.run(
            &[
                "--faked-system-time",
                then,
                "--passphrase",
                "",
                "--quick-add-key",
                &fpr,
                "cv25519",
                "encr",
                "1y",
            ],
            b"",
        );
        fpr
    }

    /// The key id (16 hex digits) of `fpr`'s encryption subkey.
    pub fn encryption_keyid(&self, fpr: &str) -> String {
        let out = self.run(&["--with-colons", "--list-keys", fpr], b"");
        String::from_utf8_lossy(&out)
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f[0] == "sub" && f.get(11).is_some_and(|caps| caps.contains('e')))
            .map(|f| f[4].to_owned())
            .unwrap_or_else(|| panic!("{fpr} has no encryption subkey"))
    }

    /// The public key, armored.
    pub fn export_public(&self, fpr: &str) -> Vec<u8> {
        self.run(&["--armor", "--export", fpr], b"")
    }

    /// The secret key, binary, unprotected.
    pub fn export_secret(&self, fpr: &str) -> Vec<u8> {
        self.run(
            &[
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--export-secret-keys",
                fpr,
            ],
            b"",
        )
    }

    pub fn import(&self, key: &[u8]) {
        self.run(&["--import"], key);
    }

    /// Encrypts `data` to `recipients` (and signs as `sign_as`): armored.
    pub fn encrypt(&self, data: &[u8], recipients: &[&str], sign_as: Option<&str>) -> Vec<u8> {
        self.encrypt_with(data, recipients, sign_as, &["--armor"])
    }

    /// Like [`Self::encrypt`], with extra gpg options (`--armor` is not implied).
    pub fn encrypt_with(
        &self,
        data: &[u8],
        recipients: &[&str],
        sign_as: Option<&str>,
        options: &[&str],
    ) -> Vec<u8> {
        let mut args: Vec<&str> = options.to_vec();
        for r in recipients {
            args.extend(["--recipient", r]);
        }
        if let Some(signer) = sign_as {
            args.extend(["--local-user", signer, "--sign"]);
        }
        args.push("--encrypt");
        self.run(&args, data)
    }

    /// A detached, armored signature over `data` exactly (binary mode).
    pub fn sign_detached(&self, data: &[u8], signer: &str) -> Vec<u8> {
        self.run(
            &[
                "--armor",
                "--digest-algo",
                "SHA256",
                "--local-user",
                signer,
                "--detach-sign",
            ],
            data,
        )
    }

    /// A cleartext-signed version of `text`.
    pub fn clearsign(&self, text: &[u8], signer: &str) -> Vec<u8> {
        self.run(
            &[
                "--digest-algo",
                "SHA256",
                "--local-user",
                signer,
                "--clearsign",
            ],
            text,
        )
    }

    /// Decrypts (and verifies) `data`: the plaintext and the `[GNUPG:]` status
    /// lines. Does not assert success: the status says what happened.
    pub fn decrypt(&self, data: &[u8]) -> (Vec<u8>, String) {
        let mut cmd = self.cmd();
        cmd.args(["--status-fd", "2", "--decrypt"]);
        let out = run_with_input(cmd, data, "gpg");
        (out.stdout, status_lines(&out.stderr))
    }

    /// Verifies detached `signature` over `data`: the `[GNUPG:]` status lines.
    pub fn verify_detached(&self, data: &[u8], signature: &[u8]) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let (d, s) = (dir.path().join("data"), dir.path().join("data.sig"));
        std::fs::write(&d, data).expect("write data");
        std::fs::write(&s, signature).expect("write signature");
        let mut cmd = self.cmd();
        cmd.arg("--status-fd")
            .arg("2")
            .arg("--verify")
            .arg(&s)
            .arg(&d);
        let out = run_with_input(cmd, b"", "gpg");
        status_lines(&out.stderr)
    }

    /// Fingerprints of the keys in `keys` (without importing them).
    pub fn show_fingerprints(&self, keys: &[u8]) -> Vec<String> {
        let out = self.run(
            &["--with-colons", "--import-options", "show-only", "--import"],
            keys,
        );
        let text = String::from_utf8_lossy(&out);
        let mut fprs = Vec::new();
        let mut after_pub = false;
        for line in text.lines() {
            let f: Vec<&str> = line.split(':').collect();
            match f[0] {
                "pub" | "sec" => after_pub = true,
                "fpr" if after_pub => {
                    fprs.push(f[9].to_owned());
                    after_pub = false;
                }
                _ => {}
            }
        }
        fprs
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home())
            .args(["--kill", "all"])
            .output();
    }
}

fn status_lines(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.starts_with("[GNUPG:]"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Sequoia's CLI, `sq` 0.27: stateless, keys in files.
pub struct Sq {
    dir: tempfile::TempDir,
}

/// A key `sq` generated: the secret key file and the certificate file.
pub struct SqKey {
    pub key: PathBuf,
    pub cert: PathBuf,
    pub fingerprint: String,
}

impl SqKey {
    /// The certificate, binary.
    pub fn cert_bytes(&self) -> Vec<u8> {
        let armored = std::fs::read(&self.cert).expect("read cert");
        Sq::run(&["dearmor"], &armored)
    }
}

impl Sq {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir for sq"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(args: &[&str], stdin: &[u8]) -> Vec<u8> {
        let mut cmd = Command::new("sq");
        cmd.args(args);
        check(run_with_input(cmd, stdin, "sq"), &format!("sq {args:?}")).stdout
    }

    /// Generates a key for `uid` (`<addr>` or `Name <addr>`); `suite` is sq's
    /// cipher suite: `cv25519` or `rsa3k`.
    pub fn generate(&self, name: &str, uid: &str, suite: &str) -> SqKey {
        let key = self.path(&format!("{name}.key"));
        let cert = self.path(&format!("{name}.cert"));
        let k = key.to_str().expect("utf-8 path");
        let c = cert.to_str().expect("utf-8 path");
        Self::run(
            &[
                "key",
                "generate",
                "--cipher-suite",
                suite,
                "--userid",
                uid,
                "--export",
                k,
            ],
            b"",
        );
        Self::run(&["key", "extract-cert", "--output", c, k], b"");
        let fingerprint = cert_fingerprint(&std::fs::read(&cert).expect("read cert"));
        SqKey {
            key,
            cert,
            fingerprint,
        }
    }

    /// Writes `bytes` (a certificate from elsewhere) to a file and returns its path.
    pub fn write_cert(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).expect("write cert");
        path
    }

    /// Encrypts `data` to every certificate file in `recipients`, signed with
    /// `signer` (a key file): armored.
    pub fn encrypt(&self, data: &[u8], recipients: &[&Path], signer: Option<&Path>) -> Vec<u8> {
        let mut args: Vec<String> = vec!["encrypt".into()];
        for r in recipients {
            args.push("--recipient-cert".into());
            args.push(r.to_str().expect("utf-8 path").into());
        }
        if let Some(s) = signer {
            args.push("--signer-key".into());
            args.push(s.to_str().expect("utf-8 path").into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Self::run(&args, data)
    }

    /// Decrypts with `key`, requiring a good signature by `signer_cert`: the
    /// plaintext, or the error output.
    pub fn decrypt(&self, data: &[u8], key: &Path, signer_cert: &Path) -> Result<Vec<u8>, String> {
        let mut cmd = Command::new("sq");
        cmd.arg("decrypt")
            .arg("--recipient-key")
            .arg(key)
            .arg("--signer-cert")
            .arg(signer_cert);
        let out = run_with_input(cmd, data, "sq");
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

/// The fingerprint of the (first) certificate in `bytes`, upper-case hex.
pub fn cert_fingerprint(bytes: &[u8]) -> String {
    use sequoia_openpgp::parse::Parse as _;
    sequoia_openpgp::Cert::from_bytes(bytes)
        .expect("a certificate")
        .fingerprint()
        .to_hex()
}

/// `fpr` in groups of four, as people read it out.
pub fn grouped(fpr: &str) -> String {
    fpr.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------
// Encodings.

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 without line breaks.
pub fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes base64, skipping whitespace.
pub fn unbase64(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let Some(v) = B64.iter().position(|&b| b == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Base64 in lines of 76 characters, each ending in CRLF.
pub fn base64_lines(data: &[u8]) -> String {
    let text = base64(data);
    let mut out = String::new();
    for line in text.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).expect("ascii"));
        out.push_str("\r\n");
    }
    out
}

fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0xB7_04CE;
    for &byte in data {
        crc ^= u32::from(byte) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x100_0000 != 0 {
                crc ^= 0x186_4CFB;
            }
        }
    }
    crc & 0xFF_FFFF
}

/// ASCII armor (`-----BEGIN PGP MESSAGE-----`) around binary OpenPGP data.
pub fn armor_message(data: &[u8]) -> Vec<u8> {
    let crc = crc24(data).to_be_bytes();
    format!(
        "-----BEGIN PGP MESSAGE-----\r\n\r\n{}={}\r\n-----END PGP MESSAGE-----\r\n",
        base64_lines(data),
        base64(&crc[1..])
    )
    .into_bytes()
}

/// The binary data inside ASCII armor.
pub fn dearmor(armored: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(armored);
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .skip_while(|l| !l.trim().is_empty())
        .take_while(|l| !l.starts_with("-----END") && !l.starts_with('='))
        .collect();
    unbase64(&body)
}

/// Quoted-printable (RFC 2045) of CRLF text: `=`, controls and non-ASCII as
/// `=XX`, soft line breaks before 76 characters.
pub fn quoted_printable(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        let mut width = 0;
        for (j, &b) in line.iter().enumerate() {
            let last = j + 1 == line.len();
            let plain = (b' '..=b'~').contains(&b) && b != b'=' && !(last && b == b' ');
            let piece = if plain {
                vec![b]
            } else {
                format!("={b:02X}").into_bytes()
            };
            if width + piece.len() > 75 {
                out.extend_from_slice(b"=\r\n");
                width = 0;
            }
            width += piece.len();
            out.extend_from_slice(&piece);
        }
    }
    out
}

/// `bytes` with every line ending made CRLF.
pub fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 40);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// `bytes` with every CRLF made LF, as some local delivery agents store mail.
pub fn lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            continue;
        }
        out.push(b);
    }
    out
}

// ---------------------------------------------------------------------------
// MIME builders. Everything is CRLF.

/// An attachment for the builders.
pub struct Part<'a> {
    pub name: &'a str,
    pub content_type: &'a str,
    pub data: &'a [u8],
}

fn attachment(p: &Part<'_>) -> String {
    format!(
        "Content-Type: {}; name=\"{}\"\r\nContent-Disposition: attachment; filename=\"{}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}",
        p.content_type,
        p.name,
        p.name,
        base64_lines(p.data)
    )
}

/// The usual outer headers of a reporter's mail to security@example.org.
pub fn headers(from: &str, subject: &str, message_id: &str, extra: &str) -> String {
    format!(
        "From: {from}\r\nTo: security@example.org\r\nSubject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{message_id}>\r\n{extra}"
    )
}

/// A complete mail: `outer_headers` (lines, CRLF or LF), `MIME-Version`, then
/// `entity` (its own headers and body).
pub fn mail_with(outer_headers: &str, entity: &[u8]) -> Vec<u8> {
    let mut out = crlf(outer_headers.as_bytes());
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"MIME-Version: 1.0\r\n");
    out.extend_from_slice(entity);
    out
}

/// A complete RFC 3156 `multipart/encrypted` mail around `armored`.
pub fn pgp_mime(outer_headers: &str, armored: &[u8]) -> Vec<u8> {
    let b = "------------enc0A1B2C3D4E5F6";
    let mut entity = format!(
        "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n \
         boundary=\"{b}\"\r\n\r\nThis is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n\
         --{b}\r\nContent-Type: application/pgp-encrypted\r\nContent-Description: PGP/MIME version identification\r\n\r\n\
         Version: 1\r\n\r\n--{b}\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\
         Content-Description: OpenPGP encrypted message\r\nContent-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n"
    )
    .into_bytes();
    entity.extend_from_slice(&crlf(armored));
    if !entity.ends_with(b"\r\n") {
        entity.extend_from_slice(b"\r\n");
    }
    entity.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    mail_with(outer_headers, &entity)
}

/// The entity a mail user agent encrypts: `multipart/mixed` with protected
/// `Subject:` and `From:` headers, a UTF-8 text part and `attachments`.
pub fn inner_entity(subject: &str, from: &str, text: &str, attachments: &[Part<'_>]) -> Vec<u8> {
    let b = "------------inner9Z8Y7X6W";
    let mut out = format!(
        "Content-Type: multipart/mixed; boundary=\"{b}\"; protected-headers=\"v1\"\r\n\
         Subject: {subject}\r\nFrom: {from}\r\n\r\n--{b}\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    );
    out.push_str(&String::from_utf8(crlf(text.as_bytes())).expect("utf-8"));
    if !out.ends_with("\r\n") {
        out.push_str("\r\n");
    }
    for a in attachments {
        out.push_str(&format!("\r\n--{b}\r\n"));
        out.push_str(&attachment(a));
    }
    out.push_str(&format!("\r\n--{b}--\r\n"));
    out.into_bytes()
}

/// A `multipart/signed` entity: `part1` exactly as signed, then `signature`.
pub fn multipart_signed(part1: &[u8], signature: &[u8]) -> Vec<u8> {
    let b = "------------sigQ1W2E3R4T5";
    let mut out = format!(
        "Content-Type: multipart/signed; micalg=pgp-sha256;\r\n \
         protocol=\"application/pgp-signature\"; boundary=\"{b}\"\r\n\r\n\
         This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n--{b}\r\n"
    )
    .into_bytes();
    out.extend_from_slice(part1);
    out.extend_from_slice(
        format!(
            "\r\n--{b}\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n\
             Content-Description: OpenPGP digital signature\r\n\
             Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(&crlf(signature));
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    out
}

/// A plain text entity (for part 1 of a signed mail).
pub fn text_entity(text: &str, attachments: &[Part<'_>]) -> Vec<u8> {
    if attachments.is_empty() {
        let mut out =
            b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                .to_vec();
        out.extend_from_slice(&crlf(text.as_bytes()));
        if !out.ends_with(b"\r\n") {
            out.extend_from_slice(b"\r\n");
        }
        return out;
    }
    let b = "------------mixK9J8H7G6";
    let mut out = format!(
        "Content-Type: multipart/mixed; boundary=\"{b}\"\r\n\r\n--{b}\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    );
    out.push_str(&String::from_utf8(crlf(text.as_bytes())).expect("utf-8"));
    if !out.ends_with("\r\n") {
        out.push_str("\r\n");
    }
    for a in attachments {
        out.push_str(&format!("\r\n--{b}\r\n"));
        out.push_str(&attachment(a));
    }
    out.push_str(&format!("\r\n--{b}--\r\n"));
    out.into_bytes()
}

/// An inline-PGP mail: `body` (armored text) as the text part, and
/// `attachments` (e.g. binary `.pgp` files) after it.
pub fn inline_mail(outer_headers: &str, body: &[u8], attachments: &[Part<'_>]) -> Vec<u8> {
    let text = String::from_utf8(body.to_vec()).expect("armored text is UTF-8");
    mail_with(outer_headers, &text_entity(&text, attachments))
}

// ---------------------------------------------------------------------------
// Reading mail the daemon sent.

/// The `boundary` parameter of `raw`'s top-level Content-Type.
pub fn boundary(raw: &[u8]) -> String {
    let msg = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("parseable mail");
    msg.content_type()
        .and_then(|ct| ct.attribute("boundary"))
        .expect("a multipart mail with a boundary")
        .to_owned()
}

/// The top-level Content-Type, `type/subtype`, lower-cased.
pub fn content_type(raw: &[u8]) -> String {
    let msg = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("parseable mail");
    msg.content_type()
        .map(|ct| {
            format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()).to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// The parts of `raw`'s top-level multipart body, byte-exact (RFC 2046: the
/// line break before a delimiter belongs to the delimiter).
pub fn parts(raw: &[u8]) -> Vec<Vec<u8>> {
    let delimiter = format!("--{}", boundary(raw));
    let d = delimiter.as_bytes();
    let body_start = find(raw, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| find(raw, b"\n\n").map(|i| i + 2))
        .expect("a header/body separator");
    // Start offsets of delimiter lines.
    let mut lines = Vec::new();
    let mut at = body_start;
    while at < raw.len() {
        let end = raw[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |i| at + i + 1);
        if raw[at..end].starts_with(d) {
            lines.push((at, end));
        }
        at = end;
    }
    let mut out = Vec::new();
    for pair in lines.windows(2) {
        let (_, start) = pair[0];
        let (next, _) = pair[1];
        let mut end = next;
        if end > start && raw[end - 1] == b'\n' {
            end -= 1;
            if end > start && raw[end - 1] == b'\r' {
                end -= 1;
            }
        }
        out.push(raw[start..end].to_vec());
    }
    out
}

/// The body of an entity (after its blank line).
pub fn entity_body(entity: &[u8]) -> &[u8] {
    find(entity, b"\r\n\r\n")
        .map(|i| &entity[i + 4..])
        .or_else(|| find(entity, b"\n\n").map(|i| &entity[i + 2..]))
        .unwrap_or(entity)
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    find(haystack, needle.as_bytes()).is_some()
}

/// The armored ciphertext of a PGP/MIME mail (its second part).
pub fn encrypted_payload(raw: &[u8]) -> Vec<u8> {
    assert_eq!(content_type(raw), "multipart/encrypted", "not PGP/MIME");
    let parts = parts(raw);
    assert_eq!(parts.len(), 2, "PGP/MIME has two parts");
    assert!(contains(&parts[0], "application/pgp-encrypted"));
    entity_body(&parts[1]).to_vec()
}

/// Verifies a `multipart/signed` mail with `gpg`: the status lines.
pub fn verify_signed_mail(gpg: &Gpg, raw: &[u8]) -> String {
    assert_eq!(
        content_type(raw),
        "multipart/signed",
        "not multipart/signed"
    );
    let parts = parts(raw);
    assert_eq!(parts.len(), 2, "multipart/signed has two parts");
    assert!(contains(&parts[1], "application/pgp-signature"));
    gpg.verify_detached(&parts[0], entity_body(&parts[1]))
}

/// Writes `bytes` to `path` with mode 0600.
pub fn write_secret(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write key file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_armor_has_the_right_checksum() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
            assert_eq!(unbase64(&base64(data)), data);
        }
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fo"), "Zm8=");
        // RFC 4880 §6.1: the CRC-24 of nothing is its initial value.
        assert_eq!(crc24(b""), 0xB704CE);
        let armored = armor_message(b"\x01\x02\x03");
        assert_eq!(dearmor(&armored), b"\x01\x02\x03");
    }

    #[test]
    fn parts_are_split_byte_exact() {
        let raw = b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\npre\r\n--b\r\nA: 1\r\n\r\none\r\n\r\n--b\r\n\r\ntwo\r\n--b--\r\n";
        assert_eq!(
            parts(raw),
            [b"A: 1\r\n\r\none\r\n".to_vec(), b"\r\ntwo".to_vec()]
        );
        assert_eq!(lf(b"a\r\nb\n"), b"a\nb\n");
        assert_eq!(
            quoted_printable(b"a=b \r\nc\xc3\xa4 \r\n"),
            b"a=3Db=20\r\nc=C3=A4=20\r\n"
        );
        assert_eq!(crlf(b"a\r\nb\n"), b"a\r\nb\r\n");
    }
}
