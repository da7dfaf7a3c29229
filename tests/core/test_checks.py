"""`check --deploy` tells the operator when links would point at the development server."""

from django.core.management import call_command
from django.core.management.base import SystemCheckError


def _deploy_check_ids(capsys) -> str:
    try:
        call_command("check", "--deploy", "--tag", "security", "--fail-level", "WARNING")
    except SystemCheckError as exc:
        return str(exc)
    return capsys.readouterr().out


def test_deploy_check_warns_when_site_url_is_not_set(settings, capsys):
    settings.SITE_URL_SET = False
    assert "oms.W001" in _deploy_check_ids(capsys)


def test_deploy_check_is_quiet_about_site_url_once_it_is_set(settings, capsys):
    settings.SITE_URL_SET = True
    assert "oms.W001" not in _deploy_check_ids(capsys)
