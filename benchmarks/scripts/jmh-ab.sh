#!/bin/bash
# A/B of JMH benchmarks across builds, in rotating rounds (see docs/benchmarks.md, "The core's API
# reshaping"): each round runs every jar once, three forks each, the order rotating from round to
# round; the logs go to $OUT (default /tmp/jmh-ab), one per jar and round, for jmh-ab-summary.py.
#
#   benchmarks/scripts/jmh-ab.sh TAG ROUNDS 'REGEX' NAME=JAR [NAME=JAR ...]
#   e.g. benchmarks/scripts/jmh-ab.sh spawn 5 'SpawnBenchmark.fiberTasks' before=/tmp/a.jar after=/tmp/b.jar
#
# Run it alone on the machine (on the shared machine: under /work/bin/cpu-x).
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,9p' "$0" >&2
  exit 2
fi
tag=$1; rounds=$2; regex=$3; shift 3
out=${OUT:-/tmp/jmh-ab}
mkdir -p "$out"
root=$(cd "$(dirname "$0")/../.." && pwd)
names=(); jars=()
for a in "$@"; do
  names+=("${a%%=*}"); jars+=("${a#*=}")
  [ -f "${a#*=}" ] || { echo "jmh-ab: no jar ${a#*=}" >&2; exit 2; }
done
n=${#names[@]}
for round in $(seq 1 "$rounds"); do
  for k in $(seq 0 $((n - 1))); do
    i=$(( (k + round) % n ))
    log="$out/$tag-${names[$i]}-$round.log"
    "$root/fiberloop" java -jar "${jars[$i]}" "$regex" -f 3 -wi 3 -i 5 -w 1 -r 1 \
        -jvmArgsAppend "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED" > "$log" 2>&1
    echo "round $round ${names[$i]} done $(date -u +%T)"
  done
done
echo "summary: python3 $root/benchmarks/scripts/jmh-ab-summary.py $out $tag ${names[0]}"
