"""Transactional producer load for bench/kafka-eos.ts (python3-confluent-kafka, librdkafka 2.0.2).

usage: kafka-eos-txn.py <bootstrap> <topic> <records file> <records per transaction | 0 = idempotent, no transactions> [debug]
(debug: librdkafka's protocol debug log goes to stderr, for bench/kafka-eos.ts --probe)
Sends every line of the file as one record; prints the seconds the sends took.
"""
import sys
import time

from confluent_kafka import Producer

bootstrap, topic, path, per_txn = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(path, "rb") as f:
    records = f.read().split(b"\n")[:-1]
conf = {"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
        "queue.buffering.max.kbytes": 1048576}
if len(sys.argv) > 5 and sys.argv[5] == "debug":
    conf["debug"] = "protocol"
if per_txn > 0:
    conf["transactional.id"] = "bench-eos-" + topic
p = Producer(conf)
if per_txn > 0:
    p.init_transactions(30)
t0 = time.monotonic()
if per_txn > 0:
    for i in range(0, len(records), per_txn):
        p.begin_transaction()
        for r in records[i:i + per_txn]:
            p.produce(topic, r)
        p.commit_transaction(60)
else:
    for r in records:
        while True:
            try:
                p.produce(topic, r)
                break
            except BufferError:
                p.poll(0.01)
    p.flush(120)
print("%.4f" % (time.monotonic() - t0))
