"""Moderation of comments, replies and reports."""
