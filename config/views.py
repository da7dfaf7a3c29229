from django.http import HttpResponse


def healthz(request):
    """Liveness check for load balancers (and the benchmark's baseline: the cheapest Django view)."""
    return HttpResponse("ok", content_type="text/plain")
