"""paho-mqtt (MQTT 5): a half message with user properties, then a commit by a publish to
$transaction/commit with the transaction id as payload. Prints 'ok' once both are PUBACKed.

usage: half_paho.py <mqtt-port> <topic> <transaction-id>
"""
import sys

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

port, topic, txid = int(sys.argv[1]), sys.argv[2], sys.argv[3]
kwargs = {'protocol': mqtt.MQTTv5}
if hasattr(mqtt, 'CallbackAPIVersion'):
    kwargs['callback_api_version'] = mqtt.CallbackAPIVersion.VERSION2
c = mqtt.Client(client_id='half-paho', **kwargs)
c.connect('127.0.0.1', port)
c.loop_start()
props = Properties(PacketTypes.PUBLISH)
props.UserProperty = [('x-transaction', 'half'), ('x-transaction-id', txid)]
c.publish(topic, b'paho half', qos=1, properties=props).wait_for_publish(10)
c.publish('$transaction/commit', txid.encode(), qos=1).wait_for_publish(10)
c.loop_stop()
c.disconnect()
print('ok', flush=True)
