"""The camera connector moved to its own package, ``connect_connector`` (connector/ at the repository root), which
owners install without the rest of connect and which scripts/bootstrap.sh installs into the server's virtualenv.
``python -m integration.connector`` still runs it, for scripts written before the move."""
