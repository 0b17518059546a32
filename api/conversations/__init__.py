"""Conversation transcripts over HTTP."""
