"""Which PostgreSQL and Redis a benchmark may use, and how it keeps to what it made there.

Servers: the ones CONNECT_DATABASE_URL and CONNECT_REDIS_URL name, else 127.0.0.1 at PG_PORT and REDIS_PORT (where
scripts/services.sh starts them). With neither, connect's own private services: scripts/services.sh's default ports,
started by it if they are not running (what `make run` and `make test` use). Nothing else is ever guessed, and what
follows keeps a benchmark to what it made even there.

PostgreSQL: a benchmark works only in databases of its own (connect_bench...). It makes each with a comment that
marks it as a benchmark's, and drops or empties a database only when that mark is on it.

Redis: each benchmark has a database number of its own. It takes it only when the database is empty (or holds
what its own earlier run left), puts a mark key in it for the length of the run, and in the end deletes that
database's keys if its mark is still there: everything in it was made by this run. It never flushes. A run that
dies leaves its keys under its mark, and the benchmark's next run deletes them when it claims the database.
"""

import json
import os
import sys
from contextlib import contextmanager
from urllib.parse import urlparse

DATABASE_MARK = "connect benchmark database"
REDIS_MARK_KEY = "connect-bench:owner"


def stop(benchmark: str, error: str):
    """Ends the run before it touches anything, with the one JSON line every benchmark ends with."""
    print(json.dumps({"benchmark": benchmark, "error": error}), flush=True)
    sys.exit(2)


def _server(url_variable: str, port_variable: str, scheme: str) -> str | None:
    """scheme://user:password@host:port of the server the environment names, without a database."""
    url = os.environ.get(url_variable, "").strip()
    if url:
        parts = urlparse(url)
        if scheme == "postgres":
            return f"postgresql://{parts.netloc}"  # connect also takes postgis://, which libpq does not
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("redis", "rediss") and parts.netloc else None
    port = os.environ.get(port_variable, "").strip()
    if port:
        user = "connect@" if scheme == "postgres" else ""  # the role scripts/services.sh makes
        return f"{scheme}://{user}127.0.0.1:{int(port)}"
    return None


def _private_services() -> dict[str, str]:
    """scripts/services.sh's own services at its default ports, started if they are not running."""
    import subprocess
    from pathlib import Path

    script = str(Path(__file__).resolve().parent.parent / "scripts" / "services.sh")
    subprocess.run([script, "start"], check=True, stdout=subprocess.DEVNULL)
    urls = dict(line.removeprefix("export ").split("=", 1)
                for line in subprocess.run([script, "env"], check=True, capture_output=True, text=True).stdout.split()
                if "=" in line)
    return {"PG_PORT": str(urlparse(urls["CONNECT_DATABASE_URL"]).port),
            "REDIS_PORT": str(urlparse(urls["CONNECT_REDIS_URL"]).port)}


def servers(benchmark: str) -> tuple[str, str]:
    pg = _server("CONNECT_DATABASE_URL", "PG_PORT", "postgres")
    redis_server = _server("CONNECT_REDIS_URL", "REDIS_PORT", "redis")
    if pg is None and redis_server is None:
        os.environ.update(_private_services())
        print(f"bench/{benchmark}.py: using connect's private services (PG_PORT={os.environ['PG_PORT']}, "
              f"REDIS_PORT={os.environ['REDIS_PORT']})", file=sys.stderr)
        pg = _server("CONNECT_DATABASE_URL", "PG_PORT", "postgres")
        redis_server = _server("CONNECT_REDIS_URL", "REDIS_PORT", "redis")
    if pg is None or redis_server is None:
        stop(benchmark, "name both services or neither: PG_PORT and REDIS_PORT (as for scripts/services.sh), or "
                        "CONNECT_DATABASE_URL and a redis:// CONNECT_REDIS_URL")
    return pg, redis_server


# --- PostgreSQL -------------------------------------------------------------------------------------

