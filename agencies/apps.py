from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "agencies"
    verbose_name = "Outside agencies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The central guard (common/access.py): every staff check below this app asks it whether a user is an
        # outside agency's, so no role, group or flag given to such a user opens the program's own data.
        from agencies import selectors, services
        from common import access
        from integration import outside

        access.outside_rule_add(selectors.user_is_outside, sql=selectors.USER_IS_OUTSIDE_SQL)
        # Live views by an agency's person: only a camera of an approved live-view request, in its window.
        outside.outside_grant_rule_add(services.live_grant)
