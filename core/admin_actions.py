"""Buttons on an admin change page that call a service, one per allowed transition.

A ModelAdmin lists its `object_actions`; apps further down the import chain add their own with
`register_object_action(Model, action)` (the registry lives here, upstream, so no app imports
against the arrow). Each button posts to `<pk>/action/<name>/`; the handler calls a service and
returns a message. A refused operation (DomainError, FSM refusal, stale state) becomes an error
message on the page, never a 500.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from .exceptions import DomainError


@dataclass(frozen=True)
class ActionField:
    name: str
    label: str
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    placeholder: str = ""
    kind: str = "text"  # text | checkbox


# Every manual step that would e-mail the customer offers this (the service then notes instead).
SILENT = ActionField("silent", "Don't e-mail the customer", kind="checkbox")


@dataclass(frozen=True)
class ObjectAction:
    name: str
    label: str
    handler: Callable  # handler(obj, user, data) -> str (the success message)
    available: Callable = lambda obj: True
    permission: str = ""
    style: str = "default"  # default | primary | danger
    fields: tuple[ActionField, ...] = ()
    confirm: str = ""
    order: int = 100
    extra: dict = field(default_factory=dict)


_registry: dict[type, list[ObjectAction]] = defaultdict(list)


def register_object_action(model: type, action: ObjectAction) -> None:
    """Add a button to `model`'s admin change page (used by downstream apps)."""
    _registry[model] = [a for a in _registry[model] if a.name != action.name] + [action]


class ObjectActionsMixin(admin.ModelAdmin):
    change_form_template = "admin/core/change_form_with_actions.html"
    object_actions: tuple[ObjectAction, ...] = ()

    def get_object_actions(self, request, obj) -> list[ObjectAction]:
        actions = sorted([*self.object_actions, *_registry[self.model]], key=lambda a: a.order)
        return [
            a
            for a in actions
            if (not a.permission or request.user.has_perm(a.permission)) and a.available(obj)
        ]

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/action/<slug:action_name>/",
                self.admin_site.admin_view(require_POST(self.object_action_view)),
                name="{}_{}_object_action".format(*info),
            ),
            *super().get_urls(),
        ]

    def object_action_view(self, request, object_id, action_name):
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        all_actions = {a.name: a for a in [*self.object_actions, *_registry[self.model]]}
        action = all_actions.get(action_name)
        if action is None:
            messages.error(request, "Unknown action.")
            return HttpResponseRedirect(change_url)
        if action.permission and not request.user.has_perm(action.permission):
            raise PermissionDenied
        if not action.available(obj):
            messages.error(request, f"“{action.label}” is not possible for {obj} any more.")
            return HttpResponseRedirect(change_url)
        data = {}
        for f in action.fields:
            value = request.POST.get(f.name, "")
            value = value == "on" if f.kind == "checkbox" else value.strip()
            if f.required and not value:
                messages.error(request, f"“{action.label}”: {f.label} is required.")
                return HttpResponseRedirect(change_url)
            data[f.name] = value
        try:
            result = action.handler(obj, request.user, data)
        except (DomainError, ValidationError, TransitionNotAllowed, ConcurrentTransition) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            if isinstance(exc, ConcurrentTransition):
                text = f"{obj} was changed by someone else meanwhile; reload and try again."
            messages.error(request, f"{action.label} refused: {text}")
            return HttpResponseRedirect(change_url)
        messages.success(request, result or f"{action.label}: done.")
        if isinstance(result, HttpResponseRedirect):
            return result
        return HttpResponseRedirect(change_url)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["object_actions"] = self.get_object_actions(request, obj)
            context["object_action_url"] = f"admin:{self.opts.app_label}_{self.opts.model_name}_object_action"
        return super().render_change_form(request, context, add, change, form_url, obj)
