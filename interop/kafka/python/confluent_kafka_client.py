"""python3-confluent-kafka (librdkafka 2.0.2) scenarios against polybroker; prints one JSON result.

usage: confluent_kafka_client.py <bootstrap> <scenario>
"""
import json
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

bootstrap, scenario = sys.argv[1], sys.argv[2]


def produce(topic, n, codec="none", acks="all"):
    p = Producer({"bootstrap.servers": bootstrap, "acks": acks, "compression.type": codec, "linger.ms": 5})
    results = []
    for i in range(n):
        p.produce(topic, key=b"k%d" % i, value=b"%s-%d" % (codec.encode(), i),
                  headers=[("h", b"v%d" % i)],
                  on_delivery=lambda err, m: results.append([str(err) if err else None, m.partition(), m.offset()]))
    p.flush(20)
    return results


def consume(topic, group, n, extra=None):
    conf = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False}
    conf.update(extra or {})
    c = Consumer(conf)
    c.subscribe([topic])
    got = []
    while len(got) < n:
        m = c.poll(10)
        if m is None:
            break
        if m.error():
            got.append({"error": str(m.error())})
            continue
        got.append({"offset": m.offset(), "partition": m.partition(), "key": m.key().decode(),
                    "value": m.value().decode(), "headers": [[k, v.decode()] for k, v in (m.headers() or [])]})
    if got:
        c.commit(asynchronous=False)
    committed = [[tp.partition, tp.offset] for tp in c.committed([TopicPartition(topic, p) for p in range(1)])]
    c.close()
    return got, committed


if scenario == "produce-consume":
    out = {"produced": []}
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
        out["produced"] += produce("ck-codecs", 2, codec)
    got, committed = consume("ck-codecs", "ck-g1", 10)
    out["consumed"] = got
    out["committed"] = committed
    out["produced"] += produce("ck-codecs", 1, "lz4")
    # A new consumer of the same group resumes after the committed offset.
    got2, _ = consume("ck-codecs", "ck-g1", 1, {"session.timeout.ms": 6000})
    out["after_restart"] = got2
    print(json.dumps(out))
