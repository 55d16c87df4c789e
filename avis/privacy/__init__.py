"""Privacy by design: erasure and access requests, retention, the trainees' self-service
and the privacy notice."""
