"""The visitor's language for the pages people read, not for the API."""

from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class PeoplesLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (the switch's cookie, else the browser's language) everywhere but `/api/`: the API
    answers programs, in English whatever they send, so its answers do not vary by Accept-Language (and the fast
    routes of api/fast_route.py, which skip Django's stack, answer exactly as Django does)."""

    def process_request(self, request):
        if request.path_info.startswith("/api/"):
            translation.activate("en")
            request.LANGUAGE_CODE = "en"
            return
        super().process_request(request)

    def process_response(self, request, response):
        if request.path_info.startswith("/api/"):
            return response
        return super().process_response(request, response)
