//! Writing the site into a directory, idempotently: a file whose content is
//! unchanged is not touched, a changed one is replaced atomically (temporary
//! file, then rename), and a file this writer produced before but no longer
//! produces is removed. What it produced is listed in [`MANIFEST`]; nothing
//! else in the directory is ever removed.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The list of files the last run wrote, one relative path per line.
pub const MANIFEST: &str = ".disclosed-site";

/// One file of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFile {
    /// Relative, `/`-separated, e.g. `advisories/SEC-2026-0001.html`.
    pub path: String,
    pub bytes: Vec<u8>,
    pub compare: Compare,
}

/// When an existing file counts as unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Bytes,
    /// A cleartext-signed file: unchanged if the signed text and the signing
    /// key are, whatever the signature's time, so a re-run does not re-sign
    /// and rewrite it.
    SignedText,
}

/// What a run changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Written {
    pub written: Vec<String>,
    pub unchanged: usize,
    pub removed: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("`{0}` is not a relative path inside the site")]
    BadPath(String),
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Whether `path` is a plain relative path: no `..`, no absolute or empty
/// part, nothing but a conservative set of characters.
pub fn is_site_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        })
}

/// Writes `files` under `dir` (created if missing) and removes the files of
/// the previous run that are not among them.
pub fn write_site(dir: &Path, files: &[SiteFile]) -> Result<Written, SiteError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| SiteError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut out = Written::default();
    let mut now_listed = BTreeSet::new();
    for file in files {
        if !is_site_path(&file.path) || file.path == MANIFEST {
            return Err(SiteError::BadPath(file.path.clone()));
        }
        now_listed.insert(file.path.clone());
        let target = dir.join(&file.path);
        if unchanged(&target, file) {
            out.unchanged += 1;
            continue;
        }
        replace(&target, &file.bytes).map_err(io(&target))?;
        out.written.push(file.path.clone());
    }
    let manifest = dir.join(MANIFEST);
    let before = std::fs::read_to_string(&manifest).unwrap_or_default();
    for old in before.lines() {
        // Only what this writer listed, and only plain files: a listing
        // edited by hand cannot make it delete outside the site.
        if now_listed.contains(old) || !is_site_path(old) {
            continue;
        }
        let path = dir.join(old);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => {
                std::fs::remove_file(&path).map_err(io(&path))?;
                out.removed.push(old.to_owned());
            }
            _ => {}
        }
    }
    let listing: String = now_listed.iter().map(|p| format!("{p}\n")).collect();
    if listing != before {
        replace(&manifest, listing.as_bytes()).map_err(io(&manifest))?;
    }
    Ok(out)
}

fn unchanged(target: &Path, file: &SiteFile) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(target) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    let Ok(existing) = std::fs::read(target) else {
        return false;
    };
    match file.compare {
        Compare::Bytes => existing == file.bytes,
        Compare::SignedText => {
            let (Ok(old), Ok(new)) = (
                std::str::from_utf8(&existing),
                std::str::from_utf8(&file.bytes),
            ) else {
                return false;
            };
            use super::security_txt::{signed_part, signer_of};
            // A new signing key re-signs the same text.
            let same_text =
                matches!((signed_part(old), signed_part(new)), (Some(a), Some(b)) if a == b);
            same_text && signer_of(old) == signer_of(new)
        }
    }
}

