"""The Litestar app: HTTP and websocket edges that translate to commands and queries."""
