#!/usr/bin/env bash
# device_gate_real.sh for a model whose record, gate and raw run outlast one device call (the 8B:
# ~510 s to record and export, ~80 s to gate, ~75 s raw, against a ten-minute call).
#
#   bash oracles/record/device_background.sh start MODEL [WATCH_S]   call 1: unpacks the device kit,
#        copies the checkout to /tmp/bg-work and runs device_gate_real.sh there in its own process
#        session (setsid), results in /tmp/bg-out; watches it for WATCH_S seconds (default 530)
#   bash oracles/record/device_background.sh collect MODEL          call 2, within the machine's
#        30 s warm period: waits for the run to end and copies its figures, logs and report.json
#        to $OUT
#
# Why outside the checkout: each call re-syncs the checkout with the caller's working tree, which
# removed the recorded oracles/MODEL/ between two calls (even git-ignored); /tmp is left alone, and
# a process in its own session outlives the call that started it.
set -uo pipefail
cd "$(dirname "$0")/../.."
mode=${1:?start or collect}; m=${2:?model}
work=/tmp/bg-work; res=/tmp/bg-out
case "$mode" in
  start)
    watch_s=${3:-530}
    bash scripts/device-kit.sh unpack >/dev/null || exit 1
    rm -rf "$work" "$res" && mkdir -p "$res" && cp -a . "$work"
    setsid nohup bash -c "cd $work && export PATH=\$PWD/.kit/bin:\$PATH && bash oracles/record/device_gate_real.sh $res $m 16; echo \$? > $res/done" \
      > "$res.log" 2>&1 < /dev/null &
    t0=$(date +%s)
    while [ $(( $(date +%s) - t0 )) -lt "$watch_s" ] && [ ! -f "$res/done" ]; do sleep 10; done
    echo "after $(( $(date +%s) - t0 )) s:"
    grep -v '^  ' "$res/$m.figures" 2>/dev/null
    tail -3 "$res/$m.record.log" 2>/dev/null
    ;;
  collect)
    t0=$(date +%s)
    while [ ! -f "$res/done" ] && [ $(( $(date +%s) - t0 )) -lt 540 ]; do sleep 5; done
    echo "waited $(( $(date +%s) - t0 )) s; exit status $(cat "$res/done" 2>/dev/null || echo 'none: still running')"
    tail -5 "$res.log"
    for f in "$m.figures" "$m.gate.log" "$m.raw.log" "$m.record.log"; do cp "$res/$f" "${OUT:?}/" 2>/dev/null; done
    cp "$res/$m-report/report.json" "$OUT/$m.report.json" 2>/dev/null
    grep -v '^  ' "$res/$m.figures"
    ;;
  *)
    echo "usage: bash oracles/record/device_background.sh start|collect MODEL [WATCH_S]" >&2
    exit 2
    ;;
esac
