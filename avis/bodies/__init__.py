"""The training body's space (role ``organisation``): its figures over time and beside
its peers, its reviews with replies and reports, its notifications, the Qualiopi
evidence, and colleagues invited to the same scope."""
