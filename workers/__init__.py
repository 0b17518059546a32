"""Long-running processes: the relay, the inference worker and its engine."""
