#!/usr/bin/env bash
# Coverage-guided fuzzing of keysmith's parsers with libFuzzer, on the stable
# toolchain and without cargo-fuzz: builds the fuzz targets with the coverage
# flags cargo-fuzz would pass, then runs each for a bounded time from its seed
# corpus. Exits non-zero if any target crashes, panics or breaks an invariant.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]      (default 20; the targets run side by side)
#   FUZZ_ASAN=1 fuzz/run.sh 3600          (with AddressSanitizer: see below)
#
# Crashing inputs are written to fuzz/artifacts/<target>/; the corpus grown
# during the run is thrown away (the seeds in fuzz/corpus/<target>/ are only read).
#
# FUZZ_ASAN=1 adds -Zsanitizer=address, which stable rustc accepts only with
# RUSTC_BOOTSTRAP=1 (set here for that build alone). keysmith is safe Rust, so
# the default run does without it; it costs about 4x in executions per second.
set -euo pipefail

usage() {
    echo "usage: $0 [SECONDS_PER_TARGET]" >&2
    exit 2
}
[[ $# -le 1 ]] || usage
seconds=${1:-20}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || usage

targets=(key_parse duration key_line redact serve_body)

fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$fuzz_dir"

# Build for an explicit --target so that RUSTFLAGS reach the fuzzed code but not
# build scripts and proc macros, which would not link against libFuzzer.
host=$(rustc -vV | sed -n 's/^host: //p')
flags=(
    -Cpasses=sancov-module
    -Cllvm-args=-sanitizer-coverage-level=4
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
    -Cllvm-args=-sanitizer-coverage-pc-table
    -Cllvm-args=-sanitizer-coverage-trace-compares
    -Cllvm-args=-simplifycfg-branch-fold-threshold=0
    --cfg fuzzing
)
if [[ $host == *-linux-* ]]; then
    flags+=(-Cllvm-args=-sanitizer-coverage-stack-depth)
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$fuzz_dir/target}
if [[ ${FUZZ_ASAN:-0} == 1 ]]; then
    flags+=(-Zsanitizer=address)
    export RUSTC_BOOTSTRAP=1
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0
    # Its own directory, so that the two builds do not undo each other.
    CARGO_TARGET_DIR=$CARGO_TARGET_DIR/asan
fi
# As cargo-fuzz does: the caller's RUSTFLAGS come last, so they win.
export RUSTFLAGS="${flags[*]}${RUSTFLAGS:+ $RUSTFLAGS}"
unset CARGO_ENCODED_RUSTFLAGS

echo "== building ${targets[*]} for $host"
build_start=$SECONDS
cargo build --release --locked --target "$host" "${targets[@]/#/--bin=}"
echo "== built in $((SECONDS - build_start)) s"
bin_dir=$CARGO_TARGET_DIR/$host/release

work=$(mktemp -d)
pids=()
cleanup() {
    if [[ ${#pids[@]} -ne 0 ]]; then
        kill "${pids[@]}" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The targets run side by side, so the run takes SECONDS_PER_TARGET in all.
echo "== fuzzing ${targets[*]} for $seconds s each, side by side"
for target in "${targets[@]}"; do
    mkdir -p "$work/corpus/$target" "artifacts/$target"
    args=(
        "$work/corpus/$target" # new entries go to the first directory
        "corpus/$target"       # the committed seeds, only read
        -max_total_time="$seconds"
        -timeout=10
        -rss_limit_mb=2048
        -artifact_prefix="artifacts/$target/"
        -print_final_stats=1
    )
    if [[ -f $target.dict ]]; then
        args+=(-dict="$target.dict")
    fi
    "$bin_dir/$target" "${args[@]}" >"$work/$target.log" 2>&1 &
    pids+=($!)
done

failed=()
for i in "${!targets[@]}"; do
    target=${targets[$i]}
    log=$work/$target.log
    status=0
    wait "${pids[$i]}" || status=$?
    # libFuzzer's closing status line: runs, coverage (cov: edges, ft: features),
    # corpus, exec/s.
    echo "$target: $(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" || echo "stopped early")"
    if [[ $status -ne 0 ]]; then
        tail -n 60 "$log"
        artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
        echo "== $target FAILED (libFuzzer exit $status)"
        if [[ -n $artifact ]]; then
            echo "   input: $fuzz_dir/$artifact"
            echo "   reproduce: $bin_dir/$target $fuzz_dir/$artifact"
        fi
        failed+=("$target")
    fi
done
pids=()

if [[ ${#failed[@]} -ne 0 ]]; then
    echo "fuzz: failed: ${failed[*]}"
else
    echo "fuzz: ${#targets[@]} targets ran $seconds s each with no crash"
fi
# A closing line in the form CI reads as a test count.
echo "fuzz: $((${#targets[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
[[ ${#failed[@]} -eq 0 ]]
