#!/usr/bin/env bash
# Stack high-water of the board firmware under QEMU: builds it with the `stack-paint` feature
# (the free stack is filled with 0xAA after boot), serves lockctl traffic (scan, status, an
# unlock with its door events, a jammed lock, event reads, garbage), dumps the RAM through
# QEMU's monitor and prints how far below the top of RAM the stack has reached since boot.
#
#   examples/firmware/stack.sh
#
# Needs qemu-system-arm, python3, the thumbv7m-none-eabi target and llvm-nm (rustup component
# add llvm-tools); builds lockctl (cargo build --example lockctl) if needed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
target_dir="$root/target/firmware-stack"
work="$(mktemp -d)"
qemu_pid=""
hold_pid=""
cleanup() {
    [ -n "$hold_pid" ] && kill "$hold_pid" 2>/dev/null || true
    [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

(cd "$here" && env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS \
    cargo build --release --quiet --features stack-paint --target-dir "$target_dir")
(cd "$root" && cargo build --quiet -p locker-examples --example lockctl)
elf="$target_dir/thumbv7m-none-eabi/release/locker-firmware"
lockctl="$root/target/debug/examples/lockctl"
nm="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-nm"
command -v "$nm" >/dev/null 2>&1 || nm=llvm-nm
ebss="$("$nm" "$elf" | awk '$3 == "__ebss" { print $1 }')"

qemu-system-arm -cpu cortex-m3 -M lm3s6965evb -nographic -serial pty \
    -monitor "unix:$work/monitor,server=on,wait=off" -kernel "$elf" >"$work/qemu.log" 2>&1 &
qemu_pid=$!
pty=""
for _ in $(seq 50); do
    pty="$(grep -o '/dev/pts/[0-9]*' "$work/qemu.log" | head -1 || true)"
    [ -n "$pty" ] && break
    sleep 0.1
done
[ -n "$pty" ] || { echo "stack.sh: no PTY from QEMU" >&2; cat "$work/qemu.log" >&2; exit 1; }
# Keep the line open (QEMU notices a new opener only about once a second).
sleep 600 <"$pty" &
hold_pid=$!
sleep 1.5

bus=(--port "$pty" --dialect native)
for _ in 1 2 3; do "$lockctl" "${bus[@]}" scan --to 3 >/dev/null 2>&1 && break || sleep 0.5; done
"$lockctl" "${bus[@]}" status 1 >/dev/null 2>&1 || true
"$lockctl" "${bus[@]}" unlock 1 5 >/dev/null 2>&1 || true
"$lockctl" "${bus[@]}" unlock 1 24 >/dev/null 2>&1 || true
"$lockctl" "${bus[@]}" watch 1 --count 2 --for 8 >/dev/null 2>&1 || true
"$lockctl" "${bus[@]}" watch 1 --count 40 --for 2 --interval-ms 50 >/dev/null 2>&1 || true
printf '\x55\x01\x02\x03\x04\x05\x06\x07\x08\x09' >"$pty"
sleep 0.3

python3 - "$work/monitor" "$work/ram.bin" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(0.3)
s.recv(65536)
s.send(b'pmemsave 0x20000000 0x10000 "%s"\n' % sys.argv[2].encode())
time.sleep(1.0)
PY
python3 - "$work/ram.bin" "$ebss" <<'PY'
import sys
ram = open(sys.argv[1], "rb").read()
statics = int(sys.argv[2], 16) - 0x20000000
at = statics
while at < len(ram) and ram[at] == 0xAA:
    at += 1
print(f"static RAM ends at 0x{0x20000000 + statics:08X} ({statics} B)")
print(f"stack high-water since boot (thumbv7m): {len(ram) - at} B below the top of RAM")
print(f"static + stack: {statics + len(ram) - at} B")
PY
