"""Document sources: where post-mortems are read from."""
