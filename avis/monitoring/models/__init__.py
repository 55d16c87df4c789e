"""The monitoring's tables, one module per part."""
