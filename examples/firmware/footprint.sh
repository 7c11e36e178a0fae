#!/usr/bin/env bash
# Footprint of the board firmware: flash and static RAM per target, built with the release
# profile of Cargo.toml (opt-level "z", LTO, panic abort, one codegen unit).
#
#   examples/firmware/footprint.sh            # thumbv6m-none-eabi and thumbv7em-none-eabihf
#   examples/firmware/footprint.sh TARGET...  # other thumb targets
#   examples/firmware/footprint.sh --check    # and exit 1 if Cortex-M0 misses the goal (CI)
#
# Needs the targets (rustup target add thumbv6m-none-eabi thumbv7em-none-eabihf) and llvm-size:
# from rustup's llvm-tools component (rustup component add llvm-tools), else one on PATH.
# flash = .vector_table + .text + .rodata + .data (initialised data is stored in flash too);
# static RAM = .data + .bss + .uninit. cortex-m-rt reserves no stack: it grows down from the
# top of RAM into what static RAM leaves free (see README.md for the measured stack depth).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
check=false
if [ "${1:-}" = "--check" ]; then check=true; shift; fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(thumbv6m-none-eabi thumbv7em-none-eabihf)
goal_flash=16384
goal_ram=2048
missed=false
target_dir="${FOOTPRINT_TARGET_DIR:-$here/../../target/firmware}"

size_tool=""
sysroot_bin="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-size"
for candidate in "$sysroot_bin" llvm-size arm-none-eabi-size; do
    if command -v "$candidate" >/dev/null 2>&1; then size_tool="$candidate"; break; fi
done
if [ -z "$size_tool" ]; then
    echo "footprint.sh: no llvm-size found: rustup component add llvm-tools" >&2
    exit 2
fi

printf '%-24s %10s %10s %10s %10s %10s %12s\n' target vectors text rodata data bss "flash/RAM"
for target in "${targets[@]}"; do
    # Flags from the environment would replace the linker-script flag of .cargo/config.toml.
    env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS \
        cargo build --release --quiet --target "$target" --target-dir "$target_dir"
    elf="$target_dir/$target/release/locker-firmware"
    # `llvm-size -A`: one line per section, "name size address".
    read -r vectors text rodata data bss uninit < <("$size_tool" -A "$elf" | awk '
        $1 == ".vector_table" { v = $2 } $1 == ".text" { t = $2 } $1 == ".rodata" { r = $2 }
        $1 == ".data" { d = $2 } $1 == ".bss" { b = $2 } $1 == ".uninit" { u = $2 }
        END { print v + 0, t + 0, r + 0, d + 0, b + 0, u + 0 }')
    flash=$((vectors + text + rodata + data))
    ram=$((data + bss + uninit))
    printf '%-24s %10d %10d %10d %10d %10d %6d/%d\n' "$target" "$vectors" "$text" "$rodata" "$data" "$bss" "$flash" "$ram"
    if [ "$target" = thumbv6m-none-eabi ] && { [ "$flash" -gt "$goal_flash" ] || [ "$ram" -gt "$goal_ram" ]; }; then
        missed=true
    fi
done
echo "flash = vectors+text+rodata+data bytes; RAM = data+bss(+uninit) bytes, stack not included"
echo "goal (issue 7): 24-channel native board core in <= $goal_flash B flash and <= $goal_ram B RAM on Cortex-M0"
if $check && $missed; then
    echo "footprint.sh: thumbv6m-none-eabi misses the goal" >&2
    exit 1
fi
