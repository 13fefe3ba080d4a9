"""Every error answers JSON: `{"detail": "..."}` or, for invalid fields, `{"field": ["..."]}`; never a 500 for
bad input. Django's ValidationError (raised by services) becomes a 400."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else
                                         {"detail": " ".join(exc.messages)})
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        response.data = {"detail": " ".join(str(item) for item in response.data)}
    return response
