"""Shared pieces of the browser tests: Debian's Chromium through Playwright, screenshots in
test-artifacts/, CSP violations collected from the console, and an admin login."""

from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def end_other_database_sessions():
    """End every other PostgreSQL session of the test database. The live server leaves one
    behind after a browser test (an idle session whose last query served a page), which would
    stop the test database from being dropped at the end of the run."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def watch_csp(page, violations: list[str]) -> None:
    page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))


def admin_login(page, url: str, username: str, password: str) -> None:
    """Open an admin URL and log in on the page it redirects to."""
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def scan(page, code: str) -> None:
    """What a barcode scanner does at the packing station: type the code into the focused scan
    field, then Enter. Waits until the page has put the cursor in the field first, so keystrokes
    are never typed into a page that is still loading."""
    page.locator("#code:focus").wait_for()
    page.keyboard.type(code)
    page.keyboard.press("Enter")
