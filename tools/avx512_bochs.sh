#!/usr/bin/env bash
# Runs bitmoe-simd's tests on an emulated AVX-512 CPU, so that the AVX-512 kernels
# (simd/src/arch/x86/avx512*.rs) are checked against the scalar references even on a
# machine without AVX-512.
#
# Why Bochs: QEMU's TCG (7.2 in Debian 12) has no AVX-512; Debian's Bochs 2.7 is built
# with EVEX support and has CPU models with AVX-512 F/BW/VL/VNNI (`tigerlake`). Bochs
# is a full-system interpreter, so we boot Debian's own kernel from an ISO with a tiny
# initramfs whose /init runs the statically linked test binaries, prints to the serial
# port, and powers off. The serial log is the result.
#
# Usage: tools/avx512_bochs.sh [TEST-FILTER...]
#   With filters, each test binary runs only the tests whose names contain one of them
#   (libtest's own filtering), e.g. `tools/avx512_bochs.sh isa:: dot_vectors:: dequant::`.
# Environment:
#   AVX512_BOCHS_CACHE   downloads, ISO and logs        (default target/avx512-bochs)
#   AVX512_BOCHS_TARGET  cargo target dir for this run  (default
#                        target/avx512-bochs/target: a static build, kept apart from
#                        the repository's own target/ artefacts)
#   AVX512_BOCHS_CPU     Bochs CPU model                (default tigerlake)
#   AVX512_BOCHS_TIMEOUT seconds before the guest is killed (default 5400)
# Exit status: 0 if every test binary ran to its end and passed; 1 otherwise.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${AVX512_BOCHS_CACHE:-$repo/target/avx512-bochs}
target_dir=${AVX512_BOCHS_TARGET:-$repo/target/avx512-bochs/target}
cpu_model=${AVX512_BOCHS_CPU:-tigerlake}
timeout_s=${AVX512_BOCHS_TIMEOUT:-5400}
run=$cache/run
mkdir -p "$cache" "$run"

say() { printf '== %s\n' "$*" >&2; }

# --- 1. Host packages -----------------------------------------------------------------
# bochs-term only satisfies bochs' "bochs-gui" dependency without pulling in wxWidgets;
# the display we use (rfb, headless) ships in the bochs package itself. Debian's bochs
# has no "nogui" display library.
packages=(bochs bochs-term bochsbios vgabios isolinux syslinux-common xorriso
    busybox-static cpio gzip)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$p")
done
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- 2. Kernel ------------------------------------------------------------------------
# Debian's generic kernel, unpacked from its .deb (never installed): linux-image-amd64
# is a metapackage, its dependency linux-image-6.x-amd64 holds /boot/vmlinuz-*. It has
# the 8250 serial console, gzip initramfs and ACPI built in, so no modules are needed.
kernel=$(find "$cache" -maxdepth 1 -name 'vmlinuz-*' -print -quit)
if [[ -z $kernel ]]; then
    image_of() {
        apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
    }
    image=$(image_of)
    [[ -n $image ]] || { apt-get update -qq && image=$(image_of); }
    say "downloading $image"
    # Downloaded where apt's sandbox user may write, then moved to the cache.
    dl=$(mktemp -d)
    chown _apt "$dl" 2>/dev/null || true
    (cd "$dl" && apt-get download -qq "$image")
    dpkg-deb --fsys-tarfile "$dl"/"$image"_*.deb |
        tar -x -C "$dl" --wildcards './boot/vmlinuz-*'
    mv "$dl"/boot/vmlinuz-* "$cache"/
    rm -rf "$dl"
    kernel=$(find "$cache" -maxdepth 1 -name 'vmlinuz-*' -print -quit)
fi
say "kernel $(basename "$kernel")"

# --- 3. Test binaries -----------------------------------------------------------------
# Static (crt-static), so the initramfs needs no libc. The test profile (opt-level 3,
# as every `cargo test` here) builds much faster than --release (thin LTO, one codegen
# unit) on a small machine. The JSON messages name the executables.
say "building bitmoe-simd tests in $target_dir"
RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR=$target_dir \
    cargo test --manifest-path "$repo/Cargo.toml" -p bitmoe-simd --no-run \
    --target x86_64-unknown-linux-gnu --message-format=json >"$run/build.json"
artifacts=$(grep '"reason":"compiler-artifact"' "$run/build.json" |
    grep -E '"profile":\{[^}]*"test":true' || true)
