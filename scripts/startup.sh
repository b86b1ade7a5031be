#!/usr/bin/env bash
# startup.sh measures how long `consensus` binaries take to start, as a whole
# process, by running them in turn (A B A B ...) so that the load of a shared
# machine falls on each alike, and printing each one's minimum and median CPU
# time (user+sys, from perf stat's task-clock), wall time and page faults.
# CPU time and minima are the figures to compare: wall time and means follow
# whatever else the machine is doing.
#
# Usage: scripts/startup.sh [-n RUNS] [-v] BINARY... [-- ARGS...]
#   e.g. go build -o /tmp/new ./cmd/consensus &&
#        scripts/startup.sh -n 40 /tmp/old /tmp/new -- show 9988.HK --store demo.db
# ARGS default to `help`. -v prints every run. Needs perf (linux-tools).
set -euo pipefail

runs=30 verbose=0
while getopts n:v opt; do
	case $opt in
	n) runs=$OPTARG ;;
	v) verbose=1 ;;
	*) echo "usage: $0 [-n RUNS] [-v] BINARY... [-- ARGS...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
bins=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do bins+=("$1"); shift; done
[ $# -gt 0 ] && shift
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(help)
[ ${#bins[@]} -gt 0 ] || { echo "$0: name at least one binary" >&2; exit 2; }
command -v perf >/dev/null || { echo "$0: perf is not installed" >&2; exit 2; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); ${runs} runs each of: ${args[*]}"
for ((i = 1; i <= runs; i++)); do
	for b in "${bins[@]}"; do
		# -x, gives "value,unit,event,..." lines; the command's own output is dropped.
		perf stat -x, -e task-clock,duration_time,page-faults -o "$out/perf" \
			"$b" "${args[@]}" >/dev/null 2>&1 || true
		awk -F, -v b="$b" '
			$3 == "task-clock" { cpu = $1 }
			$3 == "duration_time" { wall = $1 / 1e6 }
			$3 == "page-faults" { pf = $1 }
			END { printf "%s %.2f %.2f %d\n", b, cpu, wall, pf }' "$out/perf" >>"$out/all"
	done
done
[ $verbose = 1 ] && awk '{ printf "run %-40s cpu %6.2f ms  wall %6.2f ms  faults %d\n", $1, $2, $3, $4 }' "$out/all"
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %17s %17s %8s %8s\n' binary "cpu ms min/med" "wall ms min/med" faults size_MB
for b in "${bins[@]}"; do
	cpu=$(awk -v b="$b" '$1 == b { print $2 }' "$out/all" | sort -n)
	wall=$(awk -v b="$b" '$1 == b { print $3 }' "$out/all" | sort -n)
	pf=$(awk -v b="$b" '$1 == b { print $4 }' "$out/all" | sort -n)
	n=$(echo "$cpu" | wc -l)
	mid=$(((n + 1) / 2))
	printf '%-40s %8s/%-8s %8s/%-8s %8s %8.1f\n' "$b" \
		"$(echo "$cpu" | head -1)" "$(echo "$cpu" | sed -n "${mid}p")" \
		"$(echo "$wall" | head -1)" "$(echo "$wall" | sed -n "${mid}p")" \
		"$(echo "$pf" | sed -n "${mid}p")" "$(echo "scale=1; $(stat -c %s "$b") / 1000000" | bc)"
done
