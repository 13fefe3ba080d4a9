"""Small helpers shared by every app: mail, queueing after commit, public codes, districts, rate limits,
change-history notes, access checks and the sealed-file primitives. Nothing here imports an app."""
