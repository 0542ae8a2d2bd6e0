"""python3-confluent-kafka (librdkafka 2.0.2) exactly-once scenarios against polybroker; prints one JSON result.

usage: confluent_eos_client.py <bootstrap> <scenario> <topic> [args...]

idempotent <topic> <first> <count>: an idempotent producer (enable.idempotence=true) sends the
  values first..first+count-1 one request at a time and reports each delivery.
read <topic> <count> <isolation>: reads the partition from the start with a group-less consumer.
transactions <topic>: a transactional producer commits c1 c2, aborts a1 a2, commits c3.
"""
import json
import sys

from confluent_kafka import Consumer, Producer, TopicPartition

bootstrap, scenario, topic = sys.argv[1], sys.argv[2], sys.argv[3]

if scenario == "idempotent":
    first, count = int(sys.argv[4]), int(sys.argv[5])
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 0,
                  "retry.backoff.ms": 50, "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 200})
    results = []
    for i in range(first, first + count):
        p.produce(topic, value=b"ck-%d" % i,
                  on_delivery=lambda err, m: results.append([str(err) if err else None, m.offset()]))
        p.flush(60)
    print(json.dumps({"results": results}))
elif scenario == "transactions":
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": "ck-txn-" + topic, "linger.ms": 0})
    p.init_transactions(30)
    steps = []
    for values, commit in [(["c1", "c2"], True), (["a1", "a2"], False), (["c3"], True)]:
        p.begin_transaction()
        for v in values:
            p.produce(topic, value=v.encode(), partition=0)
        p.flush(30)  # written before the abort (abort_transaction drops unsent messages)
        if commit:
            p.commit_transaction(30)
        else:
            p.abort_transaction(30)
        steps.append("commit" if commit else "abort")
    print(json.dumps({"steps": steps}))
elif scenario == "read":
    count, isolation = int(sys.argv[4]), sys.argv[5]
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "ck-eos-reader", "enable.auto.commit": False,
                  "isolation.level": isolation})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    while len(got) < count:
        m = c.poll(10)
        if m is None:
            break
        if m.error():
            continue
        got.append([m.offset(), m.value().decode()])
    c.close()
    print(json.dumps({"got": got}))
