"""One way for an app to add to another app's admin: `admin_extend(Model, ...)`, called from the
adding app's `AppConfig.ready()`.

Imports point left (design.md), so the app that owns a model can't know what the apps after it
show on its pages: shipments and returns on the order page, buttons that ship or re-match an
order, CSV exports on the lists, what an order is waiting for at the top of its page. Those
apps bring their pieces themselves:

    # fulfillment/apps.py
    def ready(self):
        from core.admin_extensions import admin_extend
        from orders.models import Order

        from .admin import ORDER_PAGE_ACTIONS, ShipmentInline

        admin_extend(Order, inlines=[ShipmentInline], object_actions=ORDER_PAGE_ACTIONS)

The model's ModelAdmin takes `ExtensibleAdminMixin`, which reads the registry on every request
(inlines, object actions, change-list actions and links, next steps) or when the admin's URLs are built
(`urls`, after every `ready()`), so it doesn't matter whether the ModelAdmin is registered before
or after the extension. `check_admin_extensions` (a system check) reports an extension that no
admin would show.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR, Action, ActionLocation
from django.core import checks
from django.template.response import TemplateResponse

from .admin_actions import ObjectAction, ObjectActionsMixin


@dataclass(frozen=True)
class ChangelistAction:
    """An entry in a change list's action menu ("Export … of selected as CSV"), offered to users
    with `permission`. `function(modeladmin, request, queryset)` is a Django admin action."""

    name: str
    function: Callable
    description: str
    permission: str = ""


@dataclass(frozen=True)
class ChangelistLink:
    """A link in a change list's object tools, next to "Add …". `more`: smaller links in the same
    item ("Orders CSV (Excel)")."""

    label: str
    url: str
    title: str = ""
    css_class: str = ""
    more: tuple["ChangelistLink", ...] = ()


@dataclass(frozen=True)
class PageLink:
    label: str
    url: str


@dataclass(frozen=True)
class NextStep:
    """One line of "what next" at the top of a change page: what the object is waiting for, or
    what staff do now, with links to where it is done. Whoever makes it offers a link only to
    users who may open it. `tone`: "act" (staff must do something), "wait" (someone or
    something else will), "done"."""

    text: str
    links: tuple[PageLink, ...] = ()
    tone: str = "wait"
    order: int = 100


# links(request, changelist) -> the links this user gets on this list, as filtered now
ChangelistLinks = Callable[[Any, Any], Iterable[ChangelistLink]]
# next_steps(request, obj) -> what `obj` is waiting for, as this user should read it
NextSteps = Callable[[Any, Any], Iterable[NextStep]]
# urls(model_admin) -> URL patterns added before the admin's own, as ModelAdmin.get_urls returns
AdminUrls = Callable[[admin.ModelAdmin], list]


@dataclass
class AdminExtension:
    inlines: list[type] = field(default_factory=list)
    object_actions: list[ObjectAction] = field(default_factory=list)
    changelist_actions: list[ChangelistAction] = field(default_factory=list)
    changelist_links: list[ChangelistLinks] = field(default_factory=list)
    urls: list[AdminUrls] = field(default_factory=list)
    next_steps: list[NextSteps] = field(default_factory=list)


_registry: defaultdict[type, AdminExtension] = defaultdict(AdminExtension)


def admin_extend(
    model: type,
    *,
    inlines: Sequence[type] = (),
    object_actions: Sequence[ObjectAction] = (),
    changelist_actions: Sequence[ChangelistAction] = (),
    changelist_links: Sequence[ChangelistLinks] = (),
    urls: AdminUrls | None = None,
    next_steps: Sequence[NextSteps] = (),
) -> None:
    """Add to `model`'s admin pages. Call it from `AppConfig.ready()`. Calling it again with the
    same pieces changes nothing; an action with a name already added replaces that one."""
    extension = _registry[model]
    extension.inlines += [i for i in inlines if i not in extension.inlines]
    names = {a.name for a in object_actions}
    extension.object_actions = [a for a in extension.object_actions if a.name not in names]
    extension.object_actions += object_actions
    names = {a.name for a in changelist_actions}
    extension.changelist_actions = [a for a in extension.changelist_actions if a.name not in names]
    extension.changelist_actions += changelist_actions
    extension.changelist_links += [p for p in changelist_links if p not in extension.changelist_links]
    if urls is not None and urls not in extension.urls:
        extension.urls.append(urls)
    extension.next_steps += [p for p in next_steps if p not in extension.next_steps]


def admin_extension(model: type) -> AdminExtension:
    """What other apps added to `model`'s admin (empty when nothing)."""
    return _registry.get(model) or AdminExtension()


