"""Staff users, and users in the staff groups core.roles makes after every migrate."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@oms.example")
    is_staff = True
    password = factory.django.Password("pw-for-tests-123")


def user_in_group(username: str, group: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=group))
    return user


def staff_in(group_name: str):
    """A new staff user in one of the staff groups."""
    user = UserFactory()
    user.groups.add(Group.objects.get(name=group_name))
    return user
