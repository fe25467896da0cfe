#!/usr/bin/env bash
# apt-install.sh PKG...: install Debian packages that are missing, so that a
# fresh machine gets what the tests and the demo need. Package names map to
# the command that proves them present.
set -euo pipefail
declare -A probe=([ffmpeg]=ffprobe [chromium]=chromium [npm]=npm [nginx-light]=nginx [wrk]=wrk [redis-server]=redis-server)
missing=()
for pkg in "$@"; do
  cmd=${probe[$pkg]:-$pkg}
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing from Debian: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
