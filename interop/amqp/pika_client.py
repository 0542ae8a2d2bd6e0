"""pika (BlockingConnection) scenario: confirms, mandatory returns, basic_get, tx, consume, errors.
Prints one JSON list of observations. Usage: /usr/bin/python3 pika_client.py HOST PORT SUFFIX"""
import json
import sys

import pika

host, port, sfx = sys.argv[1], int(sys.argv[2]), sys.argv[3]
obs = []
log = lambda ev, data=None: obs.append([ev, data])
params = pika.ConnectionParameters(host=host, port=port, credentials=pika.PlainCredentials('guest', 'guest'))
conn = pika.BlockingConnection(params)
ch = conn.channel()
q = 'pika-' + sfx
r = ch.queue_declare(queue=q, durable=True)
log('declare', [r.method.queue.replace(sfx, '<id>'), r.method.message_count])
ch.confirm_delivery()
for i in range(50):
    ch.basic_publish('', q, ('m%d' % i).encode(), pika.BasicProperties(delivery_mode=2, headers={'i': i}))
log('confirmed', 50)
try:
    ch.basic_publish('amq.direct', 'nowhere-' + sfx, b'lost', mandatory=True)
    log('unroutable', 'no error')
except pika.exceptions.UnroutableError as e:
    log('unroutable', [m.method.reply_code for m in e.messages])
m, props, body = ch.basic_get(q)
log('get', [body.decode(), m.message_count, m.redelivered, props.headers, props.delivery_mode])
ch.basic_nack(m.delivery_tag, requeue=True)
m, props, body = ch.basic_get(q)
log('get-after-nack', [body.decode(), m.redelivered])
ch.basic_ack(m.delivery_tag)
got = []
for method, props, body in ch.consume(q, inactivity_timeout=2):
    if method is None:
        break
    got.append(body.decode())
    ch.basic_ack(method.delivery_tag)
    if len(got) == 49:
        break
ch.cancel()
log('consumed', [len(got), got[0], got[-1]])
tx = conn.channel()
tx.tx_select()
tx.basic_publish('', q, b'in-tx')
tx.tx_rollback()
log('after-rollback', tx.queue_declare(queue=q, passive=True).method.message_count)
tx.basic_publish('', q, b'in-tx')
tx.tx_commit()
log('after-commit', tx.queue_declare(queue=q, passive=True).method.message_count)
m, props, body = tx.basic_get(q, auto_ack=True)
log('tx-get', body.decode())
bad = conn.channel()
try:
    bad.queue_declare(queue='missing-' + sfx, passive=True)
except pika.exceptions.ChannelClosedByBroker as e:
    log('passive-missing', [e.reply_code, e.reply_text.replace(sfx, '<id>')])
ch.queue_delete(q)
conn.close()
print(json.dumps(obs))
