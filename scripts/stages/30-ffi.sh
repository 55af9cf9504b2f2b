#!/usr/bin/env bash
# C ABI (sframe-ffi): release build of libsframe.{so,a}, install + pkg-config, a C file that
# includes only sframe.h (C99 -pedantic, shared and static), the C test suite under
# ASan+UBSan (static lib) and valgrind (shared lib, zero errors and zero leaks), and the C and
# C++ (WebRTC adapter) examples under ASan+UBSan, and the model-based nonce-uniqueness test
# that drives the C ABI from Rust (tests/nonce_model.rs). The rest of the Rust side
# (incl. the header drift test) runs in 10-rust.sh, which also runs nonce_model with every other
# sframe-ffi test. Uses the default target dir unless the caller set CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."

# --- tools (installed only when missing) ---
need=()
command -v cc >/dev/null || need+=(gcc)
command -v c++ >/dev/null || need+=(g++)
command -v valgrind >/dev/null || need+=(valgrind)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v nm >/dev/null || need+=(binutils)
command -v python3 >/dev/null || need+=(python3)
if ((${#need[@]})); then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- release build and install into a scratch prefix ---
features=${SFRAME_FFI_FEATURES:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "$features" ]; then
  bash sframe-ffi/install.sh --prefix "$work/prefix" --features "$features"
else
  bash sframe-ffi/install.sh --prefix "$work/prefix"
fi
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
libdir=$(pkg-config --variable=libdir sframe)
cflags_sframe=$(pkg-config --cflags sframe)
static_libs=$(pkg-config --libs sframe-static)
python3 sframe-ffi/tests/c/gen_vectors.py test-vectors/rfc9605.json test-vectors/iana-256.json \
  test-vectors/rtp-ssrc-keys.json test-vectors/sdp/*.sdp "$work/rfc9605_vectors.h"

passed=0
failed=0
step() { # step NAME CMD...: runs CMD, counts the result
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}

warn=(-Wall -Wextra -Werror)
san=(-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# 1. Only sframe.h + pkg-config: C99 -pedantic, shared and static.
step "header-only C99 program links against libsframe.so" bash -c \
  "cc -std=c99 -pedantic ${warn[*]} $cflags_sframe sframe-ffi/tests/c/header_only.c \
     $(pkg-config --libs sframe) -Wl,-rpath,$libdir -o $work/header_only && $work/header_only"
step "header-only C99 program links against libsframe.a" bash -c \
  "cc -std=c99 -pedantic ${warn[*]} $cflags_sframe sframe-ffi/tests/c/header_only.c \
     $static_libs -o $work/header_only_static && $work/header_only_static"
step "sframe.h compiles as C++" bash -c \
  "echo '#include <sframe.h>' | c++ -std=c++11 -x c++ ${warn[*]} -pedantic $cflags_sframe -fsyntax-only -"

# The shared library exports exactly the functions sframe.h declares, and the C tests call
# every one of them.
header_fns=$(grep -oE '\bsframe_[a-z_]+\(' sframe-ffi/include/sframe.h | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$libdir/libsframe.so" | awk '{print $3}' | sort -u)
step "libsframe.so exports exactly the $(wc -l <<<"$header_fns") functions of sframe.h" \
  test "$header_fns" = "$exported"
untested=$(for f in $header_fns; do grep -q "\b$f(" sframe-ffi/tests/c/test_sframe.c || echo "$f"; done)
[ -z "$untested" ] || echo "not called by tests/c/test_sframe.c: $untested"
step "tests/c/test_sframe.c calls every function of sframe.h" test -z "$untested"

# 2. The C test suite under ASan + UBSan (static library).
cc -std=c11 "${warn[@]}" "${san[@]}" $cflags_sframe -I"$work" sframe-ffi/tests/c/test_sframe.c \
  $static_libs -o "$work/test_asan"
"$work/test_asan" | tee "$work/asan.log" || true
asan_summary=$(tail -n 1 "$work/asan.log")
step "C tests under ASan+UBSan ($asan_summary)" grep -qE '^[0-9]+ passed, 0 failed$' <<<"$asan_summary"

# 3. The same suite under valgrind (shared library, no sanitizer).
cc -std=c11 "${warn[@]}" -g -O1 $cflags_sframe -I"$work" sframe-ffi/tests/c/test_sframe.c \
  $(pkg-config --libs sframe) -Wl,-rpath,"$libdir" -o "$work/test_vg"
vg_status=0
valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,possible \
  --errors-for-leak-kinds=definite,possible "$work/test_vg" >"$work/vg.log" 2>&1 || vg_status=$?
cat "$work/vg.log"
vg_summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$work/vg.log" | tail -n 1 || true)
step "C tests under valgrind, zero errors and leaks ($vg_summary)" \
  test "$vg_status" = 0 -a -n "$vg_summary" -a "${vg_summary%, 0 failed}" != "$vg_summary"

# 4. Examples under ASan + UBSan: the C program and the C++ WebRTC adapter demo.
step "examples/protect_frames.c" bash -c \
  "cc -std=c99 -pedantic ${warn[*]} ${san[*]} $cflags_sframe sframe-ffi/examples/protect_frames.c \
     $static_libs -o $work/protect_frames && $work/protect_frames"
step "examples/webrtc adapter (C++17, WebRTC stand-in)" bash -c \
  "c++ -std=c++17 ${warn[*]} ${san[*]} -DSFRAME_WEBRTC_STANDIN -Isframe-ffi/examples/webrtc \
     $cflags_sframe sframe-ffi/examples/webrtc/webrtc_adapter_demo.cpp $static_libs -pthread \
     -o $work/webrtc_demo && $work/webrtc_demo"

# 5. No (key, nonce) pair repeats under any sequence of sender calls through the C ABI
#    (several senders sharing key material, ratchet, MLS, going back to old KIDs, frees), with
#    the features this stage built. Debug profile: shares the build of 10-rust.sh.
nonce_features=()
[ -z "$features" ] || nonce_features=(--features "$features")
step "Rust nonce-uniqueness model over the C ABI (tests/nonce_model.rs)" \
  cargo test -p sframe-ffi "${nonce_features[@]}" --test nonce_model

echo "30-ffi: $passed passed, $failed failed"
test "$failed" = 0
