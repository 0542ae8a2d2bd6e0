"""Client scripts with stomp.py (Debian python3-stomp), run against polybroker by the interop
tests and against RabbitMQ/ActiveMQ by the differential check.

    /usr/bin/python3 stomppy_scenarios.py <scenario> <port> <version 1.0|1.1|1.2> [vhost]

Prints one JSON object: the scenario's observations (or {"error": ...}). Each scenario waits
on receipts and received frames (threading.Event), never on timers, except where idling is the
point (heart-beats).
"""
import json
import sys
import threading
import time
import uuid

import stomp

SCENARIO, PORT, VERSION = sys.argv[1], int(sys.argv[2]), sys.argv[3]
VHOST = sys.argv[4] if len(sys.argv) > 4 else "/"
WAIT = 10


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


class Collector(stomp.ConnectionListener):
    """Records frames; `wait_*` block until enough arrived."""

    def __init__(self):
        self.messages = []
        self.receipts = set()
        self.errors = []
        self.heartbeats = 0
        self.heartbeat_timeouts = 0
        self.disconnected = threading.Event()
        self.cond = threading.Condition()

    def on_message(self, frame):
        with self.cond:
            self.messages.append(frame)
            self.cond.notify_all()

    def on_receipt(self, frame):
        with self.cond:
            self.receipts.add(frame.headers.get("receipt-id"))
            self.cond.notify_all()

    def on_error(self, frame):
        with self.cond:
            self.errors.append(frame.headers.get("message", ""))
            self.cond.notify_all()

    def on_heartbeat(self):
        self.heartbeats += 1

    def on_heartbeat_timeout(self):
        self.heartbeat_timeouts += 1

    def on_disconnected(self):
        self.disconnected.set()
        with self.cond:
            self.cond.notify_all()

    def wait_messages(self, n):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.messages) >= n, WAIT):
                raise RuntimeError("timed out waiting for %d messages (got %d)" % (n, len(self.messages)))
        return self.messages[:n]

    def wait_receipt(self, rid):
        with self.cond:
            if not self.cond.wait_for(lambda: rid in self.receipts, WAIT):
                raise RuntimeError("timed out waiting for receipt %s" % rid)

    def wait_error(self):
        with self.cond:
            self.cond.wait_for(lambda: self.errors or self.disconnected.is_set(), WAIT)
        return self.errors[0] if self.errors else "closed without ERROR"


def connect(passcode="guest", heartbeats=(0, 0), headers=None):
    cls = {"1.0": stomp.Connection10, "1.1": stomp.Connection11, "1.2": stomp.Connection12}[VERSION]
    kwargs = {"auto_decode": False}
    headers = dict(headers or {})
    if VERSION == "1.0":
        headers["host"] = VHOST
    else:
        kwargs["vhost"] = VHOST
        kwargs["heartbeats"] = heartbeats
    conn = cls([("127.0.0.1", PORT)], **kwargs)
    listener = Collector()
    conn.set_listener("c", listener)
    conn.connect("guest", passcode, wait=True, headers=headers)
    return conn, listener


def body_of(frame):
    b = frame.body
    return b.decode("utf8") if isinstance(b, bytes) else b


def send(conn, listener, destination, body, **headers):
    rid = unique("r")
    conn.send(destination, body, headers=dict(headers, receipt=rid))
    listener.wait_receipt(rid)


def subscribe(conn, listener, destination, sid, ack="auto", **headers):
    rid = unique("r")
    conn.subscribe(destination, sid, ack=ack, headers=dict(headers, receipt=rid))
    listener.wait_receipt(rid)


def ack(conn, frame, transaction=None):
    h = frame.headers
    if VERSION == "1.2":
        conn.ack(h["ack"], transaction=transaction)
    elif VERSION == "1.1":
        conn.ack(h["message-id"], h["subscription"], transaction=transaction)
    else:
        conn.ack(h["message-id"], transaction=transaction)


def nack(conn, frame):
    h = frame.headers
    if VERSION == "1.2":
        conn.nack(h["ack"])
    else:
        conn.nack(h["message-id"], h["subscription"])


def disconnect(conn):
    conn.disconnect(receipt=unique("bye"))


def scenario_roundtrip():
    q = "/queue/" + unique("py")
    conn, l = connect()
    ack_mode = "client" if VERSION == "1.0" else "client-individual"
    subscribe(conn, l, q, "s1", ack=ack_mode)
    for n in (1, 2, 3):
        send(conn, l, q, "m%d" % n, **{"content-type": "text/plain", "x-n": str(n), "custom": "a:b"})
    msgs = l.wait_messages(3)
    for m in msgs:
        ack(conn, m)
    out = [{"body": body_of(m), "x-n": m.headers.get("x-n"), "custom": m.headers.get("custom"),
            "content-type": m.headers.get("content-type"), "has-message-id": "message-id" in m.headers,
            "destination-ok": m.headers.get("destination") == q} for m in msgs]
    disconnect(conn)
    return out


