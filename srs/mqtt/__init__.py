"""SRS's MQTT runtime: one client builder, one session type, the broker's reasons as sentences.

``make_client`` builds a configured paho client; :class:`Session` (the one session
type every component uses) adds protocol choice, checked subscriptions and one stop
path; :mod:`srs.mqtt.reasons` turns CONNACK/SUBACK/PUBACK/DISCONNECT codes into
sentences. docs/mqtt.md, "Sessions", says what each component asks of it.
"""

from srs.mqtt.client import ConnectionWatcher, Will, connect_options, guarded, make_client
from srs.mqtt.reasons import SubscriptionRefused, connack_sentence
from srs.mqtt.session import Session

__all__ = [
    "ConnectionWatcher",
    "Session",
    "SubscriptionRefused",
    "Will",
    "connack_sentence",
    "connect_options",
    "guarded",
    "make_client",
]
