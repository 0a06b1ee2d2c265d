#!/usr/bin/env bash
# Load harness: builds the server, the bare baselines (bench/baseline/*), the
# store filler and ghz (pinned in tools/go.mod); installs wrk when missing;
# fills a store; runs every row's two sides in alternating rounds on
# loopback; and prints a markdown table of medians and ratios (server CPU per
# OK request from /proc/<pid>/stat, or OK requests per second for creates),
# followed by the in-process Go benchmarks.
#
#   bench/run.sh            full mode: 1M tokens (50k for the etcd rows), 3 rounds of 5 s per side (about 13 minutes)
#   bench/run.sh --smoke    smoke mode: 1k tokens, 1 round of 1 s per side (seconds; a sign of life)
#
# The etcd rows (--rows etcd) run on two 3-member etcd clusters in one
# process each (bench/etcdcluster, loopback) with --etcd-tokens tokens in
# each of their stores (default: --tokens, at most 50000; see
# docs/benchmarks.md, "The etcd rows").
#
# Options: --rounds N, --duration 5s, --tokens N, --out FILE (also write the table there),
# --etcd-tokens N, --rows TERMS (comma-separated: only the rows whose name contains one, case-insensitive, and
# no in-process Go benchmarks; e.g. --rows ext_authz,/v1/authz).
# Every process it starts is stopped by PID on exit; the scratch directory,
# which holds live secrets of the throwaway store, is removed.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false rounds=3 duration=5s tokens=1000000 out="" rows="" etcd_tokens=0
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=true rounds=1 duration=1s tokens=1000 ;;
    --rounds) rounds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --tokens) tokens=$2; shift ;;
    --etcd-tokens) etcd_tokens=$2; shift ;;
    --out) out=$2; shift ;;
    --rows) rows=$2; shift ;;
    *) echo "usage: bench/run.sh [--smoke] [--rounds N] [--duration D] [--tokens N] [--etcd-tokens N] [--out FILE] [--rows TERMS]" >&2; exit 2 ;;
  esac
  shift
done

work=$(mktemp -d "${TMPDIR:-/tmp}/tokenauthority-bench.XXXXXX")
harness_pid=""
cleanup() {
  # The harness stops its own servers; they also die with it (SIGKILL on
  # parent death), so stopping the harness by its PID is enough.
  if [ -n "$harness_pid" ] && kill -0 "$harness_pid" 2>/dev/null; then
    kill -TERM "$harness_pid" 2>/dev/null || true
    wait "$harness_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

echo "building into $work/bin" >&2
mkdir -p "$work/bin"
go build -o "$work/bin/tokenauthority" ./cmd/tokenauthority
for p in bench/baseline/grpcbare bench/baseline/httpbare bench/baseline/boltwrite bench/baseline/etcdtxn \
  bench/etcdcluster bench/fill bench/harness; do
  go build -o "$work/bin/$(basename "$p")" "./$p"
done
go build -modfile=tools/go.mod -o "$work/bin/ghz" github.com/bojand/ghz/cmd/ghz

args=(-bins "$work/bin" -work "$work" -repo "$PWD" -wrk "$(command -v wrk)"
  -tokens "$tokens" -etcd-tokens "$etcd_tokens" -rounds "$rounds" -duration "$duration" -rows "$rows"
  -commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo +changes)")
if $smoke; then args+=(-smoke); fi

"$work/bin/harness" "${args[@]}" >"$work/table.md" &
harness_pid=$!
wait "$harness_pid"
harness_pid=""
cat "$work/table.md"
if [ -n "$out" ]; then cp "$work/table.md" "$out"; fi
