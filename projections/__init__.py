"""Read models built from the event log: search view, read tables, datasets (issues 3, 5, 7)."""