mapfile -t tests < <(sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' <<<"$artifacts")
((${#tests[@]})) || { say "no test executables in $run/build.json"; exit 1; }
# The kernel tests (`it`) first: they are what this run is for.
mapfile -t tests < <(printf '%s\n' "${tests[@]}" | grep '/it-[0-9a-f]*$'
    printf '%s\n' "${tests[@]}" | grep -v '/it-[0-9a-f]*$')
# tests/it/common.rs reads env!("CARGO_MANIFEST_DIR")/testdata: an absolute host path
# baked in at compile time, so the guest gets the files at the same path.
manifest_dir=$(sed -n 's/.*"manifest_path":"\([^"]*\)\/Cargo.toml".*/\1/p' <<<"$artifacts" |
    head -n 1)

# --- 4. Initramfs and ISO -------------------------------------------------------------
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,proc,sys,dev,tests}
cp /bin/busybox "$root/bin/busybox"
for t in "${tests[@]}"; do
    # deps/it-0123abcd → tests/it.
    # Symbols stay for backtraces; debug info would triple the initramfs.
    strip --strip-debug -o "$root/tests/$(basename "${t%-*}")" "$t"
done
mkdir -p "$root/$manifest_dir"
cp -r "$manifest_dir/testdata" "$root/$manifest_dir/"
filters=''
(($#)) && filters=$(printf ' %q' "$@")
# Lines starting with "@@" are the protocol between /init and this script.
cat >"$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin RUST_BACKTRACE=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "@@ init: guest uptime \$(cut -d' ' -f1 /proc/uptime) s"
echo "@@ \$(grep -m1 'model name' /proc/cpuinfo)"
echo "@@ avx512 flags: \$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep avx512 | tr '\n' ' ')"
for t in $(for t in "${tests[@]}"; do printf '/tests/%s ' "$(basename "${t%-*}")"; done); do
    echo "@@ begin \${t#/tests/}"
    # One guest CPU: one thread; --nocapture shows the ISA levels the tests ran.
    "\$t" --test-threads 1 --nocapture$filters 2>&1
    echo "@@ end \${t#/tests/} rc=\$?"
done
echo "@@ all done: guest uptime \$(cut -d' ' -f1 /proc/uptime) s"
# Let the UART drain its buffer (4 KiB at 115200 baud) before the power goes.
sleep 3
poweroff -f
EOF
chmod +x "$root/init"

iso_dir=$run/iso
rm -rf "$iso_dir"
mkdir -p "$iso_dir/isolinux"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$iso_dir/isolinux/initrd.gz"
cp "$kernel" "$iso_dir/isolinux/vmlinuz"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 \
    "$iso_dir/isolinux/"
# Kernel options, each needed on Bochs 2.7's tigerlake model:
#  clearcpuid=pku,ospke: Bochs offers PKRU in XCR0 but reports a zero-sized PKRU
#    component in CPUID 0xD.9 (a typo in its source disables that sub-leaf);
#  clearcpuid=xsaves,xsavec: Bochs reports the standard, not the compacted, XSAVE size
#    in CPUID 0xD.1 EBX. Either mismatch makes Linux disable XSAVE, and with it AVX and
#    AVX-512; without them Linux uses the standard format, which Bochs gets right;
#  clearcpuid=fsrm: Bochs does not set the fast-strings bit of IA32_MISC_ENABLE, so
#    Linux clears ERMS but keeps FSRM, and 6.1's memmove then skips its length check
#    and runs a 32-byte loop over a short length: the boot faults in LSM setup.
#  panic=0 halts on a panic (the script sees it), instead of rebooting into a loop.
cat >"$iso_dir/isolinux/isolinux.cfg" <<'EOF'
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND console=ttyS0,115200 quiet panic=0 mitigations=off clearcpuid=pku,ospke,xsaves,xsavec,fsrm
EOF
xorriso -as mkisofs -quiet -o "$run/boot.iso" -b isolinux/isolinux.bin \
    -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table "$iso_dir" \
    2>"$run/xorriso.log" || { cat "$run/xorriso.log" >&2; exit 1; }
say "ISO $(du -h "$run/boot.iso" | cut -f1), initramfs $(du -h "$iso_dir/isolinux/initrd.gz" | cut -f1)"

# --- 5. Bochs -------------------------------------------------------------------------
# Headless: the rfb display (a VNC server on a local port, timeout=0: do not wait for a
# viewer). Guest time follows the instruction count (sync=none), so a loaded host only
# slows the run, it does not change what the guest sees.
log=$run/serial.log
cat >"$run/bochsrc" <<EOF
display_library: rfb, options="timeout=0"
megs: 1024
cpu: model=$cpu_model, count=1, ips=100000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path=$run/boot.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$log
log: $run/bochs.log
panic: action=fatal
error: action=ignore
info: action=ignore
speaker: enabled=0
clock: sync=none, time0=local
EOF
# Debian builds Bochs with its debugger, which stops at the first instruction and reads
# commands from the terminal: an rc file continues, and quits once the guest stops.
printf 'c\nquit\n' >"$run/debugger.rc"
rm -f "$log"
say "booting Bochs ($cpu_model); serial log: $log"
t0=$(date +%s)
bochs -q -rc "$run/debugger.rc" -f "$run/bochsrc" >"$run/bochs.out" 2>&1 </dev/null &
bochs_pid=$!
# Watch the log once a second: the host time at which each "@@" marker first appears
# (the guest clock counts instructions, not seconds); stop on a panic or the time limit.
# After "all done" the guest powers off; Bochs exits on the ACPI soft-off, and is killed
# if it has not after 60 s.
declare -A seen=()
outcome=''
while :; do
    now=$(date +%s)
    while IFS= read -r m; do
        [[ -n ${seen[$m]:-} ]] || seen[$m]=$now
    done < <(tr -d '\r' 2>/dev/null <"$log" |
        grep -oE '^@@ (init|all done|begin [A-Za-z0-9_]+|end [A-Za-z0-9_]+)')
    if ! kill -0 "$bochs_pid" 2>/dev/null; then
        outcome=exited
    elif [[ -n ${seen['@@ all done']:-} ]] && ((now - ${seen['@@ all done']} > 60)); then
        outcome=killed-after-done
    elif grep -q 'Kernel panic' "$log" 2>/dev/null; then
        outcome=killed-on-panic
    elif ((now - t0 > timeout_s)); then
        outcome=killed-on-timeout
    fi
    [[ -z $outcome ]] || break
    sleep 1
done
if [[ $outcome == killed-* ]]; then
    kill "$bochs_pid" 2>/dev/null || true
    sleep 2
    kill -9 "$bochs_pid" 2>/dev/null || true
fi
wait "$bochs_pid" 2>/dev/null || true
t_end=$(date +%s)

# --- 6. Report ------------------------------------------------------------------------
tr -d '\r' <"$log" >"$run/serial.txt"
echo
echo "tree: $(git -C "$repo" describe --always --dirty 2>/dev/null || echo '?')"
grep -E '^@@ (model|avx512|init|all done)' "$run/serial.txt" || true
grep -oE 'ISA levels tested.*|^[a-z0-9]+: fused vec_dot_n checked.*' "$run/serial.txt" || true
status=0
for t in "${tests[@]}"; do
    name=$(basename "${t%-*}")
    end=$(grep -E "^@@ end $name rc=" "$run/serial.txt" || true)
    result=$(sed -n "/^@@ begin $name\$/,/^@@ end $name /p" "$run/serial.txt" |
        grep -E '^test result:' | sed 's/; finished in .*//' || true)
    b=${seen["@@ begin $name"]:-} e=${seen["@@ end $name"]:-}
    wall=$([[ -n $b && -n $e ]] && echo "$((e - b)) s wall" || echo 'wall time unknown')
    ended=${end:+rc=${end##*rc=}}
    printf '%-12s %s  [%s, %s]\n' "$name" "${result:-no result}" "${ended:-did not finish}" "$wall"
    [[ $end == *"rc=0" ]] || status=1
done
# Each failure: where it panicked and the assertion's message (the next line).
grep -A1 -E "^thread '.*' .*panicked at" "$run/serial.txt" | grep -v '^--$' || true
t_init=${seen['@@ init']:-} t_done=${seen['@@ all done']:-}
[[ -z $t_init ]] || echo "boot: $((t_init - t0)) s wall (Bochs start to /init)"
[[ -z $t_init || -z $t_done ]] || echo "tests: $((t_done - t_init)) s wall"
echo "total: $((t_end - t0)) s wall; Bochs: $outcome; log: $run/serial.txt"
[[ -n $t_done ]] || status=1
exit "$status"
