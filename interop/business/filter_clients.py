"""Stock Python clients against the server-side filters (docs/business.md "Filtering").

usage: filter_clients.py pika <amqp-port> <queue>
       filter_clients.py stomp <stomp-port> <queue>
Prints one JSON line with what each consumer received.
"""
import json
import sys
import threading

kind, port, queue = sys.argv[1], int(sys.argv[2]), sys.argv[3]

if kind == 'pika':
    import pika

    conn = pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', port, credentials=pika.PlainCredentials('guest', 'guest')))
    ch = conn.channel()
    ch.queue_declare(queue, durable=True)
    ch.confirm_delivery()
    for body, tag, amount in [('a', 'red', 5), ('b', 'blue', 500), ('c', 'red', 700), ('d', None, 900)]:
        headers = {'amount': amount}
        if tag:
            headers['x-stream-filter-value'] = tag
        ch.basic_publish('', queue, body.encode(), pika.BasicProperties(headers=headers, delivery_mode=2))
    got = {'red': [], 'selector': []}

    def take(name, count):
        def on_message(c, method, props, body):
            got[name].append(body.decode())
            c.basic_ack(method.delivery_tag)
            if len(got[name]) == count:
                c.basic_cancel(method.consumer_tag)
        return on_message

    ch.basic_qos(prefetch_count=10)
    ch.basic_consume(queue, take('red', 2), arguments={'x-stream-filter': 'red'})
    while len(got['red']) < 2:
        conn.process_data_events(time_limit=1)
    ch.basic_consume(queue, take('selector', 1), arguments={'x-selector': 'amount > 800'})
    while len(got['selector']) < 1:
        conn.process_data_events(time_limit=1)
    bad = None
    try:
        ch.basic_consume(queue, take('bad', 1), arguments={'x-selector': 'amount >'})
        conn.process_data_events(time_limit=2)
    except pika.exceptions.ChannelClosedByBroker as e:
        bad = [e.reply_code, e.reply_text]
    got['bad'] = bad
    conn.close()
    print(json.dumps(got))
elif kind == 'stomp':
    import stomp

    got = []
    done = threading.Event()

    class Listener(stomp.ConnectionListener):
        def on_message(self, frame):
            got.append(frame.body)
            done.set()

    c = stomp.Connection12([('127.0.0.1', port)], heartbeats=(0, 0))
    c.set_listener('l', Listener())
    c.connect('guest', 'guest', wait=True)
    c.subscribe(destination='/queue/' + queue, id='s1', ack='auto', headers={'selector': "region = 'eu' AND n > 1"})
    for body, region, n in [('x1', 'eu', '1'), ('x2', 'us', '5'), ('x3', 'eu', '7')]:
        c.send(destination='/queue/' + queue, body=body, headers={'region': region, 'n': n, 'receipt': 'r-' + body})
    done.wait(10)
    c.disconnect()
    print(json.dumps({'selector': got}))
