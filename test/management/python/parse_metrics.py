"""Parses Prometheus text exposition from stdin with the Prometheus project's own parser
(Debian python3-prometheus-client) and prints the families as JSON: name -> {type, samples}.
A parse error exits non-zero with the parser's message."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    out[family.name] = {
        "type": family.type,
        "help": family.documentation,
        "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples],
    }
json.dump(out, sys.stdout)
