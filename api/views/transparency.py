"""The public transparency figures as JSON: the same aggregates as /transparency/, small counts suppressed.

Each count is a string: the number, "fewer than 5", or, in the breakdowns, "withheld" (a count under 5 that the
month's total would give away, and one more cell hidden with it). The median time to answer is a number of
hours, or null under 5 answers."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import transparency


class TransparencyView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={200: inline_serializer("Transparency", {
        "months": serializers.ListField(child=serializers.DictField()),
        "suppressed_below": serializers.IntegerField()})})
    def get(self, request):
        """Per month, newest first: cameras registered and integrated, requests and answers, live viewing."""
        months = []
        for month in transparency.for_display(transparency.monthly()):
            months.append({"month": month["month"].strftime("%Y-%m"), "median_hours_to_answer": month["median_hours"],
                           **month["shown"], "breakdowns": dict(month["breakdowns"])})
        return Response({"months": months, "suppressed_below": transparency.SMALL})
