"""The intake worker: the requests stored as received (webhook deliveries, the API's asynchronous
creates) are processed here, in batches, in the order they arrived (`manage.py intake_work`).

A batch is one transaction:

1. Claim. The oldest pending requests (`InboundRequest.objects.pending()`, by primary key),
   locked `FOR UPDATE SKIP LOCKED`. On PostgreSQL a worker first takes a transaction-scoped
   advisory lock per channel (tried, never waited for), in the order of each channel's oldest
   pending request, until the channels it holds have a batch's worth; it claims only their
   requests. Why per channel: SKIP LOCKED alone would let a second worker take the next rows
   while the first still works on earlier ones, so a cancellation could be applied before the
   create it cancels had committed (then found no order, and the order would stay alive). With
   the lock, a channel's requests are processed by one worker at a time, oldest first, and two
   workers share the work channel by channel. A worker that dies (even SIGKILL) loses its
   connection, so its transaction rolls back and its locks go: its requests are pending again
   for the next worker, which processes them once. SQLite has one writer at a time: a plain
   select in arrival order.
2. Plan. Each request is parsed and mapped by its source's processor (InboundProcessor),
   registered by the app that knows the source: intake for the API, connectors for Shopify and
   WooCommerce (intake never imports connectors). A request that can't be mapped gets its
   outcome here (failed, as it always was) and takes no further part.
3. Run. The batch is cut into runs: a run ends before a request about an order the run already
   has (a create, then its update or cancellation; the same order sent twice). In a run, every
   new order is captured in ONE `orders_capture` call (one bad order doesn't undo the others),
   then updates and cancellations are applied one by one, in arrival order, each in a savepoint.
   Orders in one run are all different, so capturing first keeps every order's own history in
   arrival order.
4. Outcomes. Each run's outcomes are written in one UPDATE (inbound_requests_finish_many):
   one per batch unless an order came twice. The next run then sees them (an update compares
   the platform's order with its last delivery on record).

A batch that fails as a whole (an error no savepoint caught, a bug) is rolled back and its
requests taken again one at a time, so one poisonous request becomes a failed request for staff
instead of stopping the queue. Re-processing a stored request (`inbound_request_reprocess`) runs
the same `inbound_requests_process` with one request, under the same channel lock.
"""

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, Min

from core.exceptions import DomainError
from orders.inputs import OrderInput
from orders.models import Order
from orders.services import CaptureRequest, CaptureResult, orders_capture

from .inbound import (
    DELIVERY_TAKEN,
    Outcome,
    inbound_outcome_for,
    inbound_requests_finish_many,
    register_reprocessor,
)
from .mapping import MappingError
from .models import InboundRequest
from .rematch import sku_resolve_batch

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 100


@dataclass
class StepDone:
    """What became of one order of a request: the order and the request's outcome for it, or
    the error that kept it from being captured or changed."""

    order: Order | None = None
    outcome: str = ""
    error: DomainError | None = None


@dataclass
class Step:
    """One order of a request, as its processor mapped it. `key` names the order (its external
    id): a run holds each order once.

    A new order has `data`, captured with the run's others. An update or cancellation has
    `apply(actor)`, run alone in a savepoint; it returns None when the order was never captured
    here, and then `fallback()` is captured instead. A mapping error is `done` already."""

    key: str
    data: OrderInput | None = None
    apply: Callable[[Any], StepDone | None] | None = None
    fallback: Callable[[], OrderInput] | None = None
    done: StepDone | None = None


@dataclass(frozen=True)
class Finish:
    """The outcome a request is written down with."""

    outcome: str
    order: Order | None = None
    error: str = ""
    status: int | None = None


class InboundProcessor(ABC):
    """How the worker processes one source's requests; registered with
    inbound_processor_register from the source's app's ready()."""

    # Deliveries carry the platform's id: one already taken by another request is a duplicate.
    dedupe_deliveries = False

    @abstractmethod
    def plan(self, inbound: InboundRequest) -> list[Step] | Finish:
        """Parse and map the stored request: its steps, or its outcome when there is nothing to
        run (unreadable, nothing to do). Reads only; writes nothing."""

    def settle(self, inbound: InboundRequest, result: CaptureResult) -> StepDone:
        """What a capture of one of the request's orders means for it."""
        if result.error is not None:
            return StepDone(error=result.error)
        outcome = inbound_outcome_for(result.order) if result.created else Outcome.DUPLICATE
        return StepDone(order=result.order, outcome=outcome)

    def prefetch(self, inbounds: Sequence[InboundRequest]) -> None:  # noqa: B027 (optional)
        """Before its requests of a batch are planned one by one: read what their plans will
        need, set-wise (their SKUs, with rematch.sku_resolve_prefetch). Nothing by default."""

    @abstractmethod
    def finish(self, inbound: InboundRequest, done: list[StepDone]) -> Finish:
        """The request's outcome from its orders' (in the order they were in the request)."""