def _database_comment(conn, name: str) -> tuple[bool, str]:
    row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                       (name,)).fetchone()
    return row is not None, (row[0] or "") if row else ""


def _create_marked(conn, name: str, benchmark: str) -> None:
    conn.execute(f'CREATE DATABASE "{name}"')  # from template1, which carries PostGIS
    conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{DATABASE_MARK}: made by bench/{benchmark}.py'")


def _refuse_unmarked(benchmark: str, name: str) -> None:
    stop(benchmark, f"database {name} exists but no benchmark made it (its comment lacks '{DATABASE_MARK}'); "
                    f"drop it, or mark it with COMMENT ON DATABASE \"{name}\" IS '{DATABASE_MARK}', if it is "
                    "an old benchmark database")


def database_ensure(pg: str, name: str, benchmark: str) -> None:
    """Creates the benchmark database `name` if it is missing; stops if a database of that name is not one."""
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        exists, comment = _database_comment(conn, name)
        if not exists:
            _create_marked(conn, name, benchmark)
        elif not comment.startswith(DATABASE_MARK):
            _refuse_unmarked(benchmark, name)


def database_recreate(pg: str, name: str, benchmark: str) -> None:
    """Drops the benchmark database `name` (only if a benchmark made it) and creates it empty."""
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        exists, comment = _database_comment(conn, name)
        if exists and not comment.startswith(DATABASE_MARK):
            _refuse_unmarked(benchmark, name)
        if exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        _create_marked(conn, name, benchmark)


# --- Redis ------------------------------------------------------------------------------------------

def _delete_all_but_mark(client) -> int:
    deleted = 0
    batch = []
    for key in client.scan_iter(count=1000):
        if key != REDIS_MARK_KEY.encode():
            batch.append(key)
        if len(batch) >= 1000:
            deleted += client.unlink(*batch)
            batch = []
    if batch:
        deleted += client.unlink(*batch)
    return deleted


def _ours(client, benchmark: str) -> bool:
    return client.get(REDIS_MARK_KEY) == benchmark.encode()


def redis_claim(url: str, benchmark: str) -> None:
    """Takes the Redis database at `url` for this run: it must be empty or hold only this benchmark's leftovers."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ResponseError as exc:  # "DB index is out of range": a Redis with Debian's 16 databases
        stop(benchmark, f"Redis cannot open database {url}: {exc}. Benchmarks each use a database of their own, up "
                        "to number 31: give this Redis `databases 32` (scripts/services.sh starts its own so)")
    if client.dbsize() and not _ours(client, benchmark):
        owner = client.get(REDIS_MARK_KEY)
        whose = f"benchmark {owner.decode()}'s" if owner else "keys no benchmark made"
        stop(benchmark, f"Redis database {url} holds {whose}: this benchmark uses only an empty one, and never "
                        "deletes what it did not make")
    _delete_all_but_mark(client)  # what an interrupted earlier run of this benchmark left
    client.set(REDIS_MARK_KEY, benchmark)


def redis_empty_own(url: str, benchmark: str) -> int:
    """Deletes this run's keys from its claimed database (between rounds); the claim stays."""
    import redis

    client = redis.Redis.from_url(url)
    if not _ours(client, benchmark):
        raise RuntimeError(f"Redis database {url} is no longer marked as bench/{benchmark}.py's: not emptying it")
    return _delete_all_but_mark(client)


def redis_release(url: str, benchmark: str) -> None:
    """Deletes this run's keys and its mark, if the mark is still this benchmark's."""
    import redis

    client = redis.Redis.from_url(url)
    if _ours(client, benchmark):
        _delete_all_but_mark(client)
        client.delete(REDIS_MARK_KEY)


@contextmanager
def redis_database(url: str, benchmark: str):
    """The Redis database at `url`, claimed for the run and emptied of the run's keys at its end."""
    redis_claim(url, benchmark)
    try:
        yield url
    finally:
        redis_release(url, benchmark)
