from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.track_lookup, name="lookup"),
    path("o/<str:token>/", views.order_page, name="order"),
    path("o/<str:token>/messages/", views.message_post, name="message_post"),
    path("o/<str:token>/return/", views.return_new, name="return_new"),
    path("o/<str:token>/return/<str:number>/", views.return_done, name="return_done"),
    path("o/<str:token>/return/<str:number>/cancel/", views.return_cancel, name="return_cancel"),
    path("o/<str:token>/return/<str:number>/label/", views.return_label, name="return_label"),
]
