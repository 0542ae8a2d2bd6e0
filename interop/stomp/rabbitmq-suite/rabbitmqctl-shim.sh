#!/bin/sh
# Stands in for rabbitmqctl when RabbitMQ's STOMP suite runs against polybroker: the topic
# permission commands go to polybroker's management API (real changes, guest/guest); anything
# else (`eval` of RabbitMQ's plugin config) is refused, so those tests error out.
shift 2  # -n <node>
api=http://127.0.0.1:${PB_HTTP_PORT:?}/api
case "$1" in
  set_topic_permissions)
    exec curl -sf -u guest:guest -X PUT -H 'content-type: application/json' \
      -d "{\"exchange\":\"$3\",\"write\":\"$4\",\"read\":\"$5\"}" "$api/topic-permissions/%2F/$2" ;;
  clear_topic_permissions)
    exec curl -sf -u guest:guest -X DELETE "$api/topic-permissions/%2F/$2" ;;
  *) echo "rabbitmqctl-shim: '$1' has no polybroker equivalent here" >&2; exit 1 ;;
esac
