#!/bin/sh
# Compares mpgo's pickle codec with CPython's C pickle on the same data in
# the same run: pickle/bench_test.go (BenchmarkPickle) and
# bench/pickle_bench.py, protocol 4. Prints ns/op of both and the ratio
# Go/CPython (below 1.00: Go is faster). decode is pickle.Unmarshal vs
# pickle.loads; encode is pickle.Marshal vs pickle.dumps (both return new
# memory); "append" is Encoder.AppendEncode into a reused buffer (Go only).
#
# usage: bench/run_pickle.sh [PYTHON]   (default: python3; BENCHTIME=1s, ROUNDS=3)
#
# The Go and the Python runs alternate ROUNDS times and each side keeps its
# best time, so that a load change on a shared machine hits both sides.
set -eu
cd "$(dirname "$0")/.."
PY=${1:-python3}
BENCHTIME=${BENCHTIME:-1s}
ROUNDS=${ROUNDS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go test -c -o "$tmp/pickle.test" ./pickle/
: >"$tmp/go.txt"
: >"$tmp/py.txt"
i=0
while [ "$i" -lt "$ROUNDS" ]; do
	"$tmp/pickle.test" -test.run '^$' -test.bench '^BenchmarkPickle$' -test.benchtime "$BENCHTIME" >>"$tmp/go.txt"
	"$PY" bench/pickle_bench.py >>"$tmp/py.txt"
	i=$((i + 1))
done

echo "pickle protocol 4, Go vs $("$PY" -c 'import sys; print("CPython %d.%d.%d" % sys.version_info[:3])') C pickle, best of $ROUNDS alternating rounds"
awk '
FNR == NR { k = $1 "/" $2; if (!(k in py) || $3 < py[k]) py[k] = $3; size[$1] = $4; next }
/^BenchmarkPickle\// {
	split($1, p, "/"); op = p[3]; sub(/-[0-9]+$/, "", op)
	k = p[2] "/" op
	if (op == "encode") k = p[2] "/append"
	if (op == "marshal") k = p[2] "/encode"
	if (!(k in go) || $3 < go[k]) go[k] = $3
}
END {
	printf "%-10s %-7s %9s %14s %14s %8s %14s\n", "case", "op", "bytes", "Go ns/op", "CPython ns/op", "Go/Py", "Go append"
	n = split("request bytes1MiB dicts10k", cs, " ")
	for (i = 1; i <= n; i++) for (j = 1; j <= 2; j++) {
		op = (j == 1) ? "decode" : "encode"; k = cs[i] "/" op
		r = (k in py && py[k] > 0) ? sprintf("%.2f", go[k] / py[k]) : "n/a"
		a = (j == 2) ? sprintf("%.0f", go[cs[i] "/append"]) : "-"
		printf "%-10s %-7s %9s %14.0f %14.0f %8s %14s\n", cs[i], op, size[cs[i]], go[k], py[k], r, a
	}
}' "$tmp/py.txt" "$tmp/go.txt"
