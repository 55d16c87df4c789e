"""Region staff's monitoring: the response funnel, lists and exports, alerts, and trainee
files uploaded in the back office."""
