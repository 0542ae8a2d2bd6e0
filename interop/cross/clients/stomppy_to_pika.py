"""stomp.py (STOMP 1.2) publishes, pika (AMQP 0-9-1) consumes: one process, two stock clients.

argv: stomp_port amqp_port routing_key count. Prints one JSON line per message pika received:
the body in hex and the AMQP properties.
"""
import json
import sys

import pika
import stomp

stomp_port, amqp_port, rk, count = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])

amqp = pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', amqp_port, credentials=pika.PlainCredentials('guest', 'guest')))
ch = amqp.channel()
queue = ch.queue_declare('', exclusive=True).method.queue
ch.queue_bind(queue, 'amq.topic', rk + '.#')

s = stomp.Connection([('127.0.0.1', stomp_port)], vhost='/', auto_content_length=True)
s.connect('guest', 'guest', wait=True)
probe = bytes([0xff, 0xfe, 0x00, 0x80, 0x41])
s.send(destination='/topic/' + rk, body=probe, headers={
    'content-type': 'application/x-matrix', 'correlation-id': 'corr-py', 'reply-to': 'matrix.replies',
    'amqp-message-id': 'mid-py', 'priority': '4', 'persistent': 'true', 'expiration': '600000', 'x-h1': 'v1',
    'timestamp': '1700000000000', 'x-kafka-key': 'dev-py'})
for i in range(count - 1):
    s.send(destination='/topic/' + rk, body=('seq-%d' % i).encode())
s.disconnect(receipt='bye')  # waits for the RECEIPT: every SEND before it was handled

got = 0
for method, props, body in ch.consume(queue, auto_ack=True, inactivity_timeout=20):
    if method is None:
        break
    print(json.dumps({
        'routingKey': method.routing_key, 'body': body.hex(), 'contentType': props.content_type,
        'correlationId': props.correlation_id, 'replyTo': props.reply_to, 'messageId': props.message_id,
        'priority': props.priority, 'deliveryMode': props.delivery_mode, 'expiration': props.expiration, 'timestamp': props.timestamp,
        'headers': {k: (v.decode() if isinstance(v, bytes) else v) for k, v in (props.headers or {}).items()},
    }), flush=True)
    got += 1
    if got == count:
        break
ch.cancel()
amqp.close()
