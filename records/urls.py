from django.urls import path

from records import views

app_name = "records"

urlpatterns = [
    path("records/", views.dashboard, name="dashboard"),
    path("records/refusal-letter/", views.refusal_letter_view, name="refusal_letter"),
    path("records/registry.csv", views.registry_export, name="registry_export"),
    path("records/cases/<uuid:code>/release/", views.release_prepare, name="release_prepare"),
    path("records/releases/<uuid:code>/", views.release_detail, name="release"),
    path("records/releases/<uuid:code>/decide/", views.release_decide, name="release_decide"),
    path("records/redactions/<uuid:code>/keyframes/<int:index>.jpg", views.keyframe, name="keyframe"),
    path("records/redactions/<uuid:code>/adjust/", views.redaction_adjust, name="redaction_adjust"),
    path("records/redactions/<uuid:code>/approve/", views.redaction_approve, name="redaction_approve"),
    path("records/redactions/<uuid:code>/download/", views.redacted_download, name="redacted_download"),
    path("records/object/<str:token>/", views.objection, name="object"),
]
