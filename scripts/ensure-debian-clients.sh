#!/usr/bin/env bash
# Installs the Debian packages listed in .ci/apt-packages.txt that are missing (checked with
# `dpkg -s` first, so a machine that has them all does nothing). As root it runs
# `apt-get update` and `apt-get install -y`; otherwise it prints what to install. It never
# fails the test run itself: a test whose client is missing fails with its own message.
# The list includes chromium (web UI test, driven by playwright-core) and python3-prometheus-client
# (the /metrics test parses with Prometheus's reference parser).
set -euo pipefail
cd "$(dirname "$0")/.."
list=.ci/apt-packages.txt
if ! command -v dpkg >/dev/null 2>&1; then
  echo "ensure-debian-clients: not a Debian system; interop tests need: $(grep -v '^\s*#' "$list" | awk 'NF{print $1}' | tr '\n' ' ')" >&2
  exit 0
fi
missing=()
while read -r pkg _; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done <"$list"
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-debian-clients: interop tests need Debian packages that are not installed. As root run:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 0
fi
echo "ensure-debian-clients: installing ${missing[*]}" >&2
# Serialise with other apt users on shared machines when flock is there.
run() { if command -v flock >/dev/null 2>&1; then flock /tmp/apt.lock "$@"; else "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
if ! { run apt-get update -qq && run apt-get install -y -qq "${missing[@]}"; }; then
  echo "ensure-debian-clients: apt-get failed; install by hand: apt-get install -y ${missing[*]}" >&2
fi
exit 0
