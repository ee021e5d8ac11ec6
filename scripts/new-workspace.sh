#!/usr/bin/env bash
# Scaffolds a workspace: scripts/new-workspace.sh packages/<name> "<description>"
set -euo pipefail
dir="$1"; desc="${2:-}"
name="@wolkvox-chat-stream/$(basename "$dir")"
rel=$(realpath --relative-to="$dir" .)
mkdir -p "$dir/src"
cat > "$dir/package.json" <<JSON
{
  "name": "$name",
  "version": "0.1.0",
  "private": true,
  "description": "$desc",
  "type": "module",
  "exports": {
    ".": {
      "source": "./src/index.ts",
      "types": "./dist/index.d.ts",
      "default": "./dist/index.js"
    }
  },
  "scripts": {
    "build": "tsc -p tsconfig.build.json",
    "typecheck": "tsc --noEmit -p tsconfig.json",
    "lint": "eslint --max-warnings=0 ."
  }
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "$rel/tsconfig.base.json",
  "include": ["src"]
}
JSON
cat > "$dir/tsconfig.build.json" <<JSON
{
  "extends": "./tsconfig.json",
  "compilerOptions": {
    "customConditions": [],
    "rootDir": "src",
    "outDir": "dist"
  },
  "exclude": ["src/**/*.test.ts"]
}
JSON
[ -f "$dir/src/index.ts" ] || echo "export {}" > "$dir/src/index.ts"
