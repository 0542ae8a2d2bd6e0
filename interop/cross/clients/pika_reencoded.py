"""pika (AMQP 0-9-1) publishes messages the broker re-encodes and reads the copies back.

argv: amqp_port tag. Publishes, with every basic property set (cluster-id included) and a
forged x-pb-origin-user header:
  1. to the default exchange with routing key q-direct and a BCC header naming q-bcc
     (delivery-mode 2), and once more with delivery-mode 1;
  2. to q-dl (dead-letters to q-dlq), then rejects it there without requeue.
Prints one JSON line per copy read: queue, body, every property (headers as text).
"""
import json
import sys

import pika

amqp_port, tag = int(sys.argv[1]), sys.argv[2]
q = {k: '%s-%s' % (k, tag) for k in ('q-direct', 'q-bcc', 'q-dl', 'q-dlq')}

conn = pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', amqp_port, credentials=pika.PlainCredentials('guest', 'guest')))
ch = conn.channel()
ch.confirm_delivery()
for name in ('q-direct', 'q-bcc', 'q-dlq'):
    ch.queue_declare(q[name], durable=True)
ch.queue_declare(q['q-dl'], durable=True, arguments={'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': q['q-dlq']})


def props(delivery_mode, extra):
    return pika.BasicProperties(
        content_type='application/x-matrix', content_encoding='identity-x', correlation_id='corr-py', reply_to='matrix.replies',
        message_id='mid-py', priority=4, delivery_mode=delivery_mode, expiration='600000', timestamp=1700000000, type='t-py',
        user_id='guest', app_id='pika', cluster_id='cluster-py', headers=dict({'x-h1': 'v1', 'x-n': 7, 'x-pb-origin-user': 'mallory'}, **extra))


ch.basic_publish('', q['q-direct'], b'bcc-2', props(2, {'BCC': [q['q-bcc']]}))
ch.basic_publish('', q['q-direct'], b'bcc-1', props(1, {'BCC': [q['q-bcc']]}))
ch.basic_publish('', q['q-dl'], b'dead', props(2, {}))


def text(v):
    if isinstance(v, bytes):
        return v.decode('utf-8', 'replace')
    if isinstance(v, (list, dict)):
        return 'table'
    return str(v)


def show(queue, method, p, body):
    fields = ('content_type', 'content_encoding', 'correlation_id', 'reply_to', 'message_id', 'priority', 'delivery_mode',
              'expiration', 'timestamp', 'type', 'user_id', 'app_id', 'cluster_id')
    out = {'queue': queue, 'body': body.decode()}
    for f in fields:
        out[f] = getattr(p, f)
    out['headers'] = {k: text(v) for k, v in (p.headers or {}).items()}
    print(json.dumps(out), flush=True)


for name in ('q-direct', 'q-bcc'):
    for _ in range(2):
        method, p, body = ch.basic_get(q[name], auto_ack=True)
        show(name, method, p, body)
method, p, body = ch.basic_get(q['q-dl'], auto_ack=False)
ch.basic_reject(method.delivery_tag, requeue=False)
# basic.reject has no reply; the next method on the channel is handled after it (frames are
# handled in order), and the broker dead-letters while handling the reject.
method, p, body = ch.basic_get(q['q-dlq'], auto_ack=True)
show('q-dlq', method, p, body)
conn.close()
