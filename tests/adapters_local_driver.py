"""A :class:`HelpdeskDriver` for the embedded local helpdesk, shared by the sync tests."""
from govhall_adapters.local import LocalAdapter, LocalHelpdesk
from govhall_sdk.testing import HelpdeskDriver


class LocalDriver(HelpdeskDriver):
    def __init__(self, path):
        self.path = path
        self.helpdesk = LocalHelpdesk(path)

    def make_adapter(self, config):
        return LocalAdapter({"path": str(self.path), "seed": "none.json"}, config)

    def seed(self, tickets):
        self.helpdesk.put_many(tickets)

    def touch(self, ticket_id):
        raw = self.helpdesk.get(ticket_id)
        raw.setdefault("events", []).append({"type": "reply", "at": "2025-01-07T10:00:00+08:00", "public": True,
                                             "body": "补充说明", "actor": {"id": "s2", "role": "staff"}})
        self.helpdesk.put(raw)

    def read(self, ticket_id):
        raw = self.helpdesk.get(ticket_id)
        notes = [e["body"] for e in raw.get("events", []) if e["type"] == "reply" and not e.get("public", True)]
        return {"tags": set(raw.get("tags", [])), "fields": raw.get("fields", {}), "notes": notes}