/// Writes `bytes` to a temporary file beside `target`, then renames it over
/// `target`: a reader sees the old file or the new one, never half of one.
/// There is no fsync per file (it made a thousand-advisory site take seconds):
/// a file a crash left empty differs from what the next run produces, and the
/// next run (the daemon's first tick after a start) rewrites it.
fn replace(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let parent = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&temp)?;
        f.write_all(bytes)?;
        std::fs::rename(&temp, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SiteFile {
        SiteFile {
            path: path.into(),
            bytes: text.as_bytes().to_vec(),
            compare: Compare::Bytes,
        }
    }

    #[test]
    fn a_second_run_with_nothing_changed_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = [file("a.html", "A"), file("advisories/x.html", "X")];
        let first = write_site(dir.path(), &files).expect("write");
        assert_eq!(first.written.len(), 2);
        let mtime = std::fs::metadata(dir.path().join("a.html"))
            .and_then(|m| m.modified())
            .expect("mtime");
        let manifest_mtime = std::fs::metadata(dir.path().join(MANIFEST))
            .and_then(|m| m.modified())
            .expect("mtime");
        std::thread::sleep(std::time::Duration::from_millis(20));
        let second = write_site(dir.path(), &files).expect("write");
        assert_eq!(
            second,
            Written {
                written: vec![],
                unchanged: 2,
                removed: vec![]
            }
        );
        let after = std::fs::metadata(dir.path().join("a.html"))
            .and_then(|m| m.modified())
            .expect("mtime");
        assert_eq!(mtime, after);
        let manifest_after = std::fs::metadata(dir.path().join(MANIFEST))
            .and_then(|m| m.modified())
            .expect("mtime");
        assert_eq!(manifest_mtime, manifest_after);
    }

    #[test]
    fn a_file_no_longer_produced_is_removed_but_foreign_files_stay() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("index.html"), "the team's own").expect("write");
        write_site(
            dir.path(),
            &[file("a.html", "A"), file("advisories/x.html", "X")],
        )
        .expect("write");
        let run = write_site(dir.path(), &[file("a.html", "A")]).expect("write");
        assert_eq!(run.removed, ["advisories/x.html"]);
        assert!(!dir.path().join("advisories/x.html").exists());
        assert!(dir.path().join("index.html").exists());
    }

    #[test]
    fn a_tampered_listing_cannot_remove_files_outside_the_site() {
        let outer = tempfile::tempdir().expect("tempdir");
        let site = outer.path().join("site");
        std::fs::create_dir_all(&site).expect("mkdir");
        std::fs::write(outer.path().join("victim"), "keep").expect("write");
        std::fs::write(site.join(MANIFEST), "../victim\n/etc/passwd\n").expect("write");
        write_site(&site, &[file("a.html", "A")]).expect("write");
        assert!(outer.path().join("victim").exists());
    }

    #[test]
    fn a_path_leaving_the_site_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        for bad in ["../x", "/etc/x", "a//b", "a/./b", MANIFEST, ""] {
            assert!(write_site(dir.path(), &[file(bad, "x")]).is_err(), "{bad}");
        }
    }

    fn signed_by(cert: &sequoia_openpgp::Cert, text: &str, at: &str) -> SiteFile {
        let now: jiff::Timestamp = at.parse().expect("time");
        let team = crate::crypto::TeamKeys::from_certs(vec![cert.clone()], now).expect("keys");
        let signed = super::super::security_txt::sign(text, team.signer(), now).expect("sign");
        SiteFile {
            path: "security.txt".into(),
            bytes: signed.into_bytes(),
            compare: Compare::SignedText,
        }
    }

    fn key() -> sequoia_openpgp::Cert {
        crate::crypto::keys::generate(
            "T <security@example.org>",
            "2027-01-01T00:00:00Z".parse().expect("time"),
            None,
            None,
        )
        .expect("key")
    }

    #[test]
    fn a_signed_file_is_re_signed_only_for_new_text_or_a_new_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (key(), key());
        let first = signed_by(
            &a,
            "Contact: mailto:s@example.org\n",
            "2027-01-02T00:00:00Z",
        );
        write_site(dir.path(), std::slice::from_ref(&first)).expect("write");
        let later = signed_by(
            &a,
            "Contact: mailto:s@example.org\n",
            "2027-01-03T00:00:00Z",
        );
        assert_ne!(first.bytes, later.bytes, "the signature time differs");
        assert_eq!(
            write_site(dir.path(), &[later]).expect("write").unchanged,
            1
        );
        let on_disk = std::fs::read(dir.path().join("security.txt")).expect("read");
        assert_eq!(on_disk, first.bytes);

        let new_text = signed_by(
            &a,
            "Contact: mailto:t@example.org\n",
            "2027-01-03T00:00:00Z",
        );
        assert_eq!(
            write_site(dir.path(), &[new_text])
                .expect("write")
                .written
                .len(),
            1
        );
        let new_key = signed_by(
            &b,
            "Contact: mailto:t@example.org\n",
            "2027-01-03T00:00:00Z",
        );
        assert_eq!(
            write_site(dir.path(), std::slice::from_ref(&new_key))
                .expect("write")
                .written
                .len(),
            1
        );
        let on_disk = std::fs::read(dir.path().join("security.txt")).expect("read");
        assert_eq!(on_disk, new_key.bytes);
    }
}
