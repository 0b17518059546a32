"""The inference engine: model files, loading, and token generation."""
