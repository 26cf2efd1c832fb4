#!/usr/bin/env bash
# Runs "go test ./..." as an ordinary user and fails if anything fails: the
# proof that the contributor tier passes without root, Samba, FUSE or etcd
# (the suites that need them skip themselves with one line).
#
# As root it makes the user (TGUARD_TEST_USER, default tguard-test) if
# missing and runs the tests as that user on a copy of the work tree, with
# its own HOME, GOCACHE, GOPATH and a module proxy copied from root's module
# cache (no network), all under one state folder: .run/unprivileged if the
# user can reach it, else /var/tmp/tguard-unprivileged (UNPRIV_DIR chooses).
# The caches stay there, so a second run is warm. As an ordinary user it
# simply runs the tests here.
#
# Arguments go to "go test" (e.g. -short). Needs the Rust library built
# (make rust): the copy links the one in rust/target.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
go=${GO:-go}
triple=${TRIPLE:-$(rustc -vV 2>/dev/null | sed -n 's/^host: //p')}
# A missing prerequisite skips here: this is the tier that must pass without them.
unset TGUARD_REQUIRE_ALL

if [ "$(id -u)" -ne 0 ]; then
  cd "$repo"
  exec "$go" test -count=1 -timeout 10m "$@" ./...
fi

user=${TGUARD_TEST_USER:-tguard-test}
if ! id -u "$user" >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
fi

lib=rust/target/$triple/release/libtguard_bridge.a
[ -f "$repo/$lib" ] || { echo "unprivileged.sh: $lib is missing: run make rust" >&2; exit 1; }

state=${UNPRIV_DIR:-}
if [ -z "$state" ]; then
  mkdir -p "$repo/.run"
  if runuser -u "$user" -- test -x "$repo/.run"; then
    state=$repo/.run/unprivileged
  else
    state=/var/tmp/tguard-unprivileged
  fi
fi
mkdir -p "$state"/{home,gocache,gopath,proxy,tmp}

# The work tree as it is (committed or not), without the build outputs; the
# same path every run, so that the build cache stays warm.
rm -rf "$state/src"
mkdir -p "$state/src/$(dirname "$lib")"
tar -C "$repo" --exclude=./.git --exclude=./.run --exclude=./rust/target --exclude=./bin -cf - . |
  tar -C "$state/src" -xf -
cp "$repo/$lib" "$state/src/$lib"

# The modules, from root's cache: make sure it has them, then copy what is new.
(cd "$repo" && "$go" mod download)
cp -rup "$("$go" env GOMODCACHE)/cache/download/." "$state/proxy/"

chown -R "$user" "$state"
chmod 755 "$state"

cd "$state/src"
start=$SECONDS
set +e
runuser -u "$user" -- env -i \
  PATH="$(dirname "$(command -v "$go")"):/usr/local/bin:/usr/bin:/bin" \
  HOME="$state/home" TMPDIR="$state/tmp" \
  GOCACHE="$state/gocache" GOPATH="$state/gopath" GOMODCACHE="$state/gopath/pkg/mod" \
  GOPROXY="file://$state/proxy" GOSUMDB=off GOFLAGS=-buildvcs=false GOTOOLCHAIN=local \
  "$go" test -count=1 -timeout 10m "$@" ./...
rc=$?
set -e
echo "unprivileged.sh: go test $* ./... as $user: exit $rc in $((SECONDS - start)) s"
exit $rc
