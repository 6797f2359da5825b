"""Sender route for the status event feed."""

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from postvak.api.v1.deps import current_sender
from postvak.api.v1.openapi import json_response, problem_responses
from postvak.errors import Forbidden, RateLimited, Unauthorized, ValidationFailed
from postvak.kit.text import escape_controls
from postvak.kit.validation import join_faults
from postvak.messages import service as messages
from postvak.messages.schemas import FEED_CURSOR_PATTERN, EventFeedOut
from postvak.runtime import runtime_of
from postvak.senders.models import Sender

router = APIRouter(tags=["events"])


@router.get(
    "/events",
    operation_id="listEvents",
    summary="Follow the status events of the sender's letters",
    description=(
        "Events in a stable order. Pass the returned nextCursor as `after` until `events` is "
        "empty: every event is read exactly once, also while letters are being delivered. An "
        "event appears once every delivery that started before it has finished (normally "
        "within a second), so that no later reader can skip it; poll again with the last cursor. "
        "Any other query parameter is refused (validation-failed naming it)."
    ),
    response_model=EventFeedOut,
    responses=problem_responses(Unauthorized, Forbidden, RateLimited, ValidationFailed),
)
async def list_events(
    request: Request,
    after: str | None = Query(
        default=None,
        description="A nextCursor from before; without it the feed starts at the first event.",
        # Declared only: the service checks it, and says which cursor it expected.
        json_schema_extra={"pattern": FEED_CURSOR_PATTERN},
        examples=["00000000000003e80000000000013d52"],
    ),
    limit: int = Query(default=100, ge=1, le=1000, description="At most this many events.", examples=[100]),
    sender: Sender = Depends(current_sender),
) -> Response:
    # A misspelt parameter (`?afterr=…`) would silently restart the feed from its first event.
    query = request.query_params
    faults = [
        f"{escape_controls(name)}: not a parameter of this feed (after, limit)"
        for name in sorted(set(query) - {"after", "limit"})
    ]
    faults += [f"{name}: given more than once" for name in ("after", "limit") if len(query.getlist(name)) > 1]
    # Python's int() would take " 7\f" for 7: the schema says a plain whole number.
    if "limit" in query and not (query["limit"].isascii() and query["limit"].isdigit()):
        faults.append("limit: a whole number from 1 to 1000")
    if faults:
        raise ValidationFailed(join_faults(faults))
    runtime = runtime_of(request)

    def run() -> EventFeedOut:
        with runtime.database.unit_of_work(write=False) as session:
            return messages.read_event_feed(session, sender_id=sender.id, after=after, limit=limit)

    return json_response(await run_in_threadpool(run), 200)