_processors: dict[str, InboundProcessor] = {}


def inbound_processor_register(source: str, processor: InboundProcessor) -> None:
    """Let the worker process `source`'s pending requests with `processor`; staff's
    re-processing of that source goes through the worker's path too. Call from ready()."""
    _processors[source] = processor
    register_reprocessor(source, inbound_request_process_again)


def inbound_sources_queued() -> list[str]:
    """The sources the worker processes (each has its processor registered)."""
    return sorted(_processors)


# --- processing: one function for the worker's batches and for re-processing ----------------------
@dataclass
class Processed:
    """One request as processed: its outcome and what became of each of its orders."""

    inbound: InboundRequest
    finish: Finish
    done: list[StepDone] = field(default_factory=list)

    @property
    def orders(self) -> list[Order]:
        return [d.order for d in self.done if d.order is not None]


@dataclass
class _Planned:
    inbound: InboundRequest
    processor: InboundProcessor | None
    steps: list[Step] = field(default_factory=list)
    finish: Finish | None = None

    @property
    def keys(self) -> set[tuple[int, str]]:
        return {(self.inbound.channel_id, step.key) for step in self.steps}


def inbound_requests_process(inbounds: Sequence[InboundRequest], *, actor=None) -> list[Processed]:
    """Process requests (with their channel loaded) in the order given, and write down their
    outcomes: see the module docstring (plan, runs, one capture call and one UPDATE per run).

    Runs in the caller's transaction, which must hold the requests: the worker's claim, or
    re-processing's channel lock. Errors inside one request are its outcome; raises only for
    what no savepoint can contain (then the caller's transaction must roll back).
    """
    taken = _deliveries_taken(inbounds)
    with sku_resolve_batch():
        _prefetch([i for i in inbounds if i.pk not in taken])
        planned = [_plan(inbound, taken.get(inbound.pk)) for inbound in inbounds]
    processed: list[Processed] = []
    for run in _runs(planned):
        processed.extend(_run(run, actor))
    return processed


def _prefetch(inbounds: Sequence[InboundRequest]) -> None:
    """Each processor's prefetch over its requests of the batch. A failure only loses the head
    start: planning looks up what it needs itself, and reports what goes wrong there."""
    by_source: dict[str, list[InboundRequest]] = {}
    for inbound in inbounds:
        by_source.setdefault(inbound.source, []).append(inbound)
    for source, mine in by_source.items():
        processor = _processors.get(source)
        if processor is None:
            continue
        try:
            processor.prefetch(mine)  # reads only
        except DatabaseError:
            raise
        except Exception:
            logger.exception("Prefetching %s requests failed; planning them one by one", source)


def _deliveries_taken(inbounds: Sequence[InboundRequest]) -> dict[int, InboundRequest]:
    """For each request whose delivery id another request already took (DELIVERY_TAKEN), the
    first such request. One query. Deliveries are kept unique while pending by the database;
    this catches a copy that arrived as its first was being committed processed, and a failed
    delivery re-processed after the platform sent it again."""
    deduped = [
        i
        for i in inbounds
        if i.delivery_id and getattr(_processors.get(i.source), "dedupe_deliveries", False)
    ]
    if not deduped:
        return {}
    rows = (
        InboundRequest.objects.filter(
            # (source, delivery_id) is the index's; the channel is matched below, so that no
            # planner, however stale its statistics, prefers the channel's index
            delivery_id__in={i.delivery_id for i in deduped},
            source__in={i.source for i in deduped},
            outcome__in=DELIVERY_TAKEN,
        )
        .exclude(pk__in=[i.pk for i in inbounds])
        .order_by("-pk")
        .only("pk", "source", "channel_id", "delivery_id", "order_id")
    )
    first = {(r.source, r.channel_id, r.delivery_id): r for r in rows}  # the lowest pk wins
    return {
        i.pk: first[(i.source, i.channel_id, i.delivery_id)]
        for i in deduped
        if (i.source, i.channel_id, i.delivery_id) in first
    }


