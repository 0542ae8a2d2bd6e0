#!/usr/bin/env bash
# RabbitMQ's own STOMP test suite (python_SUITE) against polybroker, or against the RabbitMQ peer.
#   SUITE_SRC=<dir> bash interop/stomp/rabbitmq-suite/run.sh polybroker|rabbitmq [module[:test] ...]
# SUITE_SRC is deps/rabbitmq_stomp/test/python_SUITE_data/src of rabbitmq-server, extracted
# outside this repository (it is MPL 2.0 and is not vendored), e.g.
#   git -C <rabbitmq-server clone> archive v3.10.25 deps/rabbitmq_stomp/test/python_SUITE_data | tar -x -C /tmp/rmq-stomp
#   SUITE_SRC=/tmp/rmq-stomp/deps/rabbitmq_stomp/test/python_SUITE_data/src
# polybroker: starts dist/src/cli.js (npm run build first) on a fresh data dir and ports of its
# own, runs the suite, stops it. rabbitmq: the peer of /work/shared/peers/start-rabbitmq.sh
# (STOMP 62613, AMQP 6672), with the real rabbitmqctl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../../.." && pwd)
target=${1:?polybroker or rabbitmq}; shift
: "${SUITE_SRC:?set SUITE_SRC to the src directory of the suite}"
py=/usr/bin/python3
if [ "$target" = rabbitmq ]; then
  STOMP_PORT=${PEER_RABBIT_STOMP:-62613} AMQP_PORT=${PEER_RABBIT_AMQP:-6672} RABBITMQCTL=$(command -v rabbitmqctl) \
    RABBITMQ_NODENAME=${PEER_RABBIT_NODE:-rabbit-peer@localhost} exec "$py" "$here/run_suite.py" "$SUITE_SRC" "$@"
fi
data=$(mktemp -d /tmp/pb-stomp-suite-XXXXXX); base=${PB_PORT_BASE:-41000}
export PB_HTTP_PORT=$((base + 567))
POLYBROKER_STOMP_PORT=$((base + 613)) POLYBROKER_AMQP_PORT=$((base + 672)) POLYBROKER_MQTT_PORT=$((base + 883)) \
  POLYBROKER_KAFKA_PORT=$((base + 92)) POLYBROKER_HTTP_PORT=$PB_HTTP_PORT \
  node "$root/dist/src/cli.js" start --data-dir "$data" >"$data.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data" "$data.log"' EXIT
for _ in $(seq 100); do grep -q 'polybroker ready' "$data.log" && break; sleep 0.2; done
STOMP_PORT=$((base + 613)) AMQP_PORT=$((base + 672)) RABBITMQCTL="$here/rabbitmqctl-shim.sh" RABBITMQ_NODENAME=polybroker \
  "$py" "$here/run_suite.py" "$SUITE_SRC" "$@"
