#!/usr/bin/env bash
# Runs disclosed once on the sample Maildir in examples/maildir, with SQLite and the
# file transport in ./demo: shows the reports it opened and the acknowledgements
# it wrote. Safe to run again (it starts from a fresh copy each time).
set -euo pipefail
cd "$(dirname "$0")/.."

# The build needs a C compiler (bundled SQLite) and OpenSSL's headers with
# libclang (sequoia-openpgp's OpenSSL backend).
need=()
command -v cc >/dev/null 2>&1 || need+=(build-essential)
for pkg in pkg-config libssl-dev libclang-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing Debian packages: ${need[*]} (run: sudo apt-get install -y ${need[*]})" >&2
        exit 1
    fi
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi

# Cargo's own progress: the first build compiles about 400 crates (some
# minutes on two cores); later runs take seconds.
echo "== building disclosed (cargo build) ==" >&2
cargo build --locked
bin=target/debug/disclosed

rm -rf demo
mkdir -p demo
cp examples/config.toml demo/config.toml
cp -r examples/maildir demo/maildir
find demo/maildir -name .keep -delete
# The follow-up of Jane threads by In-Reply-To; the automatic reply names its
# report in the subject, and report ids carry the year of the program's time
# zone, so the sample says SEC-YEAR-… and gets this year's here.
tz=$(sed -n 's/^timezone = "\(.*\)"/\1/p' demo/config.toml)
year=$(TZ=${tz:-UTC} date +%Y)
sed -i "s/SEC-YEAR-/SEC-$year-/g" demo/maildir/new/*

export RUST_LOG=${RUST_LOG:-warn}
"$bin" --config demo/config.toml init --generate-key
"$bin" --config demo/config.toml run --once
echo
"$bin" --config demo/config.toml reports
first=$("$bin" --config demo/config.toml reports --json | sed -n 's/.*"id": "\(.*-0001\)".*/\1/p')
echo
"$bin" --config demo/config.toml report "$first"
echo
echo "== mail written by the file transport (demo/outbox) =="
ls -1 demo/outbox
# The acknowledgement to the reporter, and Alice's notification (she has no key
# configured, so it names the report without its text).
ack=$(grep -l "$first" demo/outbox/*.eml | xargs grep -L '^To: .*alice@example.org' | head -n 1)
notice=$(grep -l "$first" demo/outbox/*.eml | xargs grep -l '^To: .*alice@example.org' | head -n 1)
echo
echo "== acknowledgement: $ack =="
cat "$ack"
echo
echo "== team notification: $notice =="
cat "$notice"