def _failure(exc: Exception) -> DomainError:
    """An unexpected error as staff read it on the request (the traceback goes to the log)."""
    return DomainError(f"{type(exc).__name__}: {exc}")


def _plan(inbound: InboundRequest, taken: InboundRequest | None) -> _Planned:
    processor = _processors.get(inbound.source)
    if processor is None:
        finish = Finish(Outcome.FAILED, error=f"No processor for {inbound.get_source_display()} requests.")
        return _Planned(inbound, None, finish=finish)
    if taken is not None:
        inbound.order_id = taken.order_id or inbound.order_id
        error = f"The same delivery as request #{taken.pk}."
        return _Planned(inbound, processor, finish=Finish(Outcome.DUPLICATE, error=error, status=200))
    try:
        plan = processor.plan(inbound)
    except DatabaseError:
        raise  # the transaction is spoilt: the batch is taken again one request at a time
    except Exception as exc:
        logger.exception("Inbound request %s could not be mapped", inbound.pk)
        return _Planned(inbound, processor, finish=Finish(Outcome.FAILED, error=str(_failure(exc))))
    if isinstance(plan, Finish):
        return _Planned(inbound, processor, finish=plan)
    return _Planned(inbound, processor, steps=plan)


def _runs(planned: list[_Planned]) -> list[list[_Planned]]:
    """The batch cut before each request about an order the current run already has."""
    runs: list[list[_Planned]] = [[]]
    keys: set[tuple[int, str]] = set()
    for item in planned:
        mine = item.keys
        if mine & keys:
            runs.append([])
            keys = set()
        runs[-1].append(item)
        keys |= mine
    return [run for run in runs if run]


def _run(run: list[_Planned], actor) -> list[Processed]:
    """Capture the run's new orders in one call, then apply its updates and cancellations one by
    one in arrival order, then write the run's outcomes in one UPDATE."""
    captures = [
        (item, step)
        for item in run
        for step in item.steps
        if step.done is None and step.apply is None and step.data is not None
    ]
    if captures:
        results = orders_capture(
            [
                CaptureRequest(channel=item.inbound.channel, data=step.data, actor=actor)
                for item, step in captures
            ]
        )
        for (item, step), result in zip(captures, results, strict=True):
            step.done = item.processor.settle(item.inbound, result)
    for item in run:
        for step in item.steps:
            if step.done is None:
                step.done = _apply(item, step, actor)
    processed = []
    for item in run:
        done = [step.done for step in item.steps]
        finish = item.finish or item.processor.finish(item.inbound, done)
        processed.append(Processed(item.inbound, finish, done))
    inbound_requests_finish_many(
        (p.inbound, p.finish.outcome, p.finish.order, p.finish.error, p.finish.status) for p in processed
    )
    return processed


def _apply(item: _Planned, step: Step, actor) -> StepDone:
    """An update or cancellation, alone in a savepoint: what it wrote goes if it raises."""
    try:
        with transaction.atomic():
            done = step.apply(actor) if step.apply else None
            if done is None:
                data = step.fallback() if step.fallback else step.data
                if data is None:
                    raise MappingError(f"Order {step.key}: nothing to capture.")
                [result] = orders_capture(
                    [CaptureRequest(channel=item.inbound.channel, data=data, actor=actor)]
                )
                done = item.processor.settle(item.inbound, result)
            return done
    except DomainError as exc:
        return StepDone(error=exc)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        logger.exception("Order %s of inbound request %s failed", step.key, item.inbound.pk)
        return StepDone(error=_failure(exc))


# --- the worker -------------------------------------------------------------------------------------
def _channel_lock_try(channel_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [f"intake-channel:{channel_id}"])
        return cursor.fetchone()[0]


