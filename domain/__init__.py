"""Confab's domain: aggregates, their events and errors. Pure: no I/O, no framework."""
