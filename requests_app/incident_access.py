"""Whether a user may see an incident, and whether they are on it, read in one statement.

Django answers the same through `is_program_staff` and two `has_perm` calls: the outside agencies' rule, the user's
own and their groups' permissions, then guardian's object permissions for the user and for their groups, five
queries each built by the ORM. A clip's every Range request (a player's seeks) asks it: those queries were half of a
1 MiB range's time (bench/evidence_download.py). This asks the same in one plain statement, with the same rules:

- an active superuser holds every permission (User.has_perm asks no backend);
- an outside agency's person holds none otherwise (common.access.OutsideAgencyGuard) and is never program staff;
- `view_all_incidents` is ModelBackend's (active; the user's own or a group's, matched by app label and codename);
- `view_incident` on the incident is guardian's (active; a user or group object permission on this incident).

Where this site's session engine, user model, backends or outside rules are not the ones it mirrors
(accounts.fast_checks.checks_apply, common.access.outside_rules_sql), it asks Django's way instead.
tests/requests_app/test_incident_access.py compares both ways for every kind of user.
"""

import functools
from dataclasses import dataclass

from accounts import fast_checks
from common import access, prepared

_SQL = """
WITH incident_type AS (SELECT id FROM django_content_type WHERE app_label = 'requests_app' AND model = 'incident'),
view_all AS (SELECT p.id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
             WHERE ct.app_label = 'requests_app' AND p.codename = 'view_all_incidents'),
view_one AS (SELECT p.id FROM auth_permission p
             WHERE p.content_type_id = (SELECT id FROM incident_type) AND p.codename = 'view_incident')
SELECT {outside},
       EXISTS (SELECT 1 FROM auth_user_user_permissions up
               WHERE up.user_id = u.id AND up.permission_id IN (SELECT id FROM view_all))
       OR EXISTS (SELECT 1 FROM auth_user_groups ug JOIN auth_group_permissions gp ON gp.group_id = ug.group_id
                  WHERE ug.user_id = u.id AND gp.permission_id IN (SELECT id FROM view_all)),
       EXISTS (SELECT 1 FROM guardian_userobjectpermission o
               WHERE o.user_id = u.id AND o.content_type_id = (SELECT id FROM incident_type)
                 AND o.object_pk = %(incident_pk)s AND o.permission_id IN (SELECT id FROM view_one))
       OR EXISTS (SELECT 1 FROM guardian_groupobjectpermission o JOIN auth_user_groups ug ON ug.group_id = o.group_id
                  WHERE ug.user_id = u.id AND o.content_type_id = (SELECT id FROM incident_type)
                    AND o.object_pk = %(incident_pk)s AND o.permission_id IN (SELECT id FROM view_one))
FROM auth_user u WHERE u.id = %(user_id)s
"""


@dataclass(frozen=True)
class IncidentAccess:
    viewable: bool  # may open the incident and its evidence (can_view_incident)
    assigned: bool  # holds view_incident on it: is on the case (has_perm("requests_app.view_incident", incident))


def incident_access(user, incident) -> IncidentAccess:
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return IncidentAccess(False, False)
    outside_sql = access.outside_rules_sql()
    if outside_sql is None or not fast_checks.checks_apply():
        return _as_django_does(user, incident)
    # Prepared: planning this statement cost more than running it, on every Range request (common/prepared.py).
    row = prepared.fetchone(_statement(tuple(outside_sql)), {"user_id": user.pk, "incident_pk": str(incident.pk)})
    if row is None:  # the account was deleted since the request's user was loaded
        return IncidentAccess(False, False)
    outside, sees_all, on_it = row
    access.outside_note(user, outside)
    if user.is_superuser:
        return IncidentAccess(access.is_program_staff(user), True)
    staff = access.is_program_staff(user)
    return IncidentAccess(staff and (sees_all or on_it), not outside and on_it)


def _as_django_does(user, incident) -> IncidentAccess:
    staff = access.is_program_staff(user)
    assigned = user.has_perm("requests_app.view_incident", incident)
    return IncidentAccess(staff and (assigned or user.has_perm("requests_app.view_all_incidents")), assigned)


@functools.cache
def _statement(outside: tuple[str, ...]) -> str:
    return _SQL.replace("{outside}", "(" + " OR ".join(("FALSE", *outside)) + ")")