def inbound_channel_lock(channel_id: int) -> None:
    """Wait for the channel's intake lock (the one the worker takes per batch), until the
    transaction ends. PostgreSQL; SQLite runs one writer at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"intake-channel:{channel_id}"])


def _pending():
    return InboundRequest.objects.pending().filter(source__in=inbound_sources_queued())


def inbound_requests_claim(*, batch: int = DEFAULT_BATCH) -> list[InboundRequest]:
    """Lock up to `batch` of the oldest pending requests for this transaction, with their
    channels: on PostgreSQL only of channels whose intake lock this worker got (see the module
    docstring), FOR UPDATE SKIP LOCKED. Must run inside the batch's transaction."""
    pending = _pending()
    if connection.vendor != "postgresql":
        return list(pending.select_related("channel").order_by("pk")[:batch])
    held, covered = [], 0
    # Per channel and source, from the pending rows' index alone (a filter on the sources here
    # would have the planner combine it with the source index, every row the table ever had)
    queued = set(inbound_sources_queued())
    channels: dict[int, tuple[int, int]] = {}
    rows = (
        InboundRequest.objects.pending()
        .values("channel_id", "source")
        .annotate(first=Min("pk"), count=Count("pk"))
    )
    for row in rows.order_by():
        if row["source"] in queued:
            first, count = channels.get(row["channel_id"], (row["first"], 0))
            channels[row["channel_id"]] = (min(first, row["first"]), count + row["count"])
    for channel_id, (_, count) in sorted(channels.items(), key=lambda item: item[1][0]):
        if covered >= batch:
            break
        if _channel_lock_try(channel_id):
            held.append(channel_id)
            covered += count
    if not held:
        return []
    return list(
        pending.filter(channel_id__in=held)
        .select_related("channel")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("pk")[:batch]
    )


def intake_work_batch(*, batch: int = DEFAULT_BATCH, actor=None) -> int:
    """Claim and process one batch in one transaction; returns how many requests it took (0:
    nothing pending, or only channels other workers hold). Raises when the batch failed as a
    whole (rolled back: its requests are pending again)."""
    with transaction.atomic():
        claimed = inbound_requests_claim(batch=batch)
        if claimed:
            inbound_requests_process(claimed, actor=actor)
        return len(claimed)


def _one_at_a_time(count: int, actor=None) -> int:
    """After a batch failed as a whole: its requests one by one; one that fails again alone is
    written down as failed (its traceback logged) and the queue goes on."""
    taken = 0
    for _ in range(count):
        with transaction.atomic():
            claimed = inbound_requests_claim(batch=1)
            if not claimed:
                break
            taken += 1
            try:
                with transaction.atomic():
                    inbound_requests_process(claimed, actor=actor)
            except (OperationalError, InterfaceError):
                raise
            except Exception as exc:
                logger.exception("Inbound request %s failed the intake worker", claimed[0].pk)
                inbound = InboundRequest.objects.get(pk=claimed[0].pk)  # as stored, not as left
                inbound_requests_finish_many([(inbound, Outcome.FAILED, None, str(_failure(exc)), None)])
    return taken


def intake_work(*, batch: int = DEFAULT_BATCH, actor=None, max_batches: int | None = None) -> int:
    """Process pending requests batch after batch until none is left that this worker can take
    (or after `max_batches`); returns how many requests were taken."""
    total = batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        try:
            taken = intake_work_batch(batch=batch, actor=actor)
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            logger.exception("An intake batch failed as a whole; taking its requests one at a time")
            taken = _one_at_a_time(batch, actor=actor)
        if not taken:
            break
        total += taken
    return total


def inbound_request_process_again(inbound: InboundRequest, actor) -> str:
    """Process a stored request again, as the worker would (registered as the re-processor of
    every queued source). Waits for the channel's intake lock, so it never runs beside the
    worker's batch for that channel. Raises MappingError, with the reason, when it still fails;
    its outcome is written down first. Returns a message for staff."""
    with transaction.atomic():
        inbound_channel_lock(inbound.channel_id)
        inbound = (
            InboundRequest.objects.select_related("channel")
            .select_for_update(of=("self",))
            .get(pk=inbound.pk)
        )
        [processed] = inbound_requests_process([inbound], actor=actor)
    finish = processed.finish
    if finish.outcome in (Outcome.FAILED, Outcome.INVALID):
        raise MappingError(finish.error or "It still can't be processed.")
    numbers = ", ".join(order.number for order in processed.orders) or "no order"
    return f"Processed again: {numbers} ({Outcome(finish.outcome).label.lower()})."
