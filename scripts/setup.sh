#!/usr/bin/env bash
# Installs what building dumpsed needs beyond Rust, on Debian/Ubuntu:
# libclang (pg_query, PostgreSQL's parser as a library, generates its
# bindings with bindgen). Nothing is done when it is already there.
#
#   bash scripts/setup.sh
set -euo pipefail
# libclang.so itself, not libclang-cpp.so (installed by other LLVM packages,
# and not what bindgen loads).
if compgen -G '/usr/lib/llvm-*/lib/libclang.so*' >/dev/null || compgen -G '/usr/lib/x86_64-linux-gnu/libclang.so*' >/dev/null \
    || compgen -G '/usr/lib/x86_64-linux-gnu/libclang-[0-9]*.so*' >/dev/null; then
    exit 0
fi
echo "setup: installing libclang-dev (needed to build pg_query)" >&2
if [[ "$(id -u)" -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-dev
