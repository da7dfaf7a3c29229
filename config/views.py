from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from intake.selectors import inbound_get_backlog


def healthz(request):
    """Liveness check for load balancers (and the benchmark's baseline: the cheapest Django view).

    `?detail=1` adds what monitoring watches, as JSON: the intake worker's backlog (requests
    waiting, and the age of the oldest in seconds). One query; the plain check makes none."""
    if request.META.get("QUERY_STRING") and request.GET.get("detail"):
        return _healthz_detail()
    return HttpResponse("ok", content_type="text/plain")


def _healthz_detail() -> JsonResponse:
    backlog = inbound_get_backlog()
    age = backlog.oldest_age(timezone.now())
    return JsonResponse(
        {
            "status": "ok",
            "intake": {
                "pending": backlog.pending,
                "oldest_at": backlog.oldest_at.isoformat() if backlog.oldest_at else None,
                "oldest_age_seconds": round(age.total_seconds(), 1) if age is not None else None,
            },
        }
    )
