"""The benchmarks are safe to run beside other people's services (issue 13): they use only the PostgreSQL and Redis
that PG_PORT / REDIS_PORT or CONNECT_* name, never flush a Redis database, drop only databases a benchmark made
(bench/_services.py), and each takes --quick and ends with one JSON line. Static checks of bench/*.py."""

import ast
import re
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(path for path in BENCH.glob("*.py") if not path.name.startswith("_"))
ALL_FILES = sorted(BENCH.glob("*.py"))

FLUSH = re.compile(r"flush_?(db|all)", re.IGNORECASE)
# PostgreSQL's and Redis's usual ports and scripts/services.sh's defaults, and a default given to PG_PORT/REDIS_PORT.
SERVICE_PORT = re.compile(r"(?<![\d.])(5432|54329|6379|63799)(?!\d)")
PORT_DEFAULT = re.compile(r"""get\(\s*["'](PG_PORT|REDIS_PORT)["']\s*,""")
DROP_DATABASE = re.compile(r"DROP\s+DATABASE", re.IGNORECASE)
REDIS_DB = re.compile(r"""(?:_data\.REDIS\}/|REDIS_DB\s*=\s*)(\d+)""")


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda path: path.name)
def test_no_flush_and_no_guessed_service_port(path):
    text = path.read_text()
    assert not FLUSH.search(text), "deletes keys it may not have made: claim a database with bench/_services.py"
    assert not SERVICE_PORT.search(text), "a fixed port may be another person's service: use _data.PG / _data.REDIS"
    assert not PORT_DEFAULT.search(text), "a default port may be another person's service: use _data.PG / REDIS"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda path: path.name)
def test_databases_are_dropped_only_through_the_mark_check(path):
    if path.name != "_services.py":
        assert not DROP_DATABASE.search(path.read_text()), "drop through _services.database_recreate"


def test_each_script_has_a_redis_database_of_its_own():
    owners = {}
    for path in SCRIPTS:
        for number in set(REDIS_DB.findall(path.read_text())):
            owners.setdefault(int(number), []).append(path.name)
    assert owners, "no Redis database numbers found: the pattern no longer matches the scripts"
    shared = {number: names for number, names in owners.items() if len(names) > 1}
    assert shared == {}
    assert not {0, 15} & set(owners), "0 is the dev server's (scripts/services.sh env) and 15 the tests'"
    assert max(owners) < 32, "scripts/services.sh starts Redis with 32 databases"


def main_function(path: Path) -> ast.FunctionDef:
    tree = ast.parse(path.read_text())
    mains = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main"]
    assert mains, f"{path.name} has no main()"
    return mains[0]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.name)
def test_each_script_takes_quick(path):
    calls = [node for node in ast.walk(main_function(path)) if isinstance(node, ast.Call)
             and getattr(node.func, "attr", None) == "add_argument"]
    assert any(isinstance(arg, ast.Constant) and arg.value == "--quick" for call in calls for arg in call.args)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.name)
def test_each_script_ends_with_one_json_line(path):
    last = main_function(path).body[-1]
    assert isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
    printed = last.value
    assert getattr(printed.func, "id", None) == "print" and len(printed.args) == 1
    dumped = printed.args[0]
    assert isinstance(dumped, ast.Call) and ast.unparse(dumped.func) == "json.dumps"
    assert not any(keyword.arg == "indent" for keyword in dumped.keywords), "one line"
    assert "__main__" in path.read_text()


def test_the_checks_find_what_they_look_for():
    assert FLUSH.search("redis.Redis.from_url(url).flushdb()") and FLUSH.search("client.execute_command('FLUSHALL')")
    assert SERVICE_PORT.search("redis://127.0.0.1:63799/9") and SERVICE_PORT.search("port=5432")
    assert not SERVICE_PORT.search("timeout=543290") and not SERVICE_PORT.search("0.6379")
    assert PORT_DEFAULT.search("os.environ.get('REDIS_PORT', '6380')")
    assert REDIS_DB.findall('REDIS_URL = f"{_data.REDIS}/11"') == ["11"]


# What bench/_services.py does on real services: it refuses what it did not make and deletes only its own.

def bench_services():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_services", BENCH / "_services.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def spare_redis_database(settings):
    """Database 14 of the tests' Redis server, used only when it is empty (this test deletes nothing else)."""
    import redis

    url = settings.REDIS_URL.rsplit("/", 1)[0] + "/14"
    client = redis.Redis.from_url(url)
    if client.dbsize():
        pytest.skip(f"{url} is not empty: not ours to use")
    yield url, client
    client.delete("someone-elses-key", "bench-key", "connect-bench:owner")


def test_a_claimed_redis_database_is_emptied_of_the_runs_keys_only_while_marked(spare_redis_database, capsys):
    services = bench_services()
    url, client = spare_redis_database
    services.redis_claim(url, "nearby")
    client.set("bench-key", "1")
    assert services.redis_empty_own(url, "nearby") == 1 and client.get("connect-bench:owner") == b"nearby"
    client.set("bench-key", "1")
    services.redis_release(url, "nearby")
    assert client.dbsize() == 0

    client.set("someone-elses-key", "1")
    with pytest.raises(SystemExit):
        services.redis_claim(url, "nearby")
    assert '"error": "Redis database' in capsys.readouterr().out
    services.redis_release(url, "nearby")  # not marked as ours: nothing deleted
    assert client.get("someone-elses-key") == b"1"


@pytest.mark.django_db(transaction=True)
def test_only_a_database_a_benchmark_made_is_dropped(capsys):
    import psycopg
    from django.db import connection

    services = bench_services()
    params = connection.settings_dict
    login = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    server = f"postgresql://{login}@{params['HOST']}:{params['PORT']}"
    name = "connect_test_bench_marks"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')  # as if someone else's
        try:
            with pytest.raises(SystemExit):
                services.database_recreate(server, name, "nearby")
            assert "no benchmark made it" in capsys.readouterr().out
            with pytest.raises(SystemExit):
                services.database_ensure(server, name, "nearby")
            admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{services.DATABASE_MARK}'")
            services.database_recreate(server, name, "nearby")
            comment = admin.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                    "WHERE datname = %s", (name,)).fetchone()[0]
            assert comment == f"{services.DATABASE_MARK}: made by bench/nearby.py"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