class ExtensibleAdminMixin(ObjectActionsMixin):
    """A ModelAdmin other apps can add to with `admin_extend`. Its own change-list links go in
    `changelist_links`, and what its objects wait for in `next_steps`, as the extensions' do."""

    changelist_links: Sequence[ChangelistLinks] = ()
    next_steps: Sequence[NextSteps] = ()

    @property
    def extension(self) -> AdminExtension:
        return admin_extension(self.model)

    def get_all_object_actions(self) -> list[ObjectAction]:
        by_name = {a.name: a for a in [*self.object_actions, *self.extension.object_actions]}
        return sorted(by_name.values(), key=lambda a: a.order)

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), *self.extension.inlines]

    def get_urls(self):
        added = [pattern for urls in self.extension.urls for pattern in urls(self)]
        return [*added, *super().get_urls()]

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        if (
            self.actions is None
            or IS_POPUP_VAR in request.GET
            or action_location != ActionLocation.CHANGE_LIST
        ):
            return actions
        for action in self.extension.changelist_actions:
            if not action.permission or request.user.has_perm(action.permission):
                actions[action.name] = Action(
                    func=action.function,
                    name=action.name,
                    description=action.description,
                    plural_description=action.description,
                    locations=[ActionLocation.CHANGE_LIST],
                )
        return actions

    def get_changelist_links(self, request, changelist) -> list[ChangelistLink]:
        providers = [*self.changelist_links, *self.extension.changelist_links]
        return [link for links in providers for link in links(request, changelist)]

    def get_next_steps(self, request, obj) -> list[NextStep]:
        """What `obj` waits for, from this admin and every extension, in their `order`."""
        providers = [*self.next_steps, *self.extension.next_steps]
        return sorted((step for steps in providers for step in steps(request, obj)), key=lambda s: s.order)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["next_steps"] = self.get_next_steps(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) if isinstance(response, TemplateResponse) else None
        if context is not None and "cl" in context:
            # Rendered later (TemplateResponse), by admin/change_list_object_tools.html.
            context["changelist_links"] = self.get_changelist_links(request, context["cl"])
        return response


def object_action_link(request, obj, name: str, label: str = "") -> PageLink | None:
    """A link to the page of `obj`'s action `name` (core.admin_actions), or None when this user
    may not take it or it isn't possible now: for a next step that says which button to press."""
    model_admin = admin.site.get_model_admin(type(obj)) if admin.site.is_registered(type(obj)) else None
    if not isinstance(model_admin, ObjectActionsMixin):
        return None
    action = {a.name: a for a in model_admin.get_all_object_actions()}.get(name)
    if action is None or (action.permission and not request.user.has_perm(action.permission)):
        return None
    if not action.is_available(obj):
        return None
    return PageLink(label or action.label, model_admin.object_action_url(obj, action))


def check_admin_extensions(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every extended model has an admin that shows extensions, no action name is taken twice on
    one admin (its URL would be ambiguous), and every action's `transition` is one."""
    errors = []
    for model in apps.get_models():
        model_admin = admin.site.get_model_admin(model) if admin.site.is_registered(model) else None
        if not isinstance(model_admin, ObjectActionsMixin):
            continue
        for action in model_admin.get_all_object_actions():
            if action.transition and not hasattr(getattr(model, action.transition, None), "_django_fsm"):
                errors.append(
                    checks.Error(
                        f"Action “{action.name}” of {model._meta.label}: “{action.transition}” is "
                        "not a transition of the model.",
                        id="core.E004",
                    )
                )
    for model, extension in _registry.items():
        label = model._meta.label
        if not admin.site.is_registered(model):
            errors.append(checks.Error(f"admin_extend({label}): {label} has no admin.", id="core.E001"))
            continue
        model_admin = admin.site.get_model_admin(model)
        if not isinstance(model_admin, ExtensibleAdminMixin):
            errors.append(
                checks.Error(
                    f"admin_extend({label}): {type(model_admin).__name__} doesn't show extensions.",
                    hint="Add core.admin_extensions.ExtensibleAdminMixin to its bases.",
                    id="core.E002",
                )
            )
            continue
        own = {a.name for a in model_admin.object_actions}
        for action in extension.object_actions:
            if action.name in own:
                errors.append(
                    checks.Error(
                        f"admin_extend({label}): {type(model_admin).__name__} has its own "
                        f"action “{action.name}”.",
                        id="core.E003",
                    )
                )
    return errors