elif scenario == "cooperative":
    # Two members with the cooperative-sticky assignor (KIP-429): the broker passes its
    # subscription metadata through; librdkafka does the incremental rebalance itself.
    a = AdminClient({"bootstrap.servers": bootstrap})
    for f in a.create_topics([NewTopic("ck-coop", 4, 1)]).values():
        f.result()
    p = Producer({"bootstrap.servers": bootstrap})
    for i in range(40):
        p.produce("ck-coop", key=b"k%d" % i, value=b"v%d" % i)
    p.flush(10)
    conf = {"bootstrap.servers": bootstrap, "group.id": "ck-coop-g", "auto.offset.reset": "earliest",
            "partition.assignment.strategy": "cooperative-sticky", "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500}
    assigned = {"a": set(), "b": set()}
    c1 = Consumer(conf)
    c2 = Consumer(conf)
    c1.subscribe(["ck-coop"], on_assign=lambda c, ps: assigned["a"].update(p.partition for p in ps),
                 on_revoke=lambda c, ps: assigned["a"].difference_update(p.partition for p in ps))
    c2.subscribe(["ck-coop"], on_assign=lambda c, ps: assigned["b"].update(p.partition for p in ps),
                 on_revoke=lambda c, ps: assigned["b"].difference_update(p.partition for p in ps))
    seen = set()
    for _ in range(200):
        for c in (c1, c2):
            m = c.poll(0.1)
            if m is not None and not m.error():
                seen.add(m.value().decode())
        if len(seen) == 40 and assigned["a"] and assigned["b"] and len(assigned["a"] | assigned["b"]) == 4:
            break
    out = {"consumed": len(seen), "a": sorted(assigned["a"]), "b": sorted(assigned["b"])}
    c1.close()
    c2.close()
    print(json.dumps(out))
elif scenario == "static":
    # KIP-345: members with group.instance.id; one restarts (librdkafka sends no LeaveGroup for
    # a static member) and gets its partitions back while the other is never revoked.
    a = AdminClient({"bootstrap.servers": bootstrap})
    for f in a.create_topics([NewTopic("ck-static", 4, 1)]).values():
        f.result()
    base = {"bootstrap.servers": bootstrap, "group.id": "ck-static-g", "auto.offset.reset": "earliest",
            "session.timeout.ms": 10000, "heartbeat.interval.ms": 500}
    events = {"i1": [], "i2": []}

    def member(instance):
        c = Consumer(dict(base, **{"group.instance.id": instance}))
        c.subscribe(["ck-static"],
                    on_assign=lambda c, ps: events[instance].append(["assign", sorted(p.partition for p in ps)]),
                    on_revoke=lambda c, ps: events[instance].append(["revoke", sorted(p.partition for p in ps)]))
        return c

    def settle(consumers, check):
        for _ in range(300):
            for c in consumers:
                c.poll(0.05)
            if check():
                return True
        return False

    def assigned(instance):
        e = [x for x in events[instance] if x[0] == "assign"]
        return e[-1][1] if e else []

    c1, c2 = member("i1"), member("i2")
    settle([c1, c2], lambda: len(assigned("i1")) + len(assigned("i2")) == 4 and assigned("i1") and assigned("i2"))
    before = {"i1": assigned("i1"), "i2": assigned("i2")}
    revokes_i2 = len([x for x in events["i2"] if x[0] == "revoke"])
    c1.close()
    events["i1"] = []
    c1 = member("i1")
    settle([c1, c2], lambda: assigned("i1") != [])
    for _ in range(20):
        c2.poll(0.05)
    out = {"before": before, "i1_after": assigned("i1"),
           "i2_revoked_after_restart": len([x for x in events["i2"] if x[0] == "revoke"]) - revokes_i2}
    c1.close()
    c2.close()
    print(json.dumps(out))
elif scenario == "admin":
    a = AdminClient({"bootstrap.servers": bootstrap})
    out = {}
    fs = a.create_topics([NewTopic("ck-admin", 2, 1, config={"retention.ms": "60000", "cleanup.policy": "delete"})])
    out["create"] = {t: (f.exception() and str(f.exception().args[0].name())) for t, f in fs.items()}
    fs = a.create_topics([NewTopic("ck-admin", 2, 1)])
    out["create_again"] = {t: (f.exception() and f.exception().args[0].name()) for t, f in fs.items()}
    fs = a.create_partitions([NewPartitions("ck-admin", 3)])
    out["partitions"] = {t: (f.exception() and f.exception().args[0].name()) for t, f in fs.items()}
    fs = a.create_partitions([NewPartitions("ck-admin", 1)])
    out["shrink"] = {t: (f.exception() and f.exception().args[0].name()) for t, f in fs.items()}
    res = a.describe_configs([ConfigResource("topic", "ck-admin")])
    out["configs"] = {k: v.value for f in res.values() for k, v in f.result().items() if k in ("retention.ms", "cleanup.policy", "max.message.bytes")}
    res = a.alter_configs([ConfigResource("topic", "ck-admin", set_config={"retention.ms": "120000"})])
    out["alter"] = [f.exception() and f.exception().args[0].name() for f in res.values()]
    res = a.describe_configs([ConfigResource("topic", "ck-admin")])
    out["configs_after"] = {k: v.value for f in res.values() for k, v in f.result().items() if k in ("retention.ms", "cleanup.policy")}
    md = a.list_topics(timeout=10)
    out["partitions_after"] = len(md.topics["ck-admin"].partitions)
    out["brokers"] = [[b.id, b.port] for b in md.brokers.values()]
    out["groups"] = sorted(g.id for g in a.list_groups(timeout=10))
    fs = a.delete_topics(["ck-admin"])
    out["delete"] = {t: (f.exception() and f.exception().args[0].name()) for t, f in fs.items()}
    fs = a.delete_topics(["ck-admin"])
    out["delete_again"] = {t: (f.exception() and f.exception().args[0].name()) for t, f in fs.items()}
    print(json.dumps(out))
