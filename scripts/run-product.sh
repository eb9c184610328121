#!/usr/bin/env bash
# Builds Attention Lens and opens it in a real VS Code with samples/ and a model that needs no
# download (from ../shared/models, or ATTENTION_LENS_MODELS). Uses the `code` CLI when there is
# one; otherwise a local code-server on 127.0.0.1 whose URL is printed. Ctrl+C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
models="${ATTENTION_LENS_MODELS:-$(cd .. && pwd)/shared/models}"
[ -d "$models" ] || { echo "No local models at $models: set ATTENTION_LENS_MODELS to a folder of models (see README)." >&2; exit 1; }
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run package --silent >/dev/null

if command -v code >/dev/null 2>&1 && [ -z "${ATTENTION_LENS_CODE_SERVER:-}" ]; then
  profile="$root/.vscode-test/run-profile"
  mkdir -p "$profile/User"
  printf '{ "attentionLens.localModelsFolder": "%s", "attentionLens.model": "bert-mini-shakespeare" }\n' "$models" > "$profile/User/settings.json"
  exec code --user-data-dir "$profile" --extensionDevelopmentPath="$root" "$root/samples" "$root/samples/story.txt"
fi

bin="$(bash scripts/ensure-tools.sh)"
state="$root/.vscode-test/code-server"
mkdir -p "$state/user-data/User" "$state/extensions"
cat > "$state/user-data/User/settings.json" <<JSON
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
export XDG_CONFIG_HOME="$state/config" XDG_DATA_HOME="$state/data"
"$bin" --user-data-dir "$state/user-data" --extensions-dir "$state/extensions" --install-extension "$root/attention-lens-0.1.0.vsix" --force >/dev/null
port="${PORT:-8080}"
echo
echo "Attention Lens is running in VS Code (code-server) at:"
echo "  http://127.0.0.1:$port/?folder=$root/samples"
echo "Open samples/story.txt, select a sentence, press Ctrl+Alt+E. Ctrl+C stops the server."
echo
exec "$bin" --bind-addr "127.0.0.1:$port" --auth none --user-data-dir "$state/user-data" --extensions-dir "$state/extensions" \
  --disable-telemetry --disable-update-check --disable-workspace-trust "$root/samples"
