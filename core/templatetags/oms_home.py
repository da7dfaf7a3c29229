"""The staff home page's template tag: the sections and queues to show the user."""

from django import template

from core.admin_home import home_sections

register = template.Library()


@register.simple_tag(takes_context=True)
def home_sections_for_user(context):
    """`{% home_sections_for_user as sections %}`: core.admin_home.home_sections for the user."""
    request = context.get("request")
    return home_sections(request.user) if request is not None else []
