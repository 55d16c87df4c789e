"""Invitations to rate a course, their tokens, and what trainees do with them."""
