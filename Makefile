# The two commands: `make run` starts connect with demo data; `make test` runs every test.
.PHONY: run test stop clean lint lock

run:
	@scripts/run.sh

test:
	@scripts/test.sh $(ARGS)

# Stops the private PostgreSQL and Redis that run/test started under var/ (this checkout's only).
stop:
	@scripts/services.sh stop

# Stops them and removes var/ (database, Redis, evidence, demo mail) and a cluster kept for this checkout under
# /var/lib/connect. The virtual environment stays.
clean:
	@scripts/services.sh clean

lint:
	@.venv/bin/ruff check .

# Rewrites requirements/*.lock from pyproject.toml (after changing or merging dependencies).
lock:
	@scripts/lock.sh
