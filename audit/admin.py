"""The ledger has no admin pages: auditors search it at /audit/. The change history's admin (django-auditlog's
LogEntry) is connect/change_history_admin.py, since it must know which models are owners and cameras, and audit
imports no app."""
