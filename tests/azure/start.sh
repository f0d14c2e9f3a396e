#!/usr/bin/env bash
# Starts a throwaway Azure Blob Storage emulator on loopback for the Azure store test and prints
# the environment that points headshot (and its test) at it: Azurite (npm `azurite`, MIT, pinned
# in package.json here), Microsoft's own emulator, which speaks the Blob service's REST API with
# shared-key signatures. Its telemetry is turned off (it would call out). Its blobs live in a
# folder of its own under /tmp; stopped by `tests/azure/stop.sh PORT`. One container,
# `headshot-test`, is made.
#
#   eval "$(tests/azure/start.sh [PORT])"     (default 54349)
set -euo pipefail
cd "$(dirname "$0")"
port="${1:-54349}"
[ -x node_modules/.bin/azurite-blob ] || npm ci --no-audit --no-fund --loglevel=error >&2
dir="$(mktemp -d /tmp/headshot-azure.XXXXXX)"
node_modules/.bin/azurite-blob --blobHost 127.0.0.1 --blobPort "$port" --location "$dir/blobs" \
    --silent --skipApiVersionCheck --disableTelemetry >"$dir/log" 2>&1 &
echo "$!" > "$dir/pid"
echo "$dir" > "/tmp/headshot-azure-$port.dir"
# Wait for it to answer, then make the container: a request signed with the emulator's account
# key, which is public and the same in every copy of Azurite (its documentation gives it).
python3 - "$port" >&2 <<'PY'
import base64, hashlib, hmac, sys, time, urllib.error, urllib.request
from email.utils import formatdate
port, account, container = sys.argv[1], "devstoreaccount1", "headshot-test"
key = base64.b64decode(
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
version = "2021-08-06"
for _ in range(150):
    date = formatdate(usegmt=True)
    # SharedKey: the verb, eleven empty standard headers, the x-ms- headers, the resource.
    to_sign = "PUT\n" + "\n" * 11 + f"x-ms-date:{date}\nx-ms-version:{version}\n" + \
        f"/{account}/{account}/{container}\nrestype:container"
    signature = base64.b64encode(hmac.new(key, to_sign.encode(), hashlib.sha256).digest()).decode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/{account}/{container}?restype=container", method="PUT",
        headers={"x-ms-date": date, "x-ms-version": version, "Content-Length": "0",
                 "Authorization": f"SharedKey {account}:{signature}"})
    try:
        urllib.request.urlopen(request, timeout=2)
        break
    except urllib.error.HTTPError as e:
        sys.exit(f"the emulator refused the container: {e.code} {e.read()[:300]!r}")
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("the Azure emulator did not start")
PY
cat <<ENV
export HEADSHOT_TEST_AZURE=az://headshot-test
export AZURE_STORAGE_USE_EMULATOR=true AZURITE_BLOB_STORAGE_URL=http://127.0.0.1:$port
ENV
