#!/usr/bin/env bash
# Builds Attention Lens and opens it in a real VS Code with samples/ and a model that needs no
# download (from ../shared/models, or ATTENTION_LENS_MODELS). Uses the `code` CLI when there is
# one; otherwise a local code-server on 127.0.0.1 whose URL is printed once it answers. Ctrl+C
# stops it. Settings are written on the first start only: later changes in that VS Code are kept.
# For tests: ATTENTION_LENS_CODE_SERVER=1 (code-server even when `code` exists),
# ATTENTION_LENS_CODE_SERVER_BIN, ATTENTION_LENS_STATE (its profile folder), ATTENTION_LENS_SKIP_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
models="${ATTENTION_LENS_MODELS:-$(cd .. && pwd)/shared/models}"
if [ ! -d "$models" ]; then
  echo "No local models at $models: set ATTENTION_LENS_MODELS to a folder of models (see README)." >&2
  exit 1
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -n "${ATTENTION_LENS_SKIP_BUILD:-}" ] || npm run package --silent >/dev/null

# First start only: an existing settings.json holds the person's own changes.
first_settings() {
  local file="$1/User/settings.json"
  mkdir -p "$1/User"
  if [ -e "$file" ]; then
    echo "Keeping the settings in $file"
    return
  fi
  cat > "$file" <<JSON
{
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "workbench.startupEditor": "none",
  "attentionLens.localModelsFolder": "$models",
  "attentionLens.model": "bert-mini-shakespeare"
}
JSON
}

if command -v code >/dev/null 2>&1 && [ -z "${ATTENTION_LENS_CODE_SERVER:-}" ]; then
  profile="$root/.vscode-test/run-profile"
  first_settings "$profile"
  exec code --user-data-dir "$profile" --extensionDevelopmentPath="$root" "$root/samples" "$root/samples/story.txt"
fi

bin="${ATTENTION_LENS_CODE_SERVER_BIN:-$(bash scripts/ensure-tools.sh)}"
state="${ATTENTION_LENS_STATE:-$root/.vscode-test/code-server}"
mkdir -p "$state/extensions"
first_settings "$state/user-data"
export XDG_CONFIG_HOME="$state/config" XDG_DATA_HOME="$state/data"
"$bin" --user-data-dir "$state/user-data" --extensions-dir "$state/extensions" \
  --install-extension "$root/attention-lens-0.1.0.vsix" --force >/dev/null
port="${PORT:-8080}"
"$bin" --bind-addr "127.0.0.1:$port" --auth none --user-data-dir "$state/user-data" \
  --extensions-dir "$state/extensions" --disable-telemetry --disable-update-check --disable-workspace-trust \
  "$root/samples" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; exit 130' INT TERM
# The URL is printed only once the server answers (it takes a second or two to start).
answers() { node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$1"; }
until answers "http://127.0.0.1:$port/healthz"; do
  if ! kill -0 "$server" 2>/dev/null; then
    echo "code-server stopped before it answered (is port $port in use? set PORT)." >&2
    exit 1
  fi
  sleep 0.2
done
echo
echo "Attention Lens is running in VS Code (code-server) at:"
echo "  http://127.0.0.1:$port/?folder=$root/samples"
echo "Open samples/story.txt, select a sentence, press Ctrl+Alt+E. Ctrl+C stops the server."
echo "A closed browser tab keeps its extension host and model (450-850 MB) for up to 3 hours, 5 minutes once"
echo "another tab connects; Ctrl+C frees it."
echo
wait "$server"
