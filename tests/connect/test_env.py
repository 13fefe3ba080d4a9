import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from connect.env import (
    beat_variable,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_secret,
    parse_beat_schedule,
    parse_database_url,
    parse_redis_url,
    parse_service_area,
)


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("ON", True), ("0", False),
                                               ("false", False), ("off", False)])
def test_env_bool_reads_common_spellings(raw, expected):
    assert env_bool("X", not expected, environ={"X": raw}) is expected


def test_env_bool_rejects_junk_and_names_the_variable():
    with pytest.raises(ImproperlyConfigured, match="CONNECT_DEBUG"):
        env_bool("CONNECT_DEBUG", False, environ={"CONNECT_DEBUG": "maybe"})


def test_empty_values_mean_the_default():
    assert env_bool("X", True, environ={"X": "  "}) is True
    assert env_int("X", 7, environ={"X": ""}) == 7


def test_env_int_checks_type_and_bounds():
    assert env_int("N", 1, environ={"N": "42"}) == 42
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("N", 1, environ={"N": "4.2"})
    with pytest.raises(ImproperlyConfigured, match="at least 5"):
        env_int("N", 10, minimum=5, environ={"N": "4"})
    with pytest.raises(ImproperlyConfigured, match="at most 9"):
        env_int("N", 1, maximum=9, environ={"N": "10"})


def test_env_list_splits_and_trims():
    assert env_list("L", environ={"L": " a.example , b.example,, "}) == ["a.example", "b.example"]
    assert env_list("L", ["x"], environ={}) == ["x"]


