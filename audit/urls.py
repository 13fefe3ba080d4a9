from django.urls import path

from audit import checkpoint_views, settings_page, views

app_name = "audit"

urlpatterns = [
    path("audit/", views.search, name="search"),
    path("audit/settings/", settings_page.settings_in_force, name="settings"),
    path("transparency/", views.transparency, name="transparency"),
    path("transparency/checkpoints.json", checkpoint_views.checkpoints, name="checkpoints"),
    path("transparency/ledger/proof/<int:seq>/", checkpoint_views.inclusion, name="inclusion_proof"),
    path("transparency/ledger/consistency/", checkpoint_views.consistency, name="consistency_proof"),
]
