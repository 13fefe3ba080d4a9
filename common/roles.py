"""Staff roles are groups; each holds the permissions its work needs and no more.

Migrations call `roles_sync` (registry/migrations/0002_roles.py). An app that adds permissions adds
them to ROLES and a migration that calls `roles_sync` again; permissions not yet created are skipped.
"""

INVESTIGATOR = "Investigator"
CRIME_ANALYST = "Crime analyst"
SUPERVISOR = "Supervisor"
AUDITOR = "Auditor"
ADMINISTRATOR = "Administrator"
RECORDS_OFFICER = "Records officer"
LEGAL_REVIEWER = "Legal reviewer"
PATROL_OFFICER = "Patrol officer"

# Calls for service and officer positions on the staff map (pushed by dispatch and vehicle location).
DISPATCH_VIEW = ("dispatch.view_callforservice", "dispatch.view_officerposition")

# Owners' contact details (registry.view_owner) open one owner at a time, with a reason the owner reads in their
# history (registry/admin.py): reached from a camera or a case's footage request. Only administrators, who keep the
# registry's records, may browse and search the whole contact book (registry.list_owners).
ROLES: dict[str, set[str]] = {
    # Finds cameras around a crime and contacts their owners: one owner at a time, for a case; never the list.
    INVESTIGATOR: {"registry.view_owner", "registry.view_camera", "requests_app.add_incident",
                   "requests_app.view_incident", "requests_app.change_incident", "requests_app.view_footagerequest",
                   "requests_app.view_clip", "public_requests.add_publicrequest", "public_requests.view_publicrequest",
                   "public_requests.change_publicrequest", "bulletins.send_bulletin", "bulletins.receive_bulletin",
                   "detections.search_detections", *DISPATCH_VIEW},
    # Works the live map; needs camera positions, not owners' contact details.
    CRIME_ANALYST: {"registry.view_camera", "integration.open_live_view", "integration.view_livesession",
                    "bulletins.send_bulletin", "detections.search_detections", *DISPATCH_VIEW},
    # Verifies cameras and approves; may correct a camera's status or level. Calls an owner about a camera (one
    # owner at a time, with a reason), never browses the list.
    SUPERVISOR: {"registry.view_owner", "registry.view_camera", "registry.change_camera",
                 "requests_app.add_incident", "requests_app.view_incident", "requests_app.change_incident",
                 "requests_app.view_all_incidents", "requests_app.view_footagerequest", "requests_app.view_clip",
                 "requests_app.change_clip", "integration.open_live_view", "integration.override_incident_rule",
                 "integration.view_livesession", "integration.view_liveshare", "integration.view_trainingrecord",
                 "integration.view_livesharewaiting", "concerns.handle_concern", "public_requests.add_publicrequest",
                 "public_requests.view_publicrequest", "public_requests.change_publicrequest",
                 "public_requests.approve_publicrequest", "bulletins.view_all_bulletins",
                 "detections.search_detections", *DISPATCH_VIEW},
    # Reads the ledger and the program's records, changes nothing. Not owners' contact details: checking who
    # accessed what needs the ledger (which names owners and cameras by code), not the contact book.
    AUDITOR: {"registry.view_camera", "registry.view_deletionrecord",
              "requests_app.view_incident", "requests_app.view_all_incidents", "requests_app.view_footagerequest",
              "requests_app.view_clip", "audit.view_accessentry", "accounts.view_accountlock",
              "accounts.view_signinattempt", "integration.view_livesession", "integration.view_liveshare",
              "integration.view_livesharewaiting",
              "integration.view_trainingrecord", "integration.view_connectortoken", "api.view_apitoken",
              "auditlog.view_logentry", "audit.view_settings", "agencies.view_outsideagency",
              "agencies.view_agencyrequest", "public_requests.view_publicrequest", "bulletins.view_all_bulletins",
              *DISPATCH_VIEW},
    # Runs the program: registry records (the only role that browses owners), agency camera imports, staff accounts.
    ADMINISTRATOR: {
        "registry.add_owner", "registry.change_owner", "registry.delete_owner", "registry.view_owner",
        "registry.list_owners",
        "registry.add_camera", "registry.change_camera", "registry.delete_camera", "registry.view_camera",
        "registry.view_deletionrecord", "registry.import_agency_cameras",
        "auth.add_user", "auth.change_user", "auth.view_user", "auth.view_group",
        "accounts.view_accountlock", "accounts.change_accountlock", "accounts.view_signinattempt",
        # Second factors of people who lost their phone: list and remove, never see or edit (accounts/device_admin.py).
        "otp_totp.view_totpdevice", "otp_totp.delete_totpdevice",
        "otp_static.view_staticdevice", "otp_static.delete_staticdevice",
        "integration.add_trainingrecord", "integration.view_trainingrecord", "integration.view_liveshare",
        "integration.change_liveshare", "integration.view_connectortoken", "integration.change_connectortoken",
        "integration.view_livesession", "integration.view_livesharewaiting",
        "api.view_apitoken", "api.add_apitoken", "api.change_apitoken", "auditlog.view_logentry",
        # Invitation campaigns (invitations): upload lists, print letters, read the (suppressed) figures.
        "invitations.manage_campaigns",
        "audit.view_settings",
        # Outside agencies and their people's accounts; never their requests (the legal reviewer decides those).
        "agencies.view_outsideagency", "agencies.add_outsideagency", "agencies.change_outsideagency",
        "agencies.view_agencymember", "agencies.add_agencymember", "agencies.delete_agencymember",
    },
    # Answers public-records requests (records/): the anonymised registry and closed cases' redacted clips, never
    # owners' contact details, open cases or original footage.
    RECORDS_OFFICER: {"records.prepare_release", "records.view_release"},
    # The program's lawyer: reads outside agencies' requests and their sealed warrants, approves (narrowing the
    # scope) or refuses them, and issues and revokes prosecutors' case packets. No map, no owners, no live view.
    LEGAL_REVIEWER: {"agencies.view_outsideagency", "agencies.view_agencyrequest", "agencies.review_agencyrequest",
                     "agencies.view_casepacket", "agencies.add_casepacket", "agencies.change_casepacket"},
    # Rides in a dispatch unit: receives the bulletins sent to them, their unit or their zone on /patrol/, and
    # acknowledges them. No map, no owners, no cases, no live views.
    PATROL_OFFICER: {"bulletins.receive_bulletin"},
}


def roles_sync(apps, schema_editor=None) -> None:
    """Creates the role groups and sets each one's permissions to exactly ROLES (those that exist)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
