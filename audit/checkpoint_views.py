"""Public, no sign-in: the ledger's signed checkpoints and the proofs that check them (audit/publishing.py).

They reveal no entry: a leaf hash covers the chain's keyed digest, so nobody can work back from it, and an
entry's content is only in its owner's receipt."""

from django.http import JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from audit import publishing


def _number(request, name: str) -> int:
    try:
        value = int(request.GET.get(name, ""))
    except ValueError:
        raise publishing.ProofUnavailable(f"'{name}' must be a whole number") from None
    if value < 0:
        raise publishing.ProofUnavailable(f"'{name}' must not be negative")
    return value


def _answer(make) -> JsonResponse:
    try:
        return JsonResponse(make())
    except publishing.ProofUnavailable as exc:
        return JsonResponse({"error": str(exc)}, status=404 if isinstance(exc, publishing.NotPublished) else 400)


@require_GET
@cache_control(public=True, max_age=300)
def checkpoints(request):
    return JsonResponse(publishing.published_list())


@require_GET
def inclusion(request, seq: int):
    return _answer(lambda: publishing.inclusion(seq, _number(request, "size")))


@require_GET
def consistency(request):
    return _answer(lambda: publishing.consistency(_number(request, "from"), _number(request, "to")))
