#!/usr/bin/env bash
# Makes sure what the real-VS-Code tests need is on this machine: Debian's Chromium and
# code-server 4.100.3 (VS Code 1.100.3 with a Node extension host). Installs what is missing when
# run as root on Debian; otherwise stops with a message naming what to install. Never skips.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
TOOLS_DIR="${ATTENTION_LENS_TOOLS:-$HOME/.cache/attention-lens}"
CODE_SERVER_DIR="$TOOLS_DIR/code-server-$CODE_SERVER_VERSION"
export CODE_SERVER_BIN="$CODE_SERVER_DIR/node_modules/.bin/code-server"

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ! -x "$CODE_SERVER_BIN" ]; then
  command -v rg >/dev/null 2>&1 || need_apt+=(ripgrep)
  dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
  command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian packages: ${need_apt[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >&2
  else
    echo "Missing system packages: ${need_apt[*]}. Install them (e.g. sudo apt-get install ${need_apt[*]}) and run the tests again." >&2
    exit 1
  fi
fi

if [ ! -x "$CODE_SERVER_BIN" ]; then
  echo "Installing code-server $CODE_SERVER_VERSION into $CODE_SERVER_DIR (once, about a minute)" >&2
  tmp="$(mktemp -d)"
  # @vscode/ripgrep downloads rg from GitHub unless its cache already holds it: seed it with Debian's rg.
  mkdir -p "$tmp/vscode-ripgrep-cache-1.15.11" "$tmp/rg"
  cp "$(command -v rg)" "$tmp/rg/rg"
  tar -C "$tmp/rg" -czf "$tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" rg
  mkdir -p "$CODE_SERVER_DIR.partial"
  (
    cd "$CODE_SERVER_DIR.partial"
    # npm 11 runs dependencies' install scripts only when allowed; code-server's builds VS Code's native modules.
    echo '{"name":"code-server-host","private":true,"allowScripts":{"code-server":true,"argon2":true}}' > package.json
    TMPDIR="$tmp" npm_config_unsafe_perm=true npm_config_yes=true \
      npm install --no-audit --no-fund "code-server@$CODE_SERVER_VERSION" >&2
  )
  rm -rf "$CODE_SERVER_DIR" && mv "$CODE_SERVER_DIR.partial" "$CODE_SERVER_DIR"
  rm -rf "$tmp"
fi
"$CODE_SERVER_BIN" --version >/dev/null
echo "$CODE_SERVER_BIN"
