"""A pika producer that sends a half message, waits for its publisher confirm and then
crashes (os._exit, no commit, no connection close): the broker must ask back.

usage: half_producer.py <port> <queue> <transaction-id> <check-to>
"""
import os
import sys

import pika

port, queue, txid, check_to = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
conn = pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', port, credentials=pika.PlainCredentials('guest', 'guest')))
ch = conn.channel()
ch.confirm_delivery()
ch.basic_publish(
    exchange='',
    routing_key=queue,
    body=b'debit account 42',
    properties=pika.BasicProperties(
        delivery_mode=2,
        headers={'x-transaction': 'half', 'x-transaction-id': txid, 'x-transaction-check-to': check_to},
    ),
)
print('confirmed', flush=True)
os._exit(0)
