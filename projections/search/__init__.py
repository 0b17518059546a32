"""The message search view behind one port, with a PostgreSQL and an OpenSearch adapter.

`documents` folds log events into message documents (pure); `port` is what the API and the
workers see; `postgres` and `opensearch` are the two adapters; `digest` compares two views.
"""
