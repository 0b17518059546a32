"""A view's fingerprint: how many documents, and a digest of their content in id order."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from projections.search.documents import MessageDoc
from projections.search.port import ViewSummary


def summarize(docs: Iterable[MessageDoc], position: int) -> ViewSummary:
    digest, count = hashlib.sha256(), 0
    for doc in sorted(docs, key=lambda d: d.message_id):
        digest.update(json.dumps(doc.content(), sort_keys=True).encode())
        digest.update(b"\n")
        count += 1
    return ViewSummary(documents=count, digest=digest.hexdigest(), position=position)
