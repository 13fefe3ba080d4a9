from django.contrib import admin, messages

from accounts import device_admin, services, user_admin  # noqa: F401  (they replace the user and OTP admins)
from accounts.models import AccountLock, SignInAttempt
from common.admin_base import RecordAdmin


@admin.register(AccountLock)
class AccountLockAdmin(admin.ModelAdmin):
    list_display = ("username", "address", "locked_at", "expires_at", "reason", "unlocked_at", "unlocked_by")
    list_filter = (("unlocked_at", admin.EmptyFieldListFilter),)
    search_fields = ("username",)
    actions = ["unlock"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.action(description="Unlock the selected accounts", permissions=["change"])
    def unlock(self, request, queryset):
        count = sum(services.account_unlock(username=lock.username, by=request.user)
                    for lock in queryset.filter(unlocked_at__isnull=True))
        self.message_user(request, f"{count} account(s) unlocked.", messages.SUCCESS)


@admin.register(SignInAttempt)
class SignInAttemptAdmin(RecordAdmin):
    list_display = ("at", "username", "address", "succeeded")
    list_filter = ("succeeded",)
    search_fields = ("username", "address")
