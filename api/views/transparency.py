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
        "cameras_integrated_now": serializers.DictField(child=serializers.CharField()),
        "months": serializers.ListField(child=serializers.DictField()),
        "suppressed_below": serializers.IntegerField()})})
    def get(self, request):
        """Cameras shared live now, per kind of owner; and per month, newest first: cameras registered and newly
        integrated, requests and answers, live viewing."""
        months = []
        for month in transparency.for_display(transparency.monthly()):
            months.append({"month": month["month"].strftime("%Y-%m"), "median_hours_to_answer": month["median_hours"],
                           **month["shown"], "breakdowns": dict(month["breakdowns"])})
        integrated = {kind: transparency.shown(n) for kind, n in transparency.integrated_now().items()}
        return Response({"cameras_integrated_now": integrated, "months": months,
                         "suppressed_below": transparency.SMALL})