def test_env_secret_reads_a_file(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret\n")
    assert env_secret("K", environ={"K_FILE": str(secret)}) == "s3cret"
    assert env_secret("K", environ={"K": "direct"}) == "direct"
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env_secret("K", environ={"K": "a", "K_FILE": str(secret)})
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        env_secret("K", environ={"K_FILE": str(tmp_path / "missing")})


def test_env_choice():
    assert env_choice("M", "demo", ("demo", "production"), environ={"M": "Production"}) == "production"
    with pytest.raises(ImproperlyConfigured, match="one of demo, production"):
        env_choice("M", "demo", ("demo", "production"), environ={"M": "staging"})


def test_database_url():
    db = parse_database_url("D", "postgres://u:p%40ss@db.example:6432/connect?sslmode=require")
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == ("u", "p@ss", "db.example", "6432",
                                                                                "connect")
    assert db["OPTIONS"]["sslmode"] == "require" and db["ENGINE"].endswith("postgis")
    assert db["OPTIONS"]["pool"] and db["CONN_MAX_AGE"] == 0
    for bad in ("mysql://x/y", "postgres://host:5432/", "nonsense"):
        with pytest.raises(ImproperlyConfigured, match="D must look like"):
            parse_database_url("D", bad)


def test_redis_url():
    assert parse_redis_url("R", "redis://127.0.0.1:6379/2") == "redis://127.0.0.1:6379/2"
    with pytest.raises(ImproperlyConfigured):
        parse_redis_url("R", "http://localhost")


def test_service_area_from_bbox_geojson_and_file(tmp_path):
    box = parse_service_area("A", "-78.8,35.7,-78.4,36.0")
    assert box["type"] == "Polygon" and box["coordinates"][0][0] == [-78.8, 35.7]
    polygon = '{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}'
    assert parse_service_area("A", polygon)["type"] == "Polygon"
    path = tmp_path / "area.geojson"
    path.write_text('{"type": "Feature", "geometry": ' + polygon + "}")
    assert parse_service_area("A", str(path))["type"] == "Polygon"
    for bad in ("1,2,3", "-78,36,-79,35", '{"type": "Point", "coordinates": [0, 0]}', "{broken"):
        with pytest.raises(ImproperlyConfigured):
            parse_service_area("A", bad)


SECRET = "test-only-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2


def _import_settings(env: dict) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "connect.settings"}
    return subprocess.run([sys.executable, "-c", "import django; django.setup()"], env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def test_production_refuses_a_weak_secret_key():
    result = _import_settings({**PRODUCTION, "CONNECT_SECRET_KEY": "x" * 60})
    assert result.returncode != 0 and "at least 50 random characters" in result.stderr


def test_mfa_can_be_switched_off_only_in_demo_mode():
    result = _import_settings({**PRODUCTION, "CONNECT_MFA_REQUIRED": "false"})
    assert result.returncode != 0 and "only in demo mode" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = _import_settings({"CONNECT_MODE": "production", "CONNECT_ALLOWED_HOSTS": "cams.example.gov"})
    assert result.returncode != 0 and "CONNECT_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _import_settings({"CONNECT_MODE": "production", "CONNECT_SECRET_KEY": SECRET})
    assert result.returncode != 0 and "CONNECT_ALLOWED_HOSTS" in result.stderr


def test_production_is_the_default_mode():
    result = _import_settings({})
    assert result.returncode != 0 and "CONNECT_SECRET_KEY" in result.stderr


PRODUCTION = {"CONNECT_MODE": "production", "CONNECT_SECRET_KEY": SECRET, "CONNECT_ALLOWED_HOSTS": "cams.example.gov",
              "CONNECT_EVIDENCE_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
              "CONNECT_LEDGER_KEY": "test-ledger-key-0123456789abcdefghij"}


def test_production_starts_with_its_secrets():
    result = _import_settings(PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_an_evidence_key():
    result = _import_settings({**PRODUCTION, "CONNECT_EVIDENCE_KEY": ""})
    assert result.returncode != 0 and "CONNECT_EVIDENCE_KEY" in result.stderr


def test_production_refuses_to_start_without_a_ledger_key():
    result = _import_settings({**PRODUCTION, "CONNECT_LEDGER_KEY": ""})
    assert result.returncode != 0 and "CONNECT_LEDGER_KEY" in result.stderr


def test_the_kms_key_service_needs_a_key_id_and_no_local_key():
    kms = {**PRODUCTION, "CONNECT_EVIDENCE_KEY": "", "CONNECT_KEY_SERVICE": "aws-kms"}
    result = _import_settings(kms)
    assert result.returncode != 0 and "CONNECT_KMS_KEY_ID must name the KMS key" in result.stderr
    result = _import_settings({**kms, "CONNECT_KMS_KEY_ID": "alias/connect-evidence"})
    assert result.returncode == 0, result.stderr


def test_an_unknown_key_service_is_refused():
    result = _import_settings({**PRODUCTION, "CONNECT_KEY_SERVICE": "vault"})
    assert result.returncode != 0 and "CONNECT_KEY_SERVICE must be one of local, aws-kms" in result.stderr


def test_the_key_store_may_not_sit_inside_the_evidence_folder(tmp_path):
    result = _import_settings({**PRODUCTION, "CONNECT_EVIDENCE_DIR": str(tmp_path),
                               "CONNECT_KEY_STORE_DIR": str(tmp_path / "keys")})
    assert result.returncode != 0 and "CONNECT_KEY_STORE_DIR must not be inside CONNECT_EVIDENCE_DIR" in result.stderr


def test_a_short_evidence_key_is_refused():
    result = _import_settings({**PRODUCTION, "CONNECT_EVIDENCE_KEY": "c2hvcnQ="})
    assert result.returncode != 0 and "32 bytes" in result.stderr


def test_districts_from_the_demo_file():
    from django.contrib.gis.geos import Point

    from common.districts import OUTSIDE, district_of

    assert district_of(Point(-78.6382, 35.7796, srid=4326)) == "Downtown"
    assert district_of(Point(-78.55, 35.90, srid=4326)) == "Northeast"
    assert district_of(Point(-74.0, 40.7, srid=4326)) == OUTSIDE


def test_a_beat_interval_comes_from_its_variable_in_seconds():
    table = {"ledger-seal": ("audit.tasks.ledger_seal_task", 60),
             "ledger-purge": ("audit.tasks.ledger_purge_task", 86400)}
    schedule = parse_beat_schedule(table, environ={"CONNECT_BEAT_LEDGER_SEAL": "30"})
    assert schedule["ledger-seal"]["schedule"] == timedelta(seconds=30)
    assert schedule["ledger-purge"]["schedule"] == timedelta(days=1)
    assert schedule["ledger-seal"]["task"] == "audit.tasks.ledger_seal_task"
    assert 0 < schedule["ledger-seal"]["options"]["expires"] < 30


@pytest.mark.parametrize(("raw", "says"), [("5m", "a whole number"), ("0", "at least 10"), ("40000000", "at most")])
def test_a_junk_beat_interval_is_refused_naming_its_variable(raw, says):
    with pytest.raises(ImproperlyConfigured, match=f"CONNECT_BEAT_OWNER_DIGESTS must be {says}"):
        parse_beat_schedule({"owner-digests": ("registry.tasks.owner_digests_send_task", 86400)},
                            environ={"CONNECT_BEAT_OWNER_DIGESTS": raw})


def test_every_beat_entry_runs_a_real_task_and_expires_just_under_its_period(settings):
    from celery import current_app

    current_app.loader.import_default_modules()
    for entry, beat in settings.CELERY_BEAT_SCHEDULE.items():
        period = beat["schedule"].total_seconds()
        assert beat["task"] in current_app.tasks, f"{entry}: no task {beat['task']}"
        assert 0.5 * period <= beat["options"]["expires"] <= period - 10, entry
        assert beat_variable(entry).startswith("CONNECT_BEAT_")


def test_a_beat_override_reaches_the_running_settings():
    script = ("import django; django.setup(); from django.conf import settings; "
              "print(settings.CELERY_BEAT_SCHEDULE['positions-purge']['schedule'].total_seconds())")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "connect.settings",
                                 **PRODUCTION, "CONNECT_BEAT_POSITIONS_PURGE": "120"})
    assert result.returncode == 0 and result.stdout.strip() == "120.0", result.stderr


def test_a_retired_interval_variable_stops_start_up_naming_its_replacement():
    result = _import_settings({**PRODUCTION, "CONNECT_REQUEST_SWEEP_MINUTES": "5"})
    assert result.returncode != 0 and "set CONNECT_BEAT_FOOTAGE_REQUESTS_SWEEP (seconds) instead" in result.stderr


def test_the_agency_name_is_the_issuer_staff_see_in_their_authenticator_app():
    script = ("import django; django.setup(); from django.conf import settings; "
              "print(settings.OTP_TOTP_ISSUER, '|', settings.AGENCY_NAME)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "connect.settings",
                                 **PRODUCTION, "CONNECT_AGENCY_NAME": "Springfield Police"})
    assert result.stdout.strip() == "Springfield Police | Springfield Police", result.stderr
