# The two commands: `make run` starts connect with demo data; `make test` runs every test.
.PHONY: run test stop lint

run:
	@scripts/run.sh

test:
	@scripts/test.sh $(ARGS)

# Stops the private PostgreSQL and Redis that run/test started under var/.
stop:
	@scripts/services.sh stop

lint:
	@.venv/bin/ruff check .
