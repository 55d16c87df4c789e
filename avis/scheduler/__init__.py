"""Periodic jobs: the job list, ticks recorded once, run-due and the scheduler process."""
