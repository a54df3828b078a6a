//! `disclosed completions SHELL` and `disclosed manpages DIR`: shell
//! completions and manual pages generated from the command-line definitions,
//! so they never disagree with the binary. Neither reads the configuration:
//! they run on a machine where none exists yet (a package build, a fresh
//! install).

use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, CliError};

/// The binary's name in completions and manual pages.
const BIN: &str = "disclosed";

/// Prints the completion script for `shell` on stdout. A reader that stops
/// early (`| head`) ends it quietly.
pub(super) fn completions(shell: Shell) -> Result<(), CliError> {
    use std::io::Write;
    let mut cmd = Cli::command();
    // Rendered first: the generator panics on a failed write.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN, &mut script);
    match std::io::stdout().lock().write_all(&script) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::anyhow!("cannot write the completions: {e}").into())
        }
        _ => Ok(()),
    }
}

/// Writes `disclosed.1` and one page per visible subcommand
/// (`disclosed-key-generate.1`, …) into `dir`, creating it if needed.
pub(super) fn manpages(dir: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .map_err(|e| anyhow::anyhow!("cannot write the manual pages to {}: {e}", dir.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manpages_cover_every_visible_subcommand() {
        let dir = tempfile::tempdir().expect("tempdir");
        manpages(dir.path()).expect("manpages");
        for page in [
            "disclosed.1",
            "disclosed-init.1",
            "disclosed-run.1",
            "disclosed-key-generate.1",
            "disclosed-sla-tick.1",
            "disclosed-completions.1",
        ] {
            let text = std::fs::read_to_string(dir.path().join(page))
                .unwrap_or_else(|e| panic!("{page}: {e}"));
            assert!(
                text.starts_with(".ie") || text.contains(".TH"),
                "{page}: {text}"
            );
        }
        // The page generator is internal to packaging, not a user command.
        assert!(!dir.path().join("disclosed-manpages.1").exists());
    }

    #[test]
    fn bash_completion_offers_the_subcommands() {
        let mut cmd = Cli::command();
        let mut out = Vec::new();
        clap_complete::generate(Shell::Bash, &mut cmd, BIN, &mut out);
        let text = String::from_utf8(out).expect("utf-8");
        for word in ["reports", "check", "generate", "--config"] {
            assert!(text.contains(word), "bash completion lacks {word}");
        }
        // The words offered after `disclosed `.
        let top = text
            .lines()
            .find(|l| l.trim_start().starts_with("opts=\"") && l.contains(" reports "))
            .expect("the top-level words");
        assert!(top.contains(" completions "), "{top}");
    }
}
