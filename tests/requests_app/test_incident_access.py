"""Who may see an incident, asked in one statement (requests_app.incident_access), answers as Django's own checks do
(is_program_staff and has_perm through every backend), for every kind of user: a test that fails the day one of
the two ways changes alone."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from agencies import services as agency_services
from agencies.models import AgencyMember, OutsideAgency
from common.access import is_program_staff
from requests_app import services
from requests_app.incident_access import incident_access
from tests.conftest import make_staff_named
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def as_django_answers(user, incident) -> tuple[bool, bool]:
    user = User.objects.get(pk=user.pk)  # no permission cache from an earlier call
    assigned = user.has_perm("requests_app.view_incident", incident)
    viewable = is_program_staff(user) and (user.has_perm("requests_app.view_all_incidents") or assigned)
    return viewable, assigned


def one_statement_answers(user, incident) -> tuple[bool, bool]:
    answer = incident_access(User.objects.get(pk=user.pk), incident)
    return answer.viewable, answer.assigned


@pytest.fixture
def people(db):
    incident, other_incident = IncidentFactory(), IncidentFactory()
    assigned = make_staff_named("investigator", "on-the-case")
    unassigned = make_staff_named("investigator", "not-on-the-case")
    services.incident_investigators_set(incident=incident, users=[assigned])
    by_group = make_staff_named("analyst", "team-member")
    team = Group.objects.create(name="Burglary team")
    by_group.groups.add(team)
    assign_perm("requests_app.view_incident", team, incident)
    own_grant = User.objects.create_user(username="granted", is_staff=True)
    own_grant.user_permissions.add(Permission.objects.get(codename="view_all_incidents"))
    not_staff = User.objects.create_user(username="not-staff")  # holds the case's permission, is not staff
    assign_perm("requests_app.view_incident", not_staff, incident)
    inactive = make_staff_named("supervisor", "left-the-force")
    inactive.is_active = False
    inactive.save()
    inactive_root = User.objects.create_superuser(username="inactive-root", email="r@example.org", password="x")
    inactive_root.is_active = False
    inactive_root.save()
    agency = OutsideAgency.objects.create(name="Federal Bureau of Examples", type=OutsideAgency.Type.FEDERAL,
                                          jurisdiction_state="DC")
    outsider = make_staff_named("supervisor", "outside-with-a-role")
    assign_perm("requests_app.view_incident", outsider, incident)
    agency_services.agency_member_add(agency=agency, user=outsider, actor=None)
    # The service refuses to tie a superuser to an agency; a row made another way is still answered alike.
    outside_root = User.objects.create_superuser(username="outside-root", email="o@example.org", password="x")
    AgencyMember.objects.create(agency=agency, user=outside_root)
    users = {
        "assigned investigator": assigned, "unassigned investigator": unassigned, "by a group's object permission":
        by_group, "view_all_incidents of their own": own_grant, "not staff": not_staff, "inactive supervisor": inactive,
        "inactive superuser": inactive_root, "outside agency with a role": outsider, "outside superuser": outside_root,
        "superuser": User.objects.create_superuser(username="root", email="root@example.org", password="x"),
        "supervisor": make_staff_named("supervisor", "sergeant"), "auditor": make_staff_named("auditor", "auditor"),
        "patrol officer": make_staff_named("patrol", "patrol"),
        "administrator": make_staff_named("administrator", "it"),
    }
    return users, incident, other_incident


def test_every_kind_of_user_gets_djangos_answer_in_one_statement(people):
    users, incident, other_incident = people
    seen = {}
    for name, user in users.items():
        for case in (incident, other_incident):
            expected = as_django_answers(user, case)
            with CaptureQueriesContext(connection) as queries:
                answer = one_statement_answers(user, case)
            assert answer == expected, f"{name} on {case.case_number}"
            assert len(queries) <= 2, name  # the user's row (this test's) and at most the one statement
        seen[name] = as_django_answers(user, incident)
    # The cases above are the ones that matter: each way of seeing, and each way of not seeing.
    assert seen["assigned investigator"] == (True, True)
    assert seen["unassigned investigator"] == (False, False)
    assert seen["by a group's object permission"] == (True, True)
    assert seen["supervisor"][0] and seen["superuser"] == (True, True)
    assert seen["not staff"] == (False, True)
    assert seen["outside agency with a role"] == (False, False)
    assert seen["outside superuser"] == (False, True)
    assert seen["inactive supervisor"] == seen["inactive superuser"] == (False, False)


def test_an_assignment_taken_away_is_seen_at_the_next_check(people):
    users, incident, _ = people
    investigator = users["assigned investigator"]
    assert incident_access(investigator, incident).viewable
    services.incident_investigators_set(incident=incident, users=[])
    assert not incident_access(investigator, incident).viewable
