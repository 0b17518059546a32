"""Analytics over the OpenSearch view: one aggregation request, the same numbers as PostgreSQL.

Counts are exact (cardinality is exact below its precision threshold); percentiles are the
engine's estimate, which on small sets equals linear interpolation between ranks.
"""

from __future__ import annotations

import math
from typing import Any

from projections.search.port import Analytics, AnalyticsQuery, BotVolume, Day

EXACT_UP_TO = 40_000  # the largest precision_threshold OpenSearch accepts
BY_COUNT_THEN_KEY = [{"_count": "desc"}, {"_key": "asc"}]


def body(query: AnalyticsQuery) -> dict[str, Any]:
    bounds: dict[str, str] = {}
    if query.since:
        bounds["gte"] = query.since.isoformat()
    if query.until:
        bounds["lt"] = query.until.isoformat()
    users = {"cardinality": {"field": "user_id", "precision_threshold": EXACT_UP_TO}}
    return {
        "size": 0,
        "track_total_hits": True,
        "query": {"range": {"at": bounds}} if bounds else {"match_all": {}},
        "aggs": {
            "users": users,
            "tokens": {"sum": {"field": "tokens"}},
            "up": {"filter": {"term": {"feedback": 1}}},
            "down": {"filter": {"term": {"feedback": -1}}},
            "latency": {"percentiles": {"field": "latency_ms", "percents": [50, 95]}},
            "days": {
                "date_histogram": {"field": "at", "calendar_interval": "day", "min_doc_count": 1},
                "aggs": {"users": users},
            },
            "bots": {
                "terms": {"field": "bot_id", "size": 100, "order": BY_COUNT_THEN_KEY},
                "aggs": {
                    "newest": {
                        "top_hits": {
                            "size": 1,
                            "sort": [{"at": "desc"}, {"message_id": "asc"}],
                            "_source": ["bot_name"],
                        }
                    }
                },
            },
            "terms": {
                "terms": {"field": "terms", "size": query.top_terms, "order": BY_COUNT_THEN_KEY}
            },
        },
    }


def _percentile(values: dict[str, Any], key: str) -> float | None:
    value = values.get(key)
    return None if value is None or math.isnan(value) else float(value)  # NaN: no values


def read(found: dict[str, Any]) -> Analytics:
    aggs = found["aggregations"]
    latency = aggs["latency"]["values"]
    return Analytics(
        messages=int(found["hits"]["total"]["value"]),
        active_users=int(aggs["users"]["value"]),
        days=[
            Day(b["key_as_string"][:10], int(b["doc_count"]), int(b["users"]["value"]))
            for b in aggs["days"]["buckets"]
        ],
        bots=[
            BotVolume(
                str(b["key"]),
                b["newest"]["hits"]["hits"][0]["_source"]["bot_name"],
                int(b["doc_count"]),
            )
            for b in aggs["bots"]["buckets"]
        ],
        latency_p50_ms=_percentile(latency, "50.0"),
        latency_p95_ms=_percentile(latency, "95.0"),
        tokens=int(aggs["tokens"]["value"] or 0),
        feedback_up=int(aggs["up"]["doc_count"]),
        feedback_down=int(aggs["down"]["doc_count"]),
        top_terms=[(str(b["key"]), int(b["doc_count"])) for b in aggs["terms"]["buckets"]],
    )
