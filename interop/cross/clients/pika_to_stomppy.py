"""pika (AMQP 0-9-1) publishes, stomp.py (STOMP 1.2) consumes: one process, two stock clients.

argv: stomp_port amqp_port routing_key count. Prints one JSON line per MESSAGE stomp.py got:
the body in hex and the headers.
"""
import json
import sys
import threading

import pika
import stomp

stomp_port, amqp_port, rk, count = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
got = []
done = threading.Event()


class Listener(stomp.ConnectionListener):
    def on_message(self, frame):
        got.append({'headers': dict(frame.headers), 'body': (frame.body if isinstance(frame.body, bytes) else frame.body.encode('latin1')).hex()})
        if len(got) == count:
            done.set()


s = stomp.Connection([('127.0.0.1', stomp_port)], vhost='/', auto_decode=False)
s.set_listener('', Listener())
s.connect('guest', 'guest', wait=True)
s.subscribe(destination='/topic/' + rk + '.#', id='1', ack='auto', headers={'receipt': 'subscribed'})
# A RECEIPT for a later frame means the SUBSCRIBE took effect (frames are handled in order).
ready = threading.Event()
s.set_listener('receipts', type('R', (stomp.ConnectionListener,), {'on_receipt': lambda self, f: ready.set()})())
s.begin(transaction='barrier', headers={'receipt': 'barrier'})
ready.wait(20)

amqp = pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', amqp_port, credentials=pika.PlainCredentials('guest', 'guest')))
ch = amqp.channel()
ch.confirm_delivery()
ch.basic_publish('amq.topic', rk, bytes([0xff, 0xfe, 0x00, 0x80, 0x41]), pika.BasicProperties(
    content_type='application/x-matrix', content_encoding='identity-x', correlation_id='corr-py', reply_to='matrix.replies',
    message_id='mid-py', priority=4, delivery_mode=2, expiration='600000', type='t-py', app_id='pika', timestamp=1700000000,
    headers={'x-h1': 'v1', 'x-n': 7}))
for i in range(count - 1):
    ch.basic_publish('amq.topic', rk, ('seq-%d' % i).encode())
amqp.close()

done.wait(20)
s.disconnect()
for m in got:
    print(json.dumps(m), flush=True)
