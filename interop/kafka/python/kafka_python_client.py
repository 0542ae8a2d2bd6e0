"""python3-kafka (kafka-python 2.0.2) scenarios against polybroker; prints one JSON result.

usage: kafka_python_client.py <bootstrap> <scenario> [sasl mechanism user password]
"""
import json
import sys

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.admin import NewPartitions, NewTopic

bootstrap, scenario = sys.argv[1], sys.argv[2]

if scenario == "produce-consume":
    out = {"produced": []}
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", compression_type="gzip", linger_ms=5)
    for i in range(5):
        md = p.send("kp-topic", key=b"k%d" % i, value=b"v%d" % i, headers=[("h", b"x")]).get(timeout=10)
        out["produced"].append([md.partition, md.offset])
    p.close()
    c = KafkaConsumer("kp-topic", bootstrap_servers=bootstrap, group_id="kp-g", auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=3000)
    out["consumed"] = [[m.offset, m.key.decode(), m.value.decode(), [[k, v.decode()] for k, v in m.headers]] for m in c]
    # A commit with metadata, as kafka-python's OffsetAndMetadata carries it.
    c.commit({TopicPartition("kp-topic", 0): OffsetAndMetadata(5, "kp-meta")})
    out["committed"] = c.committed(TopicPartition("kp-topic", 0))
    c.close()
    a = KafkaAdminClient(bootstrap_servers=bootstrap)
    a.create_topics([NewTopic("kp-admin", 2, 1, topic_configs={"retention.ms": "60000"})])
    a.create_partitions({"kp-admin": NewPartitions(4)})
    out["topics"] = sorted(t for t in a.list_topics() if t.startswith("kp-"))
    out["groups"] = [[g.group, g.state] for g in a.describe_consumer_groups(["kp-g"])]
    out["offsets"] = [[tp.topic, tp.partition, om.offset, om.metadata] for tp, om in a.list_consumer_group_offsets("kp-g").items()]
    a.delete_topics(["kp-admin"])
    out["topics_after"] = sorted(t for t in a.list_topics() if t.startswith("kp-"))
    a.close()
    print(json.dumps(out))
elif scenario == "codecs":
    # python3-lz4, python3-snappy and python3-zstandard give kafka-python its codecs.
    out = {"produced": [], "consumed": []}
    for codec in ["gzip", "snappy", "lz4", "zstd"]:
        p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", compression_type=codec, linger_ms=5)
        futures = [p.send("kp-codecs", value=b"%s-%d" % (codec.encode(), i)) for i in range(3)]
        p.flush()
        out["produced"] += [[codec, f.get(timeout=10).offset] for f in futures]
        p.close()
    c = KafkaConsumer("kp-codecs", bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=3000)
    out["consumed"] = [[m.offset, m.value.decode()] for m in c]
    c.close()
    print(json.dumps(out))
elif scenario == "sasl":
    mech, user, password = sys.argv[3], sys.argv[4], sys.argv[5]
    try:
        p = KafkaProducer(bootstrap_servers=bootstrap, security_protocol="SASL_PLAINTEXT", sasl_mechanism=mech,
                          sasl_plain_username=user, sasl_plain_password=password, acks="all")
        md = p.send("kp-sasl", value=b"secret").get(timeout=10)
        p.close()
        print(json.dumps({"ok": True, "offset": md.offset}))
    except Exception as e:  # noqa: BLE001 - the test checks which error a wrong password gives
        print(json.dumps({"ok": False, "error": type(e).__name__}))
