#!/usr/bin/env bash
# Installs what building dumpsed needs beyond Rust (>= 1.85, e.g. from rustup),
# on Debian/Ubuntu: a C compiler and linker (build-essential: rusqlite,
# zstd, lz4 and pg_query compile C, and rustc links with cc), and libclang
# (pg_query, PostgreSQL's parser as a library, generates its bindings with
# bindgen). Nothing is done when they are already there.
#
#   bash scripts/setup.sh
set -euo pipefail
need=()
command -v cc >/dev/null 2>&1 || need+=(build-essential)
# libclang.so itself, not libclang-cpp.so (installed by other LLVM packages,
# and not what bindgen loads).
if ! compgen -G '/usr/lib/llvm-*/lib/libclang.so*' >/dev/null && ! compgen -G '/usr/lib/x86_64-linux-gnu/libclang.so*' >/dev/null \
    && ! compgen -G '/usr/lib/x86_64-linux-gnu/libclang-[0-9]*.so*' >/dev/null; then
    need+=(libclang-dev)
fi
if [[ ${#need[@]} -gt 0 ]]; then
    echo "setup: installing ${need[*]} (needed to build dumpsed)" >&2
    if [[ "$(id -u)" -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
# Rust itself is the user's (rustup puts it in ~/.cargo/bin, which a new
# shell has on PATH); fail here rather than at `cargo: command not found`.
if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo is not on PATH: install Rust >= 1.85 (https://rustup.rs), then open a new shell" >&2
    exit 1
fi
