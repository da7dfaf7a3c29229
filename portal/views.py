from django.http import HttpResponse


def track_lookup(request):
    return HttpResponse("tracking lookup")


def order_page(request, token):
    return HttpResponse("order page")
