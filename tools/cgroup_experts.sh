#!/usr/bin/env bash
# The expert cache's honest RAM budget, measured: runs a model inside a cgroup v1 memory
# limit after dropping the page cache, with --experts cache (plain, with pins from a
# profile of another prompt, with next-layer prefetch), --experts mmap and llama.cpp
# (llama-cpp-python, with --llama), each cold and then warm, and reports tokens, decode
# speed, the cgroup's peak usage, bytes read per token and read rates against the disk's
# direct-read bandwidth, all measured by this one script.
#
# Usage (root): tools/cgroup_experts.sh MODEL LIMIT BUDGET [N_GEN] [--llama]
#   e.g. tools/cgroup_experts.sh /tmp/r1-wide-3moe.gguf 4G 3500M 16 --llama
# BITMOE_BIN overrides the binary (default: target/release/bitmoe).
#
# Cold: page cache dropped, fresh cgroup, fresh process. Warm: the same command again
# in the same cgroup without dropping anything, so whatever the limit let the page cache
# keep is still there (the expert cache reads with O_DIRECT and starts empty in every
# process: its warm state across runs is a pinned profile). The cgroup
# /sys/fs/cgroup/memory/bitmoe-experts is created and always removed; its peak
# (memory.max_usage_in_bytes) is reset between the cold and the warm run.
set -euo pipefail
MODEL=$1 LIMIT=$2 BUDGET=$3 NGEN=${4:-16} LLAMA=${5:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BITMOE_BIN:-$ROOT/target/release/bitmoe}
CG=/sys/fs/cgroup/memory/bitmoe-experts
PROMPT="The capital of France is"
OTHER_PROMPT="In the beginning of the nineteenth century"
DEV=$(lsblk -no pkname "$(df --output=source "$MODEL" | tail -1)" 2>/dev/null || true)
[ -n "$DEV" ] || DEV=$(basename "$(df --output=source "$MODEL" | tail -1)")
WORK=$(mktemp -d)
trap 'rmdir $CG 2>/dev/null || true; rm -rf "$WORK"' EXIT

to_bytes() { numfmt --from=iec "$1"; }
sectors_read() { awk '{print $3}' "/sys/block/$DEV/stat"; }
drop_caches() { sync; echo 1 > /proc/sys/vm/drop_caches; }

cg_run() { # runs "$@" inside $CG; stdout to $WORK/out, disk bytes read to $WORK/disk
  local s0 rc=0
  s0=$(sectors_read)
  bash -c "echo \$\$ > $CG/cgroup.procs && exec \"\$@\"" _ "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?
  echo $(( ($(sectors_read) - s0) * 512 )) > "$WORK/disk"
  echo "$rc" > "$WORK/rc"
}

cg_report() { # the peak since the last reset, OOM kills, exit status
  echo "  cgroup peak $(numfmt --to=iec "$(cat $CG/memory.max_usage_in_bytes)") ($(cat $CG/memory.max_usage_in_bytes) B) of $LIMIT, oom kills $(awk '/oom_kill /{print $2}' $CG/memory.oom_control), rc $(cat "$WORK/rc"), disk read $(( $(cat "$WORK/disk") / 1000000 )) MB"
  echo 0 > $CG/memory.max_usage_in_bytes
}

cold_and_warm() { # label, then the command; runs it cold, then warm, in one cgroup
  local label=$1; shift
  rmdir $CG 2>/dev/null || true
  mkdir $CG
  to_bytes "$LIMIT" > $CG/memory.limit_in_bytes
  echo 0 > $CG/memory.swappiness 2>/dev/null || true
  drop_caches
  for phase in cold warm; do
    echo "== $label, $phase"
    cg_run "$@"
    summarize
    cg_report
  done
  rmdir $CG
}

