#!/usr/bin/env bash
# Runs every benchmark of issue 7 for real on this machine, then regenerates
# docs/performance.md from benchmarks/results/*.json.
#
#   benchmarks/run_all.sh --checkpoint CKPT [--bundle DIR] [--cdnet PATH]... [--only NAME]...
#
#   --checkpoint CKPT  the default bundle's checkpoint (.pt or run folder): the PyTorch
#                      side of `inference`, the architecture `scaling` grows (required)
#   --bundle DIR       the bundle measured by pipeline, classical and footprint
#                      (default: sdk/models/default, which must then exist)
#   --cdnet PATH       a CDnet sequence / category / dataset folder for `classical`
#   --only NAME        run only these benchmarks (repeatable): inference pipeline
#                      classical training footprint scaling
#   --quick            tiny models and few repeats (a minute or two): checks this script;
#                      results go to benchmarks/results/quick/ with their own report
#
# Every benchmark uses threads = usable cores, so run it on an otherwise idle machine.
# On 2 cores expect roughly 20-40 minutes, most of it the Segformer-B3-sized model
# (inference, footprint) and the paper-sized training settings. A failed benchmark is
# reported at the end while the others still run; the report is rendered from every
# result there is. Exit status: the number of benchmarks that failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
CHECKPOINT="" BUNDLE="sdk/models/default"
CDNET=() ONLY=() QUICK=()
while [ $# -gt 0 ]; do
    case "$1" in
        --checkpoint) CHECKPOINT=${2:?--checkpoint needs a path}; shift 2 ;;
        --bundle) BUNDLE=${2:?--bundle needs a path}; shift 2 ;;
        --cdnet) CDNET+=(--cdnet "${2:?--cdnet needs a path}"); shift 2 ;;
        --only) ONLY+=("${2:?--only needs a name}"); shift 2 ;;
        --quick) QUICK=(--quick); shift ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "run_all.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$CHECKPOINT" ] || [ ! -e "$CHECKPOINT" ]; then
    echo "run_all.sh: --checkpoint must name the default bundle's checkpoint (got '${CHECKPOINT}')" >&2
    exit 2
fi
if [ ! -f "$BUNDLE/astseg.json" ]; then
    echo "run_all.sh: $BUNDLE is not a bundle (no astseg.json); export it or pass --bundle DIR" >&2
    exit 2
fi
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
echo "run_all.sh: $(nproc) cores, load average $load (other work on the machine skews every figure)"

wanted() {  # is benchmark $1 selected?
    [ ${#ONLY[@]} -eq 0 ] && return 0
    local name
    for name in "${ONLY[@]}"; do [ "$name" = "$1" ] && return 0; done
    return 1
}

FAILED=()
run() {  # run NAME COMMAND...
    local name=$1; shift
    wanted "$name" || return 0
    echo "==== $name: $*"
    local start=$SECONDS
    if "$@"; then
        echo "==== $name done in $((SECONDS - start)) s"
    else
        echo "==== $name FAILED (exit $?) after $((SECONDS - start)) s" >&2
        FAILED+=("$name")
    fi
}

run inference "$PYTHON" benchmarks/inference.py "${QUICK[@]}" --checkpoint "$CHECKPOINT"
run pipeline "$PYTHON" benchmarks/pipeline.py "${QUICK[@]}" --bundle "$BUNDLE"
if [ ${#QUICK[@]} -eq 0 ]; then  # the same with one inference thread (README: --threads 1)
    # every size again, no camera trials (those already run one inference thread per stream)
    run pipeline "$PYTHON" benchmarks/pipeline.py --bundle "$BUNDLE" --threads 1 --max-streams 0 \
        --json benchmarks/results/pipeline_threads1.json --png docs/bench-pipeline-threads1.png
fi
run classical "$PYTHON" benchmarks/classical.py "${QUICK[@]}" --bundle "$BUNDLE" "${CDNET[@]}"
run training "$PYTHON" benchmarks/train_speed.py "${QUICK[@]}"
run footprint "$PYTHON" benchmarks/footprint.py "${QUICK[@]}" --bundle "$BUNDLE"
run scaling "$PYTHON" benchmarks/scaling.py "${QUICK[@]}" --checkpoint "$CHECKPOINT"
if [ ${#QUICK[@]} -gt 0 ]; then
    REPORT=(--results benchmarks/results/quick --out benchmarks/results/quick/performance.md)
else
    REPORT=()
fi
"$PYTHON" benchmarks/performance_report.py "${REPORT[@]}" || FAILED+=("performance_report")

if [ ${#FAILED[@]} -gt 0 ]; then
    echo "run_all.sh: failed: ${FAILED[*]}" >&2
fi
exit ${#FAILED[@]}
