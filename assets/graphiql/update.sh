#!/usr/bin/env bash
# Refreshes the GraphiQL playground's third-party files from the npm registry: the packages and
# versions pinned below, each checked against its pinned integrity (npm's sha512) before a file
# is taken. Run by a person when a version changes (then update PINNED, THIRD-PARTY.md and the
# file names in src/graphql/playground.rs); `cargo build` never runs it and needs no network.
# Usage: assets/graphiql/update.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# package@version  file in the package  file here
PINNED=(
  "graphiql@3.9.0 package/graphiql.min.js graphiql-3.9.0.min.js"
  "graphiql@3.9.0 package/graphiql.min.css graphiql-3.9.0.min.css"
  "graphiql@3.9.0 package/LICENSE licenses/graphiql.txt"
  "react@18.3.1 package/umd/react.production.min.js react-18.3.1.production.min.js"
  "react@18.3.1 package/LICENSE licenses/react.txt"
  "react-dom@18.3.1 package/umd/react-dom.production.min.js react-dom-18.3.1.production.min.js"
  "react-dom@18.3.1 package/LICENSE licenses/react-dom.txt"
  "graphql-ws@5.16.2 package/umd/graphql-ws.min.js graphql-ws-5.16.2.min.js"
  "graphql-ws@5.16.2 package/LICENSE.md licenses/graphql-ws.txt"
)
# npm's integrity of each package tarball (`npm view <pkg>@<version> dist.integrity`).
declare -A INTEGRITY=(
  [graphiql@3.9.0]="sha512-rJYFlHdBbug9+YbFSwRVvgfPjCayC7wHecZkx/qB4XLuQPFQZw/yB9pmHFtOJV6RiNBBHro3u1GdocKa3YcGRA=="
  [react@18.3.1]="sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ=="
  [react-dom@18.3.1]="sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw=="
  [graphql-ws@5.16.2]="sha512-E1uccsZxt/96jH/OwmLPuXMACILs76pKF2i3W861LpKBCYtGIyPQGtWLuBLkND4ox1KHns70e83PS4te50nvPQ=="
)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$here/licenses"
for pkg in "${!INTEGRITY[@]}"; do
  (cd "$work" && npm pack "$pkg" --silent >/dev/null)
  tgz="$work/$(echo "${pkg%@*}" | tr -d @ | tr / -)-${pkg##*@}.tgz"
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "${INTEGRITY[$pkg]}" ]; then
    echo "$pkg: integrity $got, pinned ${INTEGRITY[$pkg]}" >&2
    exit 1
  fi
  mkdir -p "$work/$pkg" && tar xzf "$tgz" -C "$work/$pkg"
done
for line in "${PINNED[@]}"; do
  read -r pkg from to <<<"$line"
  # The source map a minified file names is not shipped; its reference goes.
  sed -e 's|//# sourceMappingURL=[^ ]*$||' "$work/$pkg/$from" >"$here/$to"
done
sha256sum "$here"/*.js "$here"/*.css | sed "s|$here/||"
