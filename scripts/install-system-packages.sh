#!/usr/bin/env bash
# The Debian packages the test suite uses: espeak-ng (offline audio), sox, chromium and its
# driver (browser tests), fonts. Installs only what is missing; uses sudo when not root.
set -euo pipefail
packages=(espeak-ng libespeak-ng1 sox chromium chromium-driver fonts-liberation)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-system-packages: no apt-get; install these yourself: ${missing[*]}" >&2
  exit 2
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
