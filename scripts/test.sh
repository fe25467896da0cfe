#!/usr/bin/env bash
# test.sh: the whole suite. Unit tests, integration tests against real
# servers on loopback (origins, the edge, ffmpeg/ffprobe, headless chromium),
# the race detector, and every fuzz target's seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:" >&2; echo "$unformatted" >&2; exit 1
fi
go vet ./...
mkdir -p "${REMPART_ARTIFACTS:=$PWD/bench/out/artifacts}"
export REMPART_ARTIFACTS
# One package at a time: the end-to-end tests (a live encoder, a thousand
# viewers, siege against the edge) each want the two cores CI has.
go test -race -count=1 -p 1 -timeout 12m ./...
