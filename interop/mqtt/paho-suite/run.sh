#!/usr/bin/env bash
# Runs Eclipse Paho's MQTT interoperability suite (client_test.py for 3.1.1, client_test5.py
# for 5.0) against a polybroker built from this tree (npm run build first), or against any
# broker with --port. The suite is third-party (EPL/EDL): it is cloned into a temporary
# directory, never into the project.
#   bash interop/mqtt/paho-suite/run.sh [--port P] [--suite 3|5|both] [Test.test_name ...]
# Env: PAHO_TESTING (a git URL or local clone; default the GitHub repository).
# The polybroker it starts has the configuration the suite assumes of a broker: anonymous
# access, SUBSCRIBE to test/nosubscribe refused (a topic permission of guest, not a special
# case in code) and a server keep alive of 60 s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
port=""; suite=both; tests=()
while [ $# -gt 0 ]; do
  case $1 in
    --port) port=$2; shift 2 ;;
    --suite) suite=$2; shift 2 ;;
    *) tests+=("$1"); shift ;;
  esac
done
work=$(mktemp -d /tmp/paho-suite.XXXXXX)
git clone -q "${PAHO_TESTING:-https://github.com/eclipse/paho.mqtt.testing}" "$work/suite"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
if [ -z "$port" ]; then
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$work/polybroker.yaml" <<YAML
listeners:
  amqp: { enabled: false }
  stomp: { enabled: false }
  kafka: { enabled: false }
  http: { enabled: false }
  mqtt: { host: "127.0.0.1", port: $port }
users:
  - name: guest
    password: guest
    tags: [administrator]
    permissions:
      "/": { configure: ".*", write: ".*", read: ".*" }
    topicPermissions:
      "/": [{ exchange: amq.topic, write: ".*", read: "^(?!test\\\\.nosubscribe\$)" }]
mqtt:
  maxKeepAlive: 60
YAML
  node "$root/dist/src/cli.js" start --config "$work/polybroker.yaml" --data-dir "$work/data" >"$work/broker.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
fi
cd "$work/suite/interoperability"
status=0
modules=(); [ "$suite" != 5 ] && modules+=(client_test.py); [ "$suite" != 3 ] && modules+=(client_test5.py)
for m in "${modules[@]}"; do
  echo "== $m against 127.0.0.1:$port"
  /usr/bin/python3 "$here/run_module.py" "$m" 127.0.0.1 "$port" "${tests[@]}" 2>&1 | grep -E ' \.\.\. |^(FAIL|ERROR):|^Ran |^OK|^FAILED' || true
done
