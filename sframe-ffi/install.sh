#!/bin/sh
# Builds (release profile) and installs the sframe C library:
#   $PREFIX/include/sframe.h
#   $PREFIX/lib/libsframe.so.<version> (SONAME libsframe.so.<soversion> on Linux, see build.rs)
#     with the symlinks libsframe.so.<soversion> (what programs load) and libsframe.so (what
#     -lsframe links at build time); $PREFIX/lib/libsframe.a
#   $PREFIX/lib/pkgconfig/sframe.pc (shared) and sframe-static.pc (static)
#
# Usage: sframe-ffi/install.sh [--prefix DIR] [--destdir DIR] [--features LIST] [--rustcrypto] [--no-build]
#   --prefix   install prefix (default: $PREFIX or /usr/local); written into the .pc files
#   --destdir  staging root prepended to every path (packaging), as DESTDIR in make
#   --features cargo features of sframe-ffi, e.g. aws-lc
#   --rustcrypto  build with the pure-Rust RustCrypto backend instead of the default aws-lc
#   --no-build install what `cargo build -p sframe-ffi --release` already produced
# Honours CARGO_TARGET_DIR (default: the workspace's target/).
set -eu

prefix=${PREFIX:-/usr/local}
destdir=${DESTDIR:-}
features=""
default_features=""
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#*=}; shift ;;
        --destdir) destdir=$2; shift 2 ;;
        --destdir=*) destdir=${1#*=}; shift ;;
        --features) features=$2; shift 2 ;;
        --features=*) features=${1#*=}; shift ;;
        --rustcrypto) default_features="--no-default-features"; shift ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
case "$prefix" in
    /*) ;;
    *) prefix=$(pwd)/$prefix ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."

if [ "$build" = 1 ]; then
    # shellcheck disable=SC2086 # $default_features is empty or one flag
    if [ -n "$features" ]; then
        cargo build -p sframe-ffi --release $default_features --features "$features"
    else
        cargo build -p sframe-ffi --release $default_features
    fi
fi

# Where cargo put the libraries (CARGO_TARGET_DIR or the workspace default), and the version.
metadata=$(cargo metadata --format-version 1 --no-deps)
target_dir=$(printf '%s\n' "$metadata" | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
version=$(printf '%s\n' "$metadata" |
    sed -n 's/.*"name":"sframe-ffi","version":"\([^"]*\)".*/\1/p')
[ -n "$version" ] || { echo "install.sh: no sframe-ffi version in cargo metadata" >&2; exit 1; }
# The ABI major version build.rs gives the SONAME (one source of truth).
soversion=$(sed -n 's/^const SOVERSION: &str = "\([0-9]*\)";$/\1/p' "$here/build.rs")
[ -n "$soversion" ] || { echo "install.sh: no SOVERSION in $here/build.rs" >&2; exit 1; }
libs="$target_dir/release"
for f in libsframe.so libsframe.a; do
    [ -f "$libs/$f" ] || { echo "install.sh: missing $libs/$f (build first)" >&2; exit 1; }
done

# System libraries Rust's std needs when linking the static library, as rustc reports them.
probe=$(mktemp -d)
libs_private=$(echo '' | rustc --crate-type staticlib --print native-static-libs - \
    -o "$probe/probe.a" 2>&1 | sed -n 's/.*native-static-libs: //p')
rm -rf "$probe"
[ -n "$libs_private" ] || libs_private="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

root="$destdir$prefix"
mkdir -p "$root/include" "$root/lib/pkgconfig"
cp "$here/include/sframe.h" "$root/include/sframe.h"
cp "$libs/libsframe.a" "$root/lib/"
# Real file + symlinks, as distributions lay out versioned libraries (ldconfig would create
# the SONAME link itself; a prefix outside its paths gets it here).
rm -f "$root/lib/libsframe.so" "$root/lib/libsframe.so.$soversion" "$root/lib/libsframe.so.$version"
cp "$libs/libsframe.so" "$root/lib/libsframe.so.$version"
ln -s "libsframe.so.$version" "$root/lib/libsframe.so.$soversion"
ln -s "libsframe.so.$soversion" "$root/lib/libsframe.so"
chmod 644 "$root/include/sframe.h" "$root/lib/libsframe.a"
chmod 755 "$root/lib/libsframe.so.$version"
for pc in sframe sframe-static; do
    sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" \
        -e "s|@LIBS_PRIVATE@|$libs_private|g" "$here/$pc.pc.in" > "$root/lib/pkgconfig/$pc.pc"
done
echo "installed sframe $version into $root (pkg-config: PKG_CONFIG_PATH=$root/lib/pkgconfig)"
