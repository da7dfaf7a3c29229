from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.track_lookup, name="lookup"),
    path("o/<str:token>/", views.order_page, name="order"),
]
