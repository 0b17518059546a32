"""The application service: command messages, their handlers, queries and the wire formats."""
