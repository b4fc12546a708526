#!/usr/bin/env bash
# Installs what the browser tests (tests/browser) need beyond scripts/install-deps.sh:
# Node.js with npm (Debian's, only when there is no `node` at all) and the
# pinned playwright-core from tests/browser/package-lock.json into
# tests/browser/node_modules. Chromium and the CJK font come from
# install-deps.sh. playwright-core never downloads a browser: the tests use
# Debian's /usr/bin/chromium. Safe to run again: it does nothing when all is there.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dir="$here/tests/browser"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  echo "install-browser-test-deps: installing nodejs npm"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends nodejs npm
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if ((major < 20)); then
  echo "install-browser-test-deps: playwright-core needs Node.js 20 or later; this is $(node --version)" >&2
  echo "  (Debian 12 ships 18: install Node.js 20 from NodeSource or bookworm-backports)" >&2
  exit 1
fi

want="$(node -p "require('$dir/package-lock.json').packages['node_modules/playwright-core'].version")"
have="$(node -p "try { require('$dir/node_modules/playwright-core/package.json').version } catch { '' }")"
if [[ "$have" == "$want" ]]; then
  echo "install-browser-test-deps: playwright-core $have present"
  exit 0
fi
echo "install-browser-test-deps: npm ci (playwright-core $want)"
cd "$dir"
npm ci --no-audit --no-fund
