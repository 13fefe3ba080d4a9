from django.conf import settings


def site(request):
    return {"agency_name": settings.AGENCY_NAME, "agency_email": settings.AGENCY_EMAIL, "demo_mode": settings.DEMO}
