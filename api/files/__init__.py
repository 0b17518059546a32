"""Uploaded files: upload, download, thumbnails; owners only."""
