"""Notification preferences of body accounts (filled by the notifications part)."""
