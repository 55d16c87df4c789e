"""Email: templates, the transactional outbox, delivery backends, provider events."""
