"""Buttons on an admin change page that call a service, one per step allowed now.

A ModelAdmin lists its `object_actions`; apps further down the import chain add theirs with
`core.admin_extensions.admin_extend(Model, object_actions=[...])` from their `AppConfig.ready()`.

Each action has its own page, `<pk>/action/<name>/`, built like Django's
`UserAdmin.user_change_password`: GET shows the action's form (and its confirmation question, if
it asks one), POST validates the form and hands `form.cleaned_data` (typed values) to the handler,
which calls a service and returns the message to show. An invalid form comes back with what was
typed and the errors. A refused operation (DomainError, FSM refusal, stale state) is an error on
the page, never a 500.

On the change page an action is a button, with its few fields beside it. An action that asks for
confirmation is a button that opens its page; it runs only from the confirmation's own button. An
action with more than a form (a formset, a preview) brings its own `view`, behind the same checks.

An action is offered while its transition can run (`transition="cancel"`: django_fsm.can_proceed,
conditions included), so the state machine, not a list of states copied here, decides.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from .exceptions import DomainError

# The confirmation page posts this; a POST without it only shows the confirmation.
CONFIRMED = "confirmed"


class ObjectActionForm(forms.Form):
    """The form of an object action. `obj` is the object the action works on, for `clean_*`
    methods that check what is typed against it."""

    def __init__(self, *args, obj=None, **kwargs):
        self.obj = obj
        super().__init__(*args, **kwargs)


class NotifyCustomerForm(ObjectActionForm):
    """For a step that e-mails the customer: staff may tick that it doesn't (the service then
    notes on the timeline that they chose not to). Subclasses add their fields; the checkbox
    stays last. The handler passes `notify=not data["silent"]`."""

    silent = forms.BooleanField(label="Don't e-mail the customer", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["silent"] = self.fields.pop("silent")


def fsm(*transitions: str) -> Callable[[Any], bool]:
    """Availability for an action that stands for more than one transition: true while the object
    can take any of them now (django_fsm.can_proceed, conditions included)."""

    def available(obj) -> bool:
        return any(can_proceed(getattr(obj, name)) for name in transitions)

    return available


@dataclass(frozen=True)
class ObjectAction:
    name: str
    label: str
    handler: Callable  # handler(obj, user, cleaned_data: dict) -> str, the message to show
    # The FSM transition the action makes: offered while can_proceed(obj.<transition>).
    transition: str = ""
    # Availability that isn't a transition (say why where it is used); with `transition`, both.
    available: Callable[[Any], bool] | None = None
    permission: str = ""
    style: str = "default"  # default | primary | danger
    form_class: type[ObjectActionForm] | None = None
    # A question asked on the action's page before it runs ("Every key stops working. Continue?").
    confirm: str = ""
    order: int = 100
    # An action whose page is more than one form (a formset, a preview before confirming) brings
    # its own view: view(model_admin, request, obj) -> response, for GET and POST. Permission and
    # availability are checked first, as for every action; its button opens the page.
    view: Callable | None = None

    def is_available(self, obj) -> bool:
        if self.transition and not can_proceed(getattr(obj, self.transition)):
            return False
        return self.available is None or self.available(obj)

    def make_form(self, data=None, *, obj, **kwargs) -> ObjectActionForm | None:
        return self.form_class(data, obj=obj, **kwargs) if self.form_class else None


@dataclass(frozen=True)
class ActionButton:
    """An available action as the change page shows it."""

    action: ObjectAction
    url: str
    form: ObjectActionForm | None  # its fields beside the button; None when it opens its page

    @property
    def opens_page(self) -> bool:
        return bool(self.action.confirm or self.action.view)


REFUSALS = (DomainError, ValidationError, TransitionNotAllowed, ConcurrentTransition)


def refusal_text(exc: Exception, obj) -> str:
    if isinstance(exc, ConcurrentTransition):
        return f"{obj} was changed by someone else meanwhile; reload and try again."
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


class ObjectActionsMixin(admin.ModelAdmin):
    change_form_template = "admin/core/change_form_with_actions.html"
    object_action_template = "admin/core/object_action.html"
    object_actions: Sequence[ObjectAction] = ()

    def get_all_object_actions(self) -> list[ObjectAction]:
        """Every action of this admin, before permissions and availability, in button order."""
        return sorted(self.object_actions, key=lambda a: a.order)

    def get_object_actions(self, request, obj) -> list[ObjectAction]:
        return [
            a
            for a in self.get_all_object_actions()
            if (not a.permission or request.user.has_perm(a.permission)) and a.is_available(obj)
        ]

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/action/<slug:action_name>/",
                self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.object_action_view)),
                name="{}_{}_object_action".format(*info),
            ),
            *super().get_urls(),
        ]

    def object_action_url(self, obj, action: ObjectAction) -> str:
        info = self.opts.app_label, self.opts.model_name
        return reverse(
            "admin:{}_{}_object_action".format(*info),
            args=[quote(obj.pk), action.name],
            current_app=self.admin_site.name,
        )

    def object_change_url(self, obj) -> str:
        info = self.opts.app_label, self.opts.model_name
        return reverse(
            "admin:{}_{}_change".format(*info), args=[quote(obj.pk)], current_app=self.admin_site.name
        )

    def object_action_view(self, request, object_id, action_name):
        """GET: the action's page (its form, its confirmation). POST: validate, run, report."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with the id “{object_id}”.")
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        change_url = self.object_change_url(obj)
        action = {a.name: a for a in self.get_all_object_actions()}.get(action_name)
        if action is None:
            self.message_user(request, "Unknown action.", messages.ERROR)
            return HttpResponseRedirect(change_url)
        if action.permission and not request.user.has_perm(action.permission):
            raise PermissionDenied
        if not action.is_available(obj):
            self.message_user(
                request, f"“{action.label}” is not possible for {obj} any more.", messages.ERROR
            )
            return HttpResponseRedirect(change_url)

        if action.view is not None:
            return action.view(self, request, obj)
        if request.method == "GET":
            return self.render_object_action(request, obj, action, action.make_form(obj=obj))
        if action.confirm and request.POST.get(CONFIRMED) != "yes":
            # Posted from anywhere but the confirmation page: ask first, keeping what was typed.
            fields = action.form_class.base_fields if action.form_class else {}
            typed = {name: request.POST[name] for name in fields if name in request.POST}
            return self.render_object_action(request, obj, action, action.make_form(obj=obj, initial=typed))

        form = action.make_form(request.POST, obj=obj)
        if form is not None and not form.is_valid():
            return self.render_object_action(request, obj, action, form)
        try:
            message = action.handler(obj, request.user, form.cleaned_data if form is not None else {})
        except REFUSALS as exc:
            text = f"{action.label} refused: {refusal_text(exc, obj)}"
            if form is None:
                self.message_user(request, text, messages.ERROR)
                return HttpResponseRedirect(change_url)
            form.add_error(None, text)
            return self.render_object_action(request, obj, action, form)
        self.message_user(request, message or f"{action.label}: done.", messages.SUCCESS)
        return HttpResponseRedirect(change_url)

    def render_object_action(self, request, obj, action: ObjectAction, form: ObjectActionForm | None):
        fieldsets = [(None, {"fields": list(form.fields)})] if form is not None and form.fields else []
        admin_form = helpers.AdminForm(form, fieldsets, {}) if fieldsets else None
        media = self.media + (form.media if form is not None else forms.Media())
        context = {
            **self.admin_site.each_context(request),
            "title": action.label,
            "subtitle": str(obj),
            "opts": self.opts,
            "original": obj,
            "action": action,
            "form": form,
            "adminform": admin_form,
            "media": media,
            "change_url": self.object_change_url(obj),
            "confirmed_field": CONFIRMED,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_action_template, context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["object_actions"] = [
                ActionButton(
                    action=a,
                    url=self.object_action_url(obj, a),
                    form=None
                    if a.confirm or a.view
                    else a.make_form(obj=obj, auto_id=f"id_action_{a.name}_%s"),
                )
                for a in self.get_object_actions(request, obj)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)
