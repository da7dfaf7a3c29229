"""The admin home page: each role's work queues, each a count with a link to the list or page
where the work is done.

Core imports no app, so the queues come from the apps: each registers its own from its
`AppConfig.ready()` with `home_queue_register(...)`, the count read by a selector of that app.
The index template (admin/core/home.html) asks `home_sections(user)` what to show.

Who sees what:
- a queue is shown to users holding its permission(s): the ones its link needs, so a link on the
  home page never answers 403;
- a section is the work of one staff group ("Warehouse" is the work of "Warehouse staff"). Groups
  share permissions (everyone reads returns and shipments; managers may change stock and
  receipts), so permissions alone would put the warehouse's queues in front of customer service
  and managers. A member of a staff group sees the sections of the groups they are in; a
  superuser, or a user in none of these groups (permissions given one by one), sees every section.

Counts run when the page renders, one query per queue (or fewer), whatever the size of the data.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone


@dataclass(frozen=True)
class HomeSection:
    key: str
    title: str
    group: str  # the staff group whose work this is (core.roles names the groups)
    order: int


WAREHOUSE = HomeSection("warehouse", "Warehouse", "Warehouse staff", 10)
CUSTOMER_SERVICE = HomeSection("customer-service", "Customer service", "Customer service", 20)
MANAGERS = HomeSection("managers", "Managers", "Managers", 30)
SECTIONS = (WAREHOUSE, CUSTOMER_SERVICE, MANAGERS)


@dataclass(frozen=True)
class HomeRow:
    """One line of a queue split by warehouse, reason, currency, ...: what it counts and where
    those rows are listed."""

    label: str
    count: int | Decimal
    url: str


@dataclass(frozen=True)
class HomeCount:
    """A count with a short note beside it, e.g. how long the oldest has waited."""

    count: int
    note: str = ""


CountResult = int | HomeCount | Sequence[HomeRow | tuple[str, int | Decimal, str]]


@dataclass(frozen=True)
class HomeQueue:
    section: HomeSection
    title: str
    url: str | Callable[[], str]  # a URL name (reversed when shown) or a callable returning the URL
    count: Callable[[], CountResult] | None = None  # None: a link to a page (a tool), no count
    permissions: tuple[str, ...] = ()  # "app_label.codename", all required
    order: int = 100
    help: str = ""
    query: dict = field(default_factory=dict)  # added to a URL name's URL as ?key=value
    group: str = ""  # tools only: tools of one group are listed together under that title

    def resolve_url(self) -> str:
        return self.url() if callable(self.url) else home_url(self.url, **self.query)


_registry: dict[tuple[str, str], HomeQueue] = {}


def home_queue_register(
    *,
    section: HomeSection,
    title: str,
    url: str | Callable[[], str],
    count: Callable[[], CountResult] | None = None,
    permission: str | Sequence[str] = (),
    order: int = 100,
    help: str = "",
    query: dict | None = None,
    group: str = "",
) -> HomeQueue:
    """Put a queue (or, with `count=None`, a link to a tool page) on the home page.

    `count()` returns an int, a HomeCount (an int with a note), or rows (HomeRow, or
    `(label, count, url)` tuples) for a queue split by warehouse, reason, ...; it must cost a
    fixed number of queries (one is the rule). Registering the same section and title again
    replaces the earlier queue, so a `ready()` that runs twice registers nothing twice.
    """
    queue = HomeQueue(
        section=section,
        title=title,
        url=url,
        count=count,
        permissions=(permission,) if isinstance(permission, str) else tuple(permission),
        order=order,
        help=help,
        query=dict(query or {}),
        group=group,
    )
    _registry[(section.key, title)] = queue
    return queue


def home_queues() -> list[HomeQueue]:
    return sorted(_registry.values(), key=lambda q: (q.section.order, q.order, q.title))


def home_url(name: str, **query) -> str:
    """The URL of a URL name with a query string, e.g. a change list with its filters."""
    url = reverse(name)
    return f"{url}?{urlencode(query)}" if query else url


def home_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The start of `day` and of the next day in the current time zone: the half-open range
    "today" means in the admin's date filters."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    return start, end


# --- what the page shows -----------------------------------------------------------------------
@dataclass
class QueueView:
    title: str
    url: str
    help: str = ""
    count: int | Decimal | None = None
    note: str = ""
    rows: list[HomeRow] = field(default_factory=list)
    split: bool = False  # shown as rows (per warehouse, per reason, ...) under a total


@dataclass
class SectionView:
    key: str
    title: str
    queues: list[QueueView] = field(default_factory=list)
    tools: list[QueueView] = field(default_factory=list)
    tool_groups: dict[str, list[QueueView]] = field(default_factory=dict)


def home_sections_visible(user) -> list[HomeSection]:
    """The sections whose work is the user's (see the module docstring). One query for a
    non-superuser (their group names)."""
    if not (user.is_active and user.is_staff):
        return []
    if user.is_superuser:
        return list(SECTIONS)
    groups = set(user.groups.values_list("name", flat=True))
    mine = [s for s in SECTIONS if s.group in groups]
    return mine if mine else list(SECTIONS)


def _evaluate(queue: HomeQueue) -> QueueView:
    view = QueueView(title=queue.title, url=queue.resolve_url(), help=queue.help)
    result = queue.count()
    if isinstance(result, HomeCount):
        view.count, view.note = result.count, result.note
    elif isinstance(result, int):
        view.count = result
    else:
        view.split = True
        view.rows = [row if isinstance(row, HomeRow) else HomeRow(*row) for row in result]
        # A total of counts; amounts (revenue per currency) add up to nothing meaningful.
        if all(isinstance(row.count, int) for row in view.rows):
            view.count = sum(row.count for row in view.rows)
    return view


def home_sections(user) -> list[SectionView]:
    """The sections and queues to show `user`, counted now. Sections with nothing the user may
    open are left out."""
    visible = {s.key for s in home_sections_visible(user)}
    sections: dict[str, SectionView] = {}
    for queue in home_queues():
        if queue.section.key not in visible:
            continue
        if queue.permissions and not user.has_perms(queue.permissions):
            continue
        section = sections.setdefault(queue.section.key, SectionView(queue.section.key, queue.section.title))
        if queue.count is None:
            link = QueueView(title=queue.title, url=queue.resolve_url(), help=queue.help)
            if queue.group:
                section.tool_groups.setdefault(queue.group, []).append(link)
            else:
                section.tools.append(link)
        else:
            section.queues.append(_evaluate(queue))
    return list(sections.values())
