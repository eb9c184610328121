#!/usr/bin/env bash
# Every test, in the order that fails fastest: types, unit (Node, all shared models), the
# integration suite inside a real VS Code (code-server), end-to-end in Chromium against the .vsix.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
bash scripts/ensure-tools.sh >/dev/null
npm run typecheck
npm run lint
npm run build:tests
npm run test:unit
npm run test:integration
npm run test:e2e
