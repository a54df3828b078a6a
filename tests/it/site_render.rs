//! The published site in a real browser: every page of `publish --out DIR`
//! loaded from `file://` in headless Chromium (Debian's `chromium`), which
//! must log nothing to the console (a script error, a resource the page's
//! Content-Security-Policy blocked, an asset that failed to load) and must
//! build the page's DOM. One screenshot per page is kept under
//! `<target>/test-artifacts/site/`. Without Chromium this fails: it never
//! skips.

use std::path::{Path, PathBuf};
use std::process::Command;

use disclosed::report::{Credit, ReportState};

use crate::publish::{Seed, named, seed, site_env};

const CHROMIUM: &str = "chromium";

/// Where the screenshots go: beside the build, not in the repository.
fn artifacts() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"));
    let dir = target.join("test-artifacts").join("site");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir
}

fn chromium(profile: &Path, args: &[&str], url: &str) -> std::process::Output {
    Command::new(CHROMIUM)
        .args([
            "--headless",
            // Tests run as root in CI containers, where the sandbox cannot start.
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot run `{CHROMIUM}` ({err}); install Debian's chromium package (scripts/test.sh does)")
        })
}

/// Every console message Chromium logged: with no script on the pages, each
/// one is an error (a CSP violation, a failed load).
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE:") || l.contains(":CONSOLE("))
        .collect()
}

/// Loads `page` and checks it; the screenshot is written to `shot`.
fn check_page(page: &Path, shot: &Path) -> Result<(), String> {
    let profile = tempfile::tempdir().expect("profile");
    let url = format!("file://{}", page.display());
    let out = chromium(
        profile.path(),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1024,900",
            "--hide-scrollbars",
        ],
        &url,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("chromium failed on {url}: {stderr}"));
    }
    let console = console_lines(&stderr);
    if !console.is_empty() {
        return Err(format!(
            "console messages on {url}:\n{}",
            console.join("\n")
        ));
    }
    let png = std::fs::read(shot).map_err(|e| format!("no screenshot of {url}: {e}"))?;
    if !png.starts_with(b"\x89PNG") {
        return Err(format!("the screenshot of {url} is not a PNG"));
    }
    let dom = chromium(profile.path(), &["--dump-dom"], &url);
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    let console = console_lines(std::str::from_utf8(&dom.stderr).unwrap_or_default())
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    if !console.is_empty() {
        return Err(format!(
            "console messages on {url}:\n{}",
            console.join("\n")
        ));
    }
    if !dom_text.contains("<h1>") || !dom_text.contains("<main>") {
        return Err(format!("{url} did not render its content: {dom_text}"));
    }
    Ok(())
}

#[test]
fn every_published_page_renders_in_chromium_without_console_errors() {
    let env = site_env(90);
    let ids = seed(
        &env,
        &[
            Seed {
                credit: named(
                    "Jane Doe <script>alert(1)</script>",
                    Some("https://jane.example"),
                ),
                end: ReportState::Disclosed,
                fixed_in: Some("2.0.1"),
            },
            Seed {
                credit: named("Bob \u{202E}evil", Some("javascript:alert(1)")),
                end: ReportState::Disclosed,
                fixed_in: Some("2.1"),
            },
            Seed {
                credit: Credit::None,
                end: ReportState::Disclosed,
                fixed_in: None,
            },
            Seed {
                credit: named("Carol", None),
                end: ReportState::Fixed,
                fixed_in: Some("2.2"),
            },
        ],
    );
    let site = env.path("site");
    env.ok(&["publish", "--out", site.to_str().expect("utf-8")]);
    let mut pages: Vec<String> = [
        "hall-of-fame.html",
        "security-updates.html",
        "statistics.html",
    ]
    .map(String::from)
    .to_vec();
    pages.push(format!("advisories/{}.html", ids[0]));
    let artifacts = artifacts();
    let mut failures = Vec::new();
    for page in &pages {
        let shot = artifacts.join(format!(
            "{}.png",
            page.replace('/', "-").trim_end_matches(".html")
        ));
        if let Err(err) = check_page(&site.join(page), &shot) {
            failures.push(err);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_render_check_catches_a_console_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">\
         <title>x</title></head><body><main><h1>x</h1><img src=\"https://example.org/x.png\"></main></body></html>",
    )
    .expect("write");
    let err = check_page(&page, &dir.path().join("broken.png")).expect_err("must be caught");
    assert!(err.contains("Content Security Policy"), "{err}");
}
