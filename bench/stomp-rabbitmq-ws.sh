#!/usr/bin/env bash
# A private RabbitMQ node (rabbit-stompws@localhost) with Web-STOMP for `npm run bench -- stomp`:
# STOMP on 127.0.0.1:62623, STOMP over WebSocket on ws://127.0.0.1:15694/ws. The shared peer has no
# Web-STOMP, and a node of our own is not stopped by other benches midway. Stop it with
#   PEER_RABBIT_NODE=rabbit-stompws@localhost ../shared/peers/stop-rabbitmq.sh
# (POLYBROKER_PEERS_DIR names the peers directory when it is not ../shared/peers, as for worktrees.)
set -euo pipefail
export PEER_RABBIT_NODE=rabbit-stompws@localhost PEER_RABBIT_AMQP=6692 PEER_RABBIT_MQTT=2893 PEER_RABBIT_STOMP=62623 PEER_RABBIT_STREAM=6562 PEER_RABBIT_DIST=26692
PEERS=${POLYBROKER_PEERS_DIR:-$(dirname "$0")/../../shared/peers}
DIR=/tmp/polybroker-peers/rabbitmq-rabbit-stompws
if ss -ltn | grep -q ':15694 '; then echo "already up"; exit 0; fi
"$PEERS/start-rabbitmq.sh"
"$PEERS/stop-rabbitmq.sh"
echo '[rabbitmq_stomp,rabbitmq_web_stomp].' > $DIR/enabled_plugins
cat > $DIR/rabbitmq.conf <<CONF
listeners.tcp.default = 127.0.0.1:6692
stomp.listeners.tcp.1 = 127.0.0.1:62623
web_stomp.tcp.port = 15694
web_stomp.tcp.ip = 127.0.0.1
CONF
id rabbitmq >/dev/null 2>&1 && chown -R rabbitmq:rabbitmq "$DIR"
export RABBITMQ_NODENAME=$PEER_RABBIT_NODE RABBITMQ_DIST_PORT=26692 RABBITMQ_NODE_PORT=6692
export RABBITMQ_MNESIA_BASE=$DIR/mnesia RABBITMQ_LOG_BASE=$DIR/log
export RABBITMQ_CONFIG_FILE=$DIR/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/enabled_plugins
export RABBITMQ_PID_FILE=$DIR/rabbitmq.pid
setsid rabbitmq-server >"$DIR/server.out" 2>&1 < /dev/null &
for _ in $(seq 120); do ss -ltn | grep -q ':15694 ' && { echo "web-stomp up on 15694"; exit 0; }; sleep 1; done
echo "web-stomp did not come up"; exit 1
