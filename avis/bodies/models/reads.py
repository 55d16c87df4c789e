"""Which reviews each body account has read (filled by the reviews part)."""
