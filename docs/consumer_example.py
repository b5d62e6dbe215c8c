"""Subscribe to stswatch alerts: python consumer_example.py [BOOTSTRAP_SERVERS] [TOPIC]"""

import json
import sys

from kafka import KafkaConsumer

servers = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9092"
topic = sys.argv[2] if len(sys.argv) > 2 else "sts.alerts.v1"
consumer = KafkaConsumer(
    topic,
    bootstrap_servers=servers,
    group_id="my-service",
    auto_offset_reset="earliest",
    value_deserializer=json.loads,
)
seen = set()  # delivery is at least once: a repeated event has the same event_id
for message in consumer:
    alert = message.value
    if alert["event_id"] not in seen:
        seen.add(alert["event_id"])
        names = " + ".join(v["name"] or str(v["mmsi"]) for v in alert["vessels"])
        print(alert["event"], alert["alert_id"], names, flush=True)