summarize() { # one bitmoe --json result or the llama.cpp line, with bytes per token
  python3 - "$REF" "$(cat "$WORK/disk")" "$DIRECT_GBPS" "$WORK/out" <<'PY'
import json, sys
ref, disk, direct = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
text = open(sys.argv[4]).read()
if text.startswith("llama.cpp"):
    print("  " + text.strip())
    n = int(text.split("tokens ")[1].split()[0])
    print("  disk: %.1f MB per token (whole run / tokens)" % (disk / 1e6 / n))
    sys.exit()
try:
    v = json.loads(text)
except Exception:
    print("  no result (killed?)"); sys.exit()
t = v["timings"]
n = max(1, t["gen_tokens"] + t["prompt_tokens"])
print("  tokens", "match" if str(v["tokens"]) == ref else "DIFFER %s" % v["tokens"])
print("  decode %.2f t/s, prompt %.2f t/s, load %.1f s; disk %.1f MB per token" % (
    1000 * t["gen_tokens"] / t["gen_ms"], 1000 * t["prompt_tokens"] / t["prompt_ms"],
    t["load_ms"] / 1000, disk / 1e6 / n))
c = v.get("expert_cache")
if c:
    run_bytes = c["bytes_read"] - c["pinned_bytes"]
    run_s = (t["gen_ms"] + t["prompt_ms"]) / 1000
    busy = c["bytes_read"] / 1e9 / c["busy_s"] if c["busy_s"] else 0
    print("  expert cache: %d slots, %d pinned, hits %.1f%% (%d on pins), %.1f MB read per token, "
          "stalled %.0f ms per token, direct %s" % (
        c["capacity"], c["pinned"], 100 * c["hits"] / max(1, c["hits"] + c["misses"]),
        c["pinned_hits"], run_bytes / 1e6 / n, 1000 * c["stall_s"] / n, c["direct"]))
    print("  read rate: %.2f GB/s while reading (%.0f%% of the disk's %.2f GB/s direct), "
          "%.2f GB/s over the run" % (busy, 100 * busy / direct, direct, run_bytes / 1e9 / run_s))
    if c["prefetches"]:
        print("  prefetch: %d read ahead, %d used, %d evicted unused" % (
            c["prefetches"], c["prefetch_hits"], c["prefetch_waste"]))
PY
}

dd_gbps() { # dd's rate in GB/s from its last line
  tail -1 | awk '{r=$(NF-1); u=$NF; if (u=="GB/s") print r; else if (u=="MB/s") print r/1000; else print 0}'
}

echo "== disk ($DEV): direct reads of 2 GiB of $MODEL, 8 MiB requests, one at a time"
drop_caches
DIRECT_GBPS=$(dd if="$MODEL" of=/dev/null bs=8M count=256 iflag=direct 2>&1 | dd_gbps)
echo "  $DIRECT_GBPS GB/s"
echo "== disk: direct reads, 8 readers of 1 MiB requests (as the cache's reader threads)"
drop_caches
t0=$(date +%s.%N)
for j in 0 1 2 3 4 5 6 7; do
  dd if="$MODEL" of=/dev/null bs=1M count=128 skip=$((2048 + j * 128)) iflag=direct 2>/dev/null &
done
wait
PAR_GBPS=$(python3 -c "print('%.2f' % (8 * 128 * 2**20 / 1e9 / ($(date +%s.%N) - $t0)))")
echo "  $PAR_GBPS GB/s"
echo "== disk: buffered cold read (same span as the first)"
drop_caches
dd if="$MODEL" of=/dev/null bs=8M count=256 2>&1 | tail -1 | sed 's/^/  /'

RUN=("$BIN" run -m "$MODEL" -p "$PROMPT" -n "$NGEN" --temp 0 --json -c 256)
echo "== unconstrained reference tokens (--experts mmap, all in RAM); a profile of another prompt"
REF=$("${RUN[@]}" --experts mmap 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"])')
echo "  tokens $REF"
"${RUN[@]}" --experts mmap 2>/dev/null | python3 -c '
import json, sys
t = json.load(sys.stdin)["timings"]
print("  all in RAM, page cache warm (the compute ceiling): decode %.2f t/s, prompt %.2f t/s" % (
    1000 * t["gen_tokens"] / t["gen_ms"], 1000 * t["prompt_tokens"] / t["prompt_ms"]))'
"$BIN" run -m "$MODEL" -p "$OTHER_PROMPT" -n 64 --temp 0 -c 256 --experts mmap \
  --save-expert-profile "$WORK/profile.json" > /dev/null 2> "$WORK/err"
grep "saved the expert profile" "$WORK/err" | sed 's/^/  /'

for mode in "cache" "cache --pin-experts $WORK/profile.json" "cache --expert-prefetch" "mmap"; do
  # shellcheck disable=SC2086
  cold_and_warm "--experts $mode under a $LIMIT cgroup limit, --ram-budget $BUDGET" \
    "${RUN[@]}" --experts $mode --ram-budget "$BUDGET"
done

if [ "$LLAMA" = "--llama" ]; then
  cat > "$WORK/llama.py" <<'PY'
import sys, time
import numpy as np
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=2, n_threads_batch=2, verbose=False)
toks = llm.tokenize(b"The capital of France is", add_bos=False)
t = time.perf_counter(); llm.eval(toks); pp = time.perf_counter() - t
n = int(sys.argv[2]); t = time.perf_counter()
for _ in range(n):
    llm.eval([int(np.argmax(llm.scores[llm.n_tokens - 1]))])
print("llama.cpp decode %.2f t/s, prompt %.2f t/s, tokens %d" % (n / (time.perf_counter() - t), len(toks) / pp, n + len(toks)))
PY
  cold_and_warm "llama.cpp (llama-cpp-python, mmap) under the same limit" \
    python3 "$WORK/llama.py" "$MODEL" "$NGEN"
fi
