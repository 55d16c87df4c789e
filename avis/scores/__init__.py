"""Aggregation of answers into scores per training body, course, action, session and place."""
