#!/usr/bin/python3
"""Interop scenarios driven by Eclipse Paho (Debian python3-paho-mqtt, 1.6).

usage: paho_client.py <scenario> <host> <port> <prefix> [args...]
Prints one JSON observation on stdout; the TypeScript side compares it.
"""
import json
import sys
import threading
import paho.mqtt.client as mqtt

VERSIONS = {"3.1": mqtt.MQTTv31, "3.1.1": mqtt.MQTTv311, "5": mqtt.MQTTv5}
TIMEOUT = 10


class Client:
    """A paho client on its own network thread, with events to wait on instead of sleeping."""

    def __init__(self, host, port, client_id, version, clean=True, will=None, expiry=None):
        self.version = version
        proto = VERSIONS[version]
        if proto == mqtt.MQTTv5:
            self.c = mqtt.Client(client_id=client_id, protocol=proto)
        else:
            self.c = mqtt.Client(client_id=client_id, clean_session=clean, protocol=proto)
        self.messages = []
        self.cond = threading.Condition()
        self.connected = threading.Event()
        self.session_present = None
        self.subacked = threading.Event()
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = lambda *a: self.subacked.set()
        if will:
            self.c.will_set(will[0], will[1], qos=will[2], retain=False)
        kwargs = {}
        if proto == mqtt.MQTTv5:
            from paho.mqtt.properties import Properties
            from paho.mqtt.packettypes import PacketTypes
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = expiry if expiry is not None else 0
            kwargs = {"clean_start": clean, "properties": props}
        self.c.connect(host, port, keepalive=30, **kwargs)
        self.c.loop_start()
        if not self.connected.wait(TIMEOUT):
            raise RuntimeError("no CONNACK")

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.session_present = bool(flags.get("session present"))
        self.connected.set()

    def _on_message(self, client, userdata, msg):
        with self.cond:
            self.messages.append({"topic": msg.topic, "payload": msg.payload.decode(), "qos": msg.qos, "retain": bool(msg.retain)})
            self.cond.notify_all()

    def subscribe(self, topic, qos):
        self.subacked.clear()
        self.c.subscribe(topic, qos)
        if not self.subacked.wait(TIMEOUT):
            raise RuntimeError("no SUBACK")

    def publish(self, topic, payload, qos=0, retain=False):
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish()

    def wait_for(self, n):
        with self.cond:
            self.cond.wait_for(lambda: len(self.messages) >= n, TIMEOUT)
            return list(self.messages[:n])

    def stop(self):
        self.c.disconnect()
        self.c.loop_stop()

    def kill(self):
        """Drops the network connection without DISCONNECT."""
        self.c.loop_stop()
        self.c.socket().close()


def strip(prefix, msgs):
    return [dict(m, topic=m["topic"][len(prefix):]) for m in msgs]


def pubsub(host, port, prefix, version, qos):
    qos = int(qos)
    sub = Client(host, port, prefix + "s", version)
    sub.subscribe(prefix + "/p/#", qos)
    pub = Client(host, port, prefix + "p", version)
    for i in range(5):
        pub.publish(prefix + "/p/x", "m%d" % i, qos)
    got = sub.wait_for(5)
    pub.stop()
    sub.stop()
    return strip(prefix, got)


def retained(host, port, prefix, version):
    pub = Client(host, port, prefix + "p", version)
    pub.publish(prefix + "/r/a", "1", 1, True)
    pub.publish(prefix + "/r/b", "2", 1, True)
    sub = Client(host, port, prefix + "s", version)
    sub.subscribe(prefix + "/r/#", 1)
    got = sorted(sub.wait_for(2), key=lambda m: m["topic"])
    for t in ("a", "b"):
        pub.publish(prefix + "/r/" + t, "", 1, True)
    pub.stop()
    sub.stop()
    return strip(prefix, got)


def will(host, port, prefix, version):
    watch = Client(host, port, prefix + "w", version)
    watch.subscribe(prefix + "/lwt", 1)
    doomed = Client(host, port, prefix + "d", version, will=(prefix + "/lwt", "gone", 1))
    doomed.kill()
    got = watch.wait_for(1)
    watch.stop()
    return strip(prefix, got)


def persistent(host, port, prefix, version, phase="all"):
    cid = prefix + "keep"
    out = {}
    if phase in ("all", "before"):
        first = Client(host, port, cid, version, clean=False, expiry=300)
        first.subscribe(prefix + "/k/#", 1)
        first.stop()
        pub = Client(host, port, prefix + "p", version)
        for i in range(3):
            pub.publish(prefix + "/k/x", "k%d" % i, 1)
        pub.stop()
        out["first_present"] = first.session_present
    if phase in ("all", "after"):
        again = Client(host, port, cid, version, clean=False, expiry=300)
        got = again.wait_for(3)
        out["session_present"] = again.session_present
        out["got"] = [m["payload"] for m in got]
        again.stop()
        if phase == "all":
            Client(host, port, cid, version, clean=True).stop()
    return out


def resume_expiry_zero(host, port, prefix, version):
    """5.0: a session resumed by a CONNECT with Session Expiry Interval 0 still delivers what
    was queued for it [MQTT-3.1.2-5], and ends with that connection."""
    cid = prefix + "zero"
    first = Client(host, port, cid, version, clean=False, expiry=300)
    first.subscribe(prefix + "/z/#", 1)
    first.stop()
    pub = Client(host, port, prefix + "p", version)
    for i in range(3):
        pub.publish(prefix + "/z/x", "z%d" % i, 1)
    pub.stop()
    again = Client(host, port, cid, version, clean=False, expiry=0)
    got = again.wait_for(3)
    out = {"session_present": again.session_present, "got": [m["payload"] for m in got]}
    again.stop()
    last = Client(host, port, cid, version, clean=False, expiry=0)
    out["present_after"] = last.session_present
    last.stop()
    return out


def main():
    scenario, host, port, prefix = sys.argv[1:5]
    args = sys.argv[5:]
    fn = {"pubsub": pubsub, "retained": retained, "will": will, "persistent": persistent,
          "resume_expiry_zero": resume_expiry_zero}[scenario]
    print(json.dumps(fn(host, int(port), prefix, *args)))


if __name__ == "__main__":
    main()
