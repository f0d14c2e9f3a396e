#!/usr/bin/env bash
# Starts a throwaway S3-compatible server on loopback for the S3 store test and prints the
# environment that points headshot (and its test) at it: moto's server (PyPI `moto[server]`,
# Apache-2.0), which speaks S3's HTTP API (signed requests, XML listings, multipart uploads) and
# keeps its objects in memory. It runs from a venv of its own under /tmp; stopped by
# `tests/s3/stop.sh PORT` (or left to die with the machine). One bucket, `headshot-test`, is made.
#
#   eval "$(tests/s3/start.sh [PORT])"     (default 54339)
set -euo pipefail
port="${1:-54339}"
dir="$(mktemp -d /tmp/headshot-s3.XXXXXX)"
python3 -m venv "$dir/venv"
"$dir/venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5' >&2
"$dir/venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$dir/log" 2>&1 &
echo "$!" > "$dir/pid"
echo "$dir" > "/tmp/headshot-s3-$port.dir"
# Wait for it to answer, then make the bucket (an unsigned request: moto takes any key).
"$dir/venv/bin/python" - "$port" >&2 <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/headshot-test"
for _ in range(100):
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="PUT"), timeout=2)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("the S3 server did not start")
PY
cat <<ENV
export HEADSHOT_TEST_S3=s3://headshot-test
export AWS_ENDPOINT=http://127.0.0.1:$port AWS_ALLOW_HTTP=true
export AWS_ACCESS_KEY_ID=headshot-test AWS_SECRET_ACCESS_KEY=headshot-test AWS_REGION=us-east-1
ENV
