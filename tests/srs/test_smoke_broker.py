import threading

from srs.mqtt import make_client


def test_publish_roundtrip(srs_broker):
    got = threading.Event()
    sub = make_client(srs_broker.client_config("a"), "sub")
    pub = make_client(srs_broker.client_config("b"), "pub")
    sub.on_message = lambda c, u, m: got.set()
    sub.on_connect = lambda c, u, f, r, p: c.subscribe("t/x", 1)
    sub.connect(srs_broker.host, srs_broker.port)
    sub.loop_start()
    pub.connect(srs_broker.host, srs_broker.port)
    pub.loop_start()
    import time
    time.sleep(0.5)
    pub.publish("t/x", b"hi", qos=1).wait_for_publish(5)
    assert got.wait(5)
    for c in (sub, pub):
        c.disconnect()
        c.loop_stop()
