#!/usr/bin/env bash
# The expert cache's honest RAM budget, measured: runs a model inside a cgroup v1 memory
# limit after dropping the page cache, with --experts cache and --experts mmap (and
# llama.cpp through llama-cpp-python with --llama), and reports tokens, decode speed, the
# cgroup's peak usage and the disk's direct-read bandwidth, all in one script.
#
# Usage (root): tools/cgroup_experts.sh MODEL LIMIT BUDGET [N_GEN] [--llama]
#   e.g. tools/cgroup_experts.sh /tmp/r1-wide-3moe.gguf 4G 3500M 16 --llama
# The cgroup /sys/fs/cgroup/memory/bitmoe-experts is created and removed.
set -euo pipefail
MODEL=$1 LIMIT=$2 BUDGET=$3 NGEN=${4:-16} LLAMA=${5:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/target/release/bitmoe
CG=/sys/fs/cgroup/memory/bitmoe-experts
PROMPT="The capital of France is"
trap 'rmdir $CG 2>/dev/null || true' EXIT

to_bytes() { numfmt --from=iec "$1"; }

in_cgroup() { # runs "$@" inside a fresh cgroup; prints the peak usage to fd 3
  rmdir $CG 2>/dev/null || true
  mkdir $CG
  to_bytes "$LIMIT" > $CG/memory.limit_in_bytes
  echo 0 > $CG/memory.swappiness 2>/dev/null || true
  sync; echo 1 > /proc/sys/vm/drop_caches
  local rc=0
  bash -c "echo \$\$ > $CG/cgroup.procs && exec \"\$@\"" _ "$@" || rc=$?
  echo "peak $(numfmt --to=iec "$(cat $CG/memory.max_usage_in_bytes)") of $LIMIT, oom kills $(grep -c . $CG/memory.oom_control >/dev/null; awk '/oom_kill /{print $2}' $CG/memory.oom_control), rc $rc" >&3
  rmdir $CG
}

echo "== direct-read bandwidth of the disk (8 MiB reads, O_DIRECT, 2 GiB of $MODEL)"
sync; echo 1 > /proc/sys/vm/drop_caches
dd if="$MODEL" of=/dev/null bs=8M count=256 iflag=direct 2>&1 | tail -1
echo "== buffered cold read (same span)"
sync; echo 1 > /proc/sys/vm/drop_caches
dd if="$MODEL" of=/dev/null bs=8M count=256 2>&1 | tail -1

echo "== unconstrained reference tokens (--experts mmap, all in RAM)"
REF=$("$BIN" run -m "$MODEL" -p "$PROMPT" -n "$NGEN" --temp 0 --json --experts mmap -c 256 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"])')
echo "tokens $REF"

for mode in "cache" "cache --expert-prefetch" "mmap"; do
  echo "== --experts $mode under a $LIMIT cgroup limit, --ram-budget $BUDGET, cold"
  # shellcheck disable=SC2086
  OUT=$(in_cgroup "$BIN" run -m "$MODEL" -p "$PROMPT" -n "$NGEN" --temp 0 --json -c 256 \
        --experts $mode --ram-budget "$BUDGET" 3>&2 2>/dev/null || true)
  echo "$OUT" | python3 -c '
import json, sys
ref = sys.argv[1]
try:
    v = json.loads(sys.stdin.read())
except Exception:
    print("no result (killed?)"); sys.exit()
t = v["timings"]
print("tokens", "match" if str(v["tokens"]) == ref else "DIFFER %s" % v["tokens"])
print("decode %.2f t/s, prompt %.2f t/s" % (1000 * t["gen_tokens"] / t["gen_ms"], 1000 * t["prompt_tokens"] / t["prompt_ms"]))
c = v.get("expert_cache")
if c:
    n = max(1, t["gen_tokens"] + t["prompt_tokens"])
    print("expert cache: %d slots, hits %.1f%%, %.2f GB read (%.1f MB/token), reader busy %.2f s, stalled %.2f s, direct %s" % (
        c["capacity"], 100 * c["hits"] / max(1, c["hits"] + c["misses"]), c["bytes_read"] / 1e9,
        c["bytes_read"] / 1e6 / n, c["read_s"], c["stall_s"], c["direct"]))
    print("prefetch: %d read ahead, %d used, %d evicted unused" % (c["prefetches"], c["prefetch_hits"], c["prefetch_waste"]))
' "$REF"
done

if [ "$LLAMA" = "--llama" ]; then
  echo "== llama.cpp (llama-cpp-python, mmap) under the same limit, cold"
  in_cgroup python3 - "$MODEL" "$NGEN" 3>&2 <<'PY' || true
import sys, time
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=2, n_threads_batch=2, verbose=False)
toks = llm.tokenize(b"The capital of France is", add_bos=False)
t = time.perf_counter(); llm.eval(toks); pp = time.perf_counter() - t
n = int(sys.argv[2]); t = time.perf_counter()
import numpy as np
for _ in range(n):
    llm.eval([int(np.argmax(llm.scores[llm.n_tokens - 1]))])
print("llama.cpp decode %.2f t/s, prompt %.2f t/s" % (n / (time.perf_counter() - t), len(toks) / pp))
PY
fi
