"""The adapter kit: what a REST helpdesk adapter is built from.

- :mod:`.base`: :class:`RESTAdapter`, the declarative base (endpoints, records
  path, paginator and cursor as class attributes; the base pulls, pages, isolates
  each ticket and fetches; the adapter writes :meth:`~RESTAdapter.to_interchange`);
- :mod:`.paginators`: offset, page number, cursor token and ``Link`` header
  paginators with a loop guard, reading each page's JSON as decoded once;
- :mod:`.cursor`: :class:`SyncCursor`, the keyset :class:`UpdatedSincePaginator`
  and :class:`UpdatedSinceWalk`, the "updated since" pull Freshdesk, Zammad and
  Redmine share;
- :mod:`.retry`: the one retry policy (:class:`RetryPolicy`) and :class:`HTTPError`;
- :mod:`.mapped`: :class:`MappedAdapter`, the base of adapters mapped by the
  shared ``[adapter]`` tables (:mod:`govhall_sdk.mapping`);
- :mod:`.transport`: where credentials may go (the configured origin, TLS unless
  loopback or ``allow_http``; no redirect followed by a write);
- :mod:`.signatures` and :mod:`.webhooks`: HMAC primitives, and
  :class:`WebhookVerifier` (signature, timestamp tolerance, replay cache, body
  cap) for the adapters whose helpdesk signs webhooks.

A minimal adapter::

    class Desk(UpdatedSinceWalk, MappedAdapter):
        name = "desk"
        tickets_path = "/api/tickets"          # a JSON list, ordered by updated_at
        ticket_path = "/api/tickets/{id}"
        settings_schema = {**MappedAdapter.settings_schema, "token": None}
        secret_settings = ("token",)

        def auth_headers(self):
            return {"Authorization": f"Bearer {self.settings['token']}"}

        def set_since(self, params, since):
            params["updated_since"] = iso_utc(since)

        def to_interchange(self, raw, warnings):
            m = self.mapping
            kind = m.kind(m.field(raw, "kind"))
            return {"id": str(raw["id"]), "kind": kind, "status": m.status(raw.get("status")),
                    "created_at": raw["created_at"], **m.common(raw, kind)}
"""
from .base import RESTAdapter, missing, records_at
from .cursor import DEFAULT_START, SyncCursor, UpdatedSincePaginator, UpdatedSinceWalk, iso_utc, parse_instant
from .mapped import GOVHALL_ACTOR, MappedAdapter
from .paginators import (
    PAGINATORS, CursorTokenPaginator, LinkHeaderPaginator, OffsetPaginator, PageNumberPaginator, PaginationLoop,
    Paginator,
)
from .retry import HTTPError, RetryPolicy, parse_retry_after
from .signatures import verify_base64_hmac, verify_hub_signature
from .webhooks import MemoryReplayCache, Reason, ReplayCache, Verification, WebhookFormat, WebhookVerifier

__all__ = [
    "RESTAdapter", "MappedAdapter", "UpdatedSinceWalk", "UpdatedSincePaginator", "SyncCursor", "Paginator",
    "OffsetPaginator", "PageNumberPaginator", "CursorTokenPaginator", "LinkHeaderPaginator", "PaginationLoop",
    "PAGINATORS", "HTTPError", "RetryPolicy", "parse_retry_after", "iso_utc", "parse_instant", "records_at",
    "missing", "GOVHALL_ACTOR", "DEFAULT_START", "verify_base64_hmac", "verify_hub_signature",
    "WebhookVerifier", "WebhookFormat", "Verification", "Reason", "ReplayCache", "MemoryReplayCache",
]