def scenario_nack():
    q = "/queue/" + unique("pynack")
    conn, l = connect()
    subscribe(conn, l, q, "s1", ack="client-individual")
    send(conn, l, q, "once")
    first = l.wait_messages(1)[0]
    nack(conn, first)
    second = l.wait_messages(2)[1]
    ack(conn, second)
    disconnect(conn)
    return [{"body": body_of(first), "redelivered": first.headers.get("redelivered")},
            {"body": body_of(second), "redelivered": second.headers.get("redelivered")}]


def scenario_transactions():
    q = "/queue/" + unique("pytx")
    conn, l = connect()
    subscribe(conn, l, q, "s1")
    tx = conn.begin()
    conn.send(q, "aborted", transaction=tx)
    rid = unique("r")
    conn.abort(tx, headers={"receipt": rid})
    l.wait_receipt(rid)
    tx = conn.begin()
    conn.send(q, "committed-1", transaction=tx)
    conn.send(q, "committed-2", transaction=tx)
    rid = unique("r")
    conn.commit(tx, headers={"receipt": rid})
    l.wait_receipt(rid)
    send(conn, l, q, "after")
    got = [body_of(m) for m in l.wait_messages(3)]
    disconnect(conn)
    return got


def scenario_binary():
    q = "/queue/" + unique("pybin")
    body = bytes(range(256)) * 4
    conn, l = connect()
    subscribe(conn, l, q, "s1")
    send(conn, l, q, body, **{"content-type": "application/octet-stream"})
    m = l.wait_messages(1)[0]
    b = m.body
    disconnect(conn)
    return {"equal": b == body, "length": len(b)}


def scenario_durable():
    topic = "/topic/" + unique("pydur")
    cid = unique("cid")
    sub_headers = {"durable": "true", "auto-delete": "false", "activemq.subscriptionName": "d1"}
    ack_mode = "client" if VERSION == "1.0" else "client-individual"
    conn, l = connect(headers={"client-id": cid})
    subscribe(conn, l, topic, "d1", ack=ack_mode, **sub_headers)
    disconnect(conn)
    conn, l = connect()
    send(conn, l, topic, "while-away", persistent="true")
    disconnect(conn)
    conn, l = connect(headers={"client-id": cid})
    subscribe(conn, l, topic, "d1", ack=ack_mode, **sub_headers)
    m = l.wait_messages(1)[0]
    ack(conn, m)
    rid = unique("r")
    conn.unsubscribe(id="d1", headers=dict(sub_headers, receipt=rid)) if VERSION != "1.0" else conn.unsubscribe(destination=topic, id="d1", headers=dict(sub_headers, receipt=rid))
    l.wait_receipt(rid)
    disconnect(conn)
    return [body_of(m)]


def scenario_temp_queue():
    q = "/queue/" + unique("pyrpc")
    server, sl = connect()
    subscribe(server, sl, q, "srv")
    client, cl = connect()
    send(client, cl, q, "ping", **{"reply-to": "/temp-queue/answers"})
    asked = sl.wait_messages(1)[0]
    send(server, sl, asked.headers["reply-to"], "pong")
    reply = cl.wait_messages(1)[0]
    out = {"reply": body_of(reply), "subscription": reply.headers.get("subscription"),
           "reply-to-prefix": asked.headers["reply-to"].rsplit("/", 1)[0]}
    disconnect(server)
    disconnect(client)
    return out


def scenario_heartbeat():
    # Both directions at 300 ms; idle for 2 s: the server must send beats and keep us connected.
    conn, l = connect(heartbeats=(300, 300))
    time.sleep(2)
    out = {"connected": conn.is_connected(), "server-beats": l.heartbeats > 0, "timeouts": l.heartbeat_timeouts}
    disconnect(conn)
    return out


def scenario_silent_client():
    # Promise beats every 200 ms, then stop stomp.py's beat thread: the server must give up on us.
    conn, l = connect(heartbeats=(200, 0))
    conn.running = False
    conn.heartbeat_terminate_event.set()
    started = time.monotonic()
    l.disconnected.wait(WAIT)
    return {"disconnected": l.disconnected.is_set(), "error": l.errors[0] if l.errors else None,
            "within-2s": time.monotonic() - started < 2}


def scenario_wrong_passcode():
    try:
        conn, l = connect(passcode="wrong")
    except Exception as e:  # stomp.py raises ConnectFailedException after the ERROR
        return {"connected": False, "exception": type(e).__name__}
    return {"connected": True}


def scenario_bad_destination():
    conn, l = connect()
    conn.send("/nonsense/x", "x")
    return {"error": l.wait_error()}


SCENARIOS = {
    "roundtrip": scenario_roundtrip,
    "nack": scenario_nack,
    "transactions": scenario_transactions,
    "binary": scenario_binary,
    "durable": scenario_durable,
    "temp-queue": scenario_temp_queue,
    "heartbeat": scenario_heartbeat,
    "silent-client": scenario_silent_client,
    "wrong-passcode": scenario_wrong_passcode,
    "bad-destination": scenario_bad_destination,
}

if __name__ == "__main__":
    try:
        result = SCENARIOS[SCENARIO]()
    except Exception as e:
        result = {"error": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps(result))
    sys.stdout.flush()
    # stomp.py's receiver threads may linger on a broken connection; leave at once.
    import os
    os._exit(0)
