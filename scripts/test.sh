#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints, and the whole test suite.
# Installs the Debian packages the build and the tests need when they are
# missing (as root): the compiler and OpenSSL headers (sequoia-openpgp's
# backend), GnuPG and Sequoia's `sq` (the OpenPGP interop tests write mail with
# them), and Dovecot and Postfix for the tests that run against a real mail
# stack (scripts/mailstack; those tests fail, never skip, without it), and
# Chromium, in which the site rendering test loads every published page (it
# fails, never skips, without it).
# Then builds the Debian package (scripts/package: a release build, checked
# with lintian) and proves it under a real systemd in a Debian 12 container
# (scripts/systemd-test, which installs debootstrap and systemd-nspawn).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cc >/dev/null 2>&1 || need+=(build-essential)
for pkg in pkg-config libssl-dev libclang-dev tzdata gnupg sq lintian chromium; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# `systemd-analyze verify` checks the unit file.
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
if ((${#need[@]})); then
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing Debian packages: ${need[*]} (run: sudo apt-get install -y ${need[*]})" >&2
        exit 1
    fi
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi

scripts/mailstack install

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --locked --no-fail-fast
else
    cargo test --locked --no-fail-fast
fi

deb=$(scripts/package --lintian)
scripts/systemd-test "$deb"
