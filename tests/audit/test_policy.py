"""The policy in force: /transparency/ says it in plain words, each change of it is one ledger entry, and the
staff settings page (administrators and auditors only) lists every setting with its source, secrets hidden."""

import pytest
from django.core.management import call_command
from django.test import Client

from audit import policy
from audit.ledger import seal
from audit.models import AccessEntry
from tests.conftest import STAFF_ROLES, make_staff, sign_in_owner
from tests.connect.presets_helper import under_policy  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def page(client, url="/transparency/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_transparency_shows_the_seattle_policy_in_plain_words(client, under_policy):  # noqa: F811
    under_policy(CONNECT_POLICY="seattle")
    html = page(client)
    assert "The rules in force" in html and "The Seattle policy, version 1" in html
    assert "may be released on a public-records request" in html and "10 days to object" in html
    assert "A warrant or court order is required before federal agencies and any agency from outside WA receive" in html
    assert "Allowed for residents&#x27; cameras" in html
    assert "Not a pilot" in html


def test_transparency_shows_nashvilles_ban_raleighs_confidentiality_and_jacksons_pilot(client, under_policy):  # noqa: F811
    under_policy(CONNECT_POLICY="nashville")
    html = page(client)
    assert "The Nashville policy, version 1" in html and "Not allowed for residents&#x27; cameras" in html
    under_policy(CONNECT_POLICY="raleigh")
    assert "never released on a public-records request" in page(client)
    under_policy(CONNECT_POLICY="jackson", CONNECT_PILOT_STARTS="2027-01-04")
    html = page(client)
    assert "5 of the agency&#x27;s cameras, 5 of businesses&#x27; cameras" in html
    assert "A 45-day pilot, from" in html
    under_policy(CONNECT_POLICY="strict", CONNECT_TRAINING_MIN_HOURS="12")
    html = page(client)
    assert "at least 12 hours of privacy training, renewed every 180 days" in html
    assert "One rule is set by the program itself rather than the preset." in html


def test_transparency_in_spanish(client, under_policy):  # noqa: F811
    under_policy(CONNECT_POLICY="nashville")
    html = client.get("/transparency/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Las reglas en vigor" in html and "La política Nashville, versión 1" in html
    assert "No permitida para las cámaras de residentes" in html
    assert "antes de que las agencias federales y cualquier agencia de fuera de TN reciban" in html


def test_without_a_preset_the_page_says_so(client, under_policy):  # noqa: F811
    under_policy()
    assert "connect&#x27;s default policy (no preset)" in page(client)


def policy_entries():
    return AccessEntry.objects.filter(action="policy.applied").order_by("seq")


def test_a_change_of_policy_is_one_ledger_entry(under_policy):  # noqa: F811
    under_policy(CONNECT_POLICY="raleigh")
    assert policy.policy_record_if_changed() is True
    # Every process starting under the same policy, and every beat run, adds nothing.
    assert policy.policy_record_if_changed() is False
    call_command("policy_record", stdout=open("/dev/null", "w"))
    assert policy_entries().count() == 1
    first = policy_entries().get()
    assert first.actor_label == "system" and first.target_code == "raleigh@1"

    under_policy(CONNECT_POLICY="seattle")
    assert policy.policy_record_if_changed() is True
    assert policy.policy_record_if_changed() is False
    second = policy_entries().last()
    assert policy_entries().count() == 2 and second.target_code == "seattle@1"
    assert second.detail["previous"] == first.detail["fingerprint"]
    assert second.detail["values"]["CONNECT_RECORDS_POLICY"] == {"value": "releasable", "source": "preset seattle@1"}

    # One setting overriding the preset is a change of policy too.
    under_policy(CONNECT_POLICY="seattle", CONNECT_TRAINING_MIN_HOURS="6")
    assert policy.policy_record_if_changed() is True
    assert policy_entries().last().detail["values"]["CONNECT_TRAINING_MIN_HOURS"] == {"value": "6",
                                                                                       "source": "environment"}
    assert policy_entries().count() == 3


def test_the_beat_task_records_the_policy_once():
    from audit.tasks import policy_record_task

    assert policy_record_task() == "recorded a policy change"
    assert policy_record_task() == "policy unchanged"
    assert policy_entries().count() == 1


SETTINGS_URL = "/audit/settings/"


@pytest.mark.parametrize("role", ["administrator", "auditor"])
def test_administrators_and_auditors_see_every_setting_and_its_source(role, under_policy):  # noqa: F811
    under_policy(CONNECT_POLICY="nashville", CONNECT_TRAINING_MIN_HOURS="4",
                 CONNECT_EMAIL_PASSWORD="hunter2-very-secret-mail-password")
    client = Client()
    client.force_login(make_staff(role))
    html = page(client, SETTINGS_URL)
    assert "nashville@1" in html
    assert '<tr data-name="CONNECT_LIVE_RESIDENTIAL"><td><code>CONNECT_LIVE_RESIDENTIAL</code></td><td><code>false' \
           '</code></td><td>preset nashville@1</td>' in html
    assert '<tr data-name="CONNECT_TRAINING_MIN_HOURS"><td><code>CONNECT_TRAINING_MIN_HOURS</code></td><td><code>4' \
           '</code></td><td>environment</td>' in html
    assert '<tr data-name="CONNECT_CASE_NUMBER_EXAMPLE"><td><code>CONNECT_CASE_NUMBER_EXAMPLE</code></td><td><code>' \
           '26-004512</code></td><td>default</td>' in html
    # Secrets: whether set, never the value.
    assert "hunter2" not in html and "(set, hidden)" in html
    assert "demo-only" not in html and "postgres://" not in html and "redis://" not in html
    assert AccessEntry.objects.filter(action="settings.viewed", actor_label=role).count() == 1


@pytest.mark.parametrize("role", sorted(set(STAFF_ROLES) - {"administrator", "auditor"}))
def test_other_roles_are_refused_the_settings_page(role):
    client = Client()
    client.force_login(make_staff(role))
    assert client.get(SETTINGS_URL).status_code == 403


def test_anonymous_and_owners_are_sent_to_sign_in(owner_a):
    response = Client().get(SETTINGS_URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    owner_client = Client()
    sign_in_owner(owner_client, owner_a)
    response = owner_client.get(SETTINGS_URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not AccessEntry.objects.filter(action="settings.viewed").exists()


def test_the_staff_header_links_the_settings_page_for_those_who_may_read_it():
    for role, shown in (("auditor", True), ("administrator", True), ("investigator", False), ("analyst", False)):
        client = Client()
        client.force_login(make_staff(role))
        assert (f'href="{SETTINGS_URL}"' in page(client, "/admin/")) is shown, role


@pytest.mark.django_db(transaction=True)
def test_processes_starting_together_record_one_entry():
    """web, worker, beat and `make run` may all check at once: the lock makes it one entry, committed for real."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def check(_):
        try:
            return policy.policy_record_if_changed()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(check, range(8)))
    assert results.count(True) == 1
    seal()  # whatever a thread's own sealing left pending
    assert policy_entries().count() == 1
