#!/bin/sh
# Turns a `cascade run --trace DIR` Perfetto file into one self-contained
# HTML page with catapult's trace viewer (the viewer behind chrome://tracing,
# which reads the same Chrome JSON trace-event format Perfetto's UI imports),
# for a machine without network access to ui.perfetto.dev.
#
# Usage: scripts/view-trace.sh CATAPULT_CHECKOUT DIR/trace.perfetto.json OUT.html
#   CATAPULT_CHECKOUT: a checkout of github.com/catapult-project/catapult
#   (only tracing/, common/ and third_party/ are read; Python 3).
set -eu
if [ "$#" -ne 3 ]; then
    echo "usage: $0 CATAPULT_CHECKOUT TRACE.perfetto.json OUT.html" >&2
    exit 2
fi
catapult=$1
trace=$(realpath "$2")
out=$(realpath -m "$3")
if [ ! -f "$catapult/tracing/bin/trace2html" ]; then
    echo "$catapult/tracing/bin/trace2html not found: is $catapult a catapult checkout?" >&2
    exit 2
fi
python3 "$catapult/tracing/bin/trace2html" "$trace" --output "$out"
