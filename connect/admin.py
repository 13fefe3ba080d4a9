"""Admin pages of the wiring: the change history (django-auditlog), which needs to know owners and cameras."""

from connect import change_history_admin  # noqa: F401  (registers the LogEntry admin)
