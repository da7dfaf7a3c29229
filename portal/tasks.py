"""Background work of the customer pages, run through django.tasks (a db_worker in production,
inline in tests)."""

from django.tasks import task

from .pages import order_pages_warm


@task
def warm_order_pages(*, numbers: list[str]) -> int:
    """Render the pages of these orders into the shared cache (portal.pages.order_pages_warm), so
    the customer's next view of each, typically from the e-mail about the change, is served from
    it. Queued once per commit that changed orders (portal.signals), with all their numbers.
    Returns how many pages were stored."""
    return order_pages_warm(numbers=numbers)
