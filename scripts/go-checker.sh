#!/usr/bin/env bash
# Builds tests/interop/go, the Go checker of the log's signed notes, proofs
# and cosignatures, into target/interop/anchorfin-go-checker and prints its
# path. It is built from Debian's packages alone, offline: golang-go (the
# toolchain) and golang-golang-x-mod-dev (golang.org/x/mod's sources in
# /usr/share/gocode), in GOPATH mode, so no module is ever downloaded.
# Installs the two packages when they are missing and it runs as root, as
# .ci/run installs what it needs. The integration tests (tests/api/interop.rs)
# run it when ANCHORFIN_GO_CHECKER names it.
set -euo pipefail
cd "$(dirname "$0")/.."

gopath=/usr/share/gocode
missing=()
for package in golang-go golang-golang-x-mod-dev; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (apt-get install them, or run this as root)" >&2
    exit 1
  fi
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
for package in note tlog; do
  if [ ! -d "$gopath/src/golang.org/x/mod/sumdb/$package" ]; then
    echo "$gopath/src/golang.org/x/mod/sumdb/$package is missing: golang-golang-x-mod-dev should provide it" >&2
    exit 1
  fi
done

output=target/interop/anchorfin-go-checker
mkdir -p target/interop
# GOPATH mode: imports resolve in $gopath/src; GOFLAGS cleared and the
# proxy off so that nothing from the environment sends Go to the network.
GO111MODULE=off GOPATH="$gopath" GOFLAGS= GOPROXY=off GOTOOLCHAIN=local \
  GOCACHE="$PWD/target/interop/go-build-cache" \
  go build -trimpath -o "$output" ./tests/interop/go >&2
echo "$PWD/$output"
