"""A "12345 hotline platform" of govhall's own design, on the testing kit's FakeHelpdesk.

No vendor documents it: it stands for the many custom 12345 and service-hall
platforms the ``rest`` adapter is for, and its shapes are deliberately unlike
the interchange format and unlike one another:

- ``GET /openapi/v2/workorders?updatedFrom=&pageSize=&cursor=``: work orders
  updated at or after ``updatedFrom`` (``YYYY-MM-DD HH:MM:SS``, Beijing time,
  inclusive), ordered by ``basic.updateTime`` then ``orderNo``; an opaque
  ``data.page.nextCursor`` and ``data.page.hasMore``; ``pageSize`` capped at 50.
  Every answer is wrapped ``{"code": "0000", "message": "成功", "data": ...}``.
- A work order: ``orderNo``; ``basic`` (``title``, ``category`` 咨询/投诉/求助/申请/督办/交办,
  ``source`` 12345热线/电话/网站/微信/窗口/信件, ``state`` 待受理/处理中/待补正/已受理/已办结/已关闭/不予受理,
  ``createTime``, ``updateTime``, naive Beijing times); ``handling`` (``dept.name``,
  ``handler.workNo``/``name``, ``deadline``); ``citizen`` (``name``, ``mobile``);
  ``labels``; ``extAttrs``, a list of ``{"key", "value"}``.
- ``GET /openapi/v2/workorders/{orderNo}``: one work order (404 ``工单不存在``).
- ``GET /openapi/v2/workorders/{orderNo}/flows?pageNum=&pageSize=``: its flow
  records, ``data.total`` and ``data.list`` (``opTime``, ``opType`` 回复/内部备注/受理/办结/催办,
  ``content``, ``visibility`` 公开/内部, ``operator.workNo``/``name``/``identity``
  坐席/市民/系统); ``pageSize`` capped at 20, so a page shorter than asked comes
  before the total.
- ``PUT .../{orderNo}/ext-attrs`` ``{"attrs": [{"key", "value"}]}``; ``POST
  .../labels/add`` and ``.../labels/remove`` ``{"labels": [...]}``; ``POST
  .../notes`` ``{"content", "visibility": "内部"}`` (a flow record by the API user,
  identity 系统). Every change moves ``updateTime`` on by one second.
- Auth: ``Authorization: Bearer <token>``.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from govhall_sdk.testing import Call, FakeHelpdesk, HelpdeskDriver

BASE = "https://hotline.example.gov.cn"
TOKEN = "hl12345-token-Zq81vP"
BEIJING = ZoneInfo("Asia/Shanghai")
CATEGORIES = {"consultation": "咨询", "application": "申请", "complaint": "投诉", "supervision": "督办",
              "assignment": "交办"}
SOURCES = {"hotline": "12345热线", "phone": "电话", "web": "网站", "counter": "窗口", "letter": "信件", "mail": "邮件"}
STATES = {"new": "待受理", "open": "处理中", "pending": "待补正", "accepted": "已受理", "resolved": "已办结",
          "closed": "已关闭", "rejected": "不予受理"}
STAFF = {"s1": "王", "s2": "李", "s3": "赵"}
LIST = r"/openapi/v2/workorders"
ONE = r"/openapi/v2/workorders/([^/]+)"
PAGE_CAP, FLOW_CAP = 50, 20


def ok(data: Any) -> tuple[int, Any]:
    """The platform's envelope of a success."""
    return 200, {"code": "0000", "message": "成功", "data": data}


def local(instant: str) -> str:
    """An interchange instant as the platform writes it: naive Beijing time."""
    return datetime.fromisoformat(instant).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


class Hotline12345(FakeHelpdesk):
    """The platform: work orders, their flows, a clock, and the API user ``api-govhall``."""

    unauthorized = {"code": "4010", "message": "令牌无效"}

    def __init__(self, mock: Any = None, *, token: str = TOKEN, ignore_cursor: bool = False,
                 ignore_page_number: bool = False):
        super().__init__(BASE, mock, auth=f"Bearer {token}")
        self.orders: dict[str, dict[str, Any]] = {}
        self.flows: dict[str, list[dict[str, Any]]] = {}
        self.clock = datetime(2025, 1, 6, 10, 0, 0)
        self.ignore_cursor, self.ignore_page_number = ignore_cursor, ignore_page_number
        self.route("GET", LIST, self.list_orders)
        self.route("GET", ONE, self.get_order, expected=False)
        self.route("GET", ONE + "/flows", self.get_flows, expected=False)
        self.route("PUT", ONE + "/ext-attrs", self.put_attrs, expected=False)
        self.route("POST", ONE + "/labels/(add|remove)", self.post_labels, expected=False)
        self.route("POST", ONE + "/notes", self.post_note, expected=False)

    # ------------------------------------------------------------ state
    def tick(self) -> str:
        """The platform's clock, one second on per change."""
        self.clock += timedelta(seconds=1)
        return self.clock.strftime("%Y-%m-%d %H:%M:%S")

    def add(self, order: dict[str, Any], flows: list[dict[str, Any]] = ()) -> None:
        """Store a work order in the platform's shape, stamped now."""
        order["basic"]["updateTime"] = self.tick()
        self.orders[order["orderNo"]] = order
        self.flows[order["orderNo"]] = list(flows)

    def flow(self, order_no: str, op_type: str, content: str, *, public: bool = True, who: str = "s1",
             identity: str = "坐席", name: str | None = None) -> None:
        """A flow record (a person acting on the work order), which moves its ``updateTime``."""
        at = self.tick()
        self.flows[order_no].append({"flowId": f"F{len(self.flows[order_no]) + 1:03d}", "opTime": at,
                                     "opType": op_type, "content": content, "visibility": "公开" if public else "内部",
                                     "operator": {"workNo": who, "name": name or STAFF.get(who, who),
                                                  "identity": identity}})
        self.orders[order_no]["basic"]["updateTime"] = at

    # ------------------------------------------------------------ routes
    def list_orders(self, call: Call) -> tuple[int, Any]:
        since = call.params.get("updatedFrom", "1970-01-01 00:00:00")
        size = min(int(call.params.get("pageSize", "20")), PAGE_CAP)
        start = 0
        if call.params.get("cursor") and not self.ignore_cursor:
            start = json.loads(base64.urlsafe_b64decode(call.params["cursor"]))["i"]
        found = sorted((o for o in self.orders.values() if o["basic"]["updateTime"] >= since),
                       key=lambda o: (o["basic"]["updateTime"], o["orderNo"]))
        page = found[start:start + size]
        more = start + size < len(found)
        cursor = base64.urlsafe_b64encode(json.dumps({"i": start + size}).encode()).decode() if more else ""
        return ok({"records": page, "page": {"nextCursor": cursor, "hasMore": more}})

    def get_order(self, call: Call, order_no: str) -> tuple[int, Any]:
        if order_no not in self.orders:
            return 404, {"code": "4040", "message": "工单不存在"}
        return ok(self.orders[order_no])

    def get_flows(self, call: Call, order_no: str) -> tuple[int, Any]:
        if order_no not in self.orders:
            return 404, {"code": "4040", "message": "工单不存在"}
        number, size = int(call.params.get("pageNum", "1")), min(int(call.params.get("pageSize", "10")), FLOW_CAP)
        number = 1 if self.ignore_page_number else number
        flows = self.flows[order_no]
        return ok({"total": len(flows), "list": flows[(number - 1) * size:number * size]})

    def put_attrs(self, call: Call, order_no: str) -> tuple[int, Any]:
        attrs = {a["key"]: a for a in self.orders[order_no]["extAttrs"]}
        for item in call.body["attrs"]:
            attrs[item["key"]] = {"key": item["key"], "value": item["value"]}
        self.orders[order_no]["extAttrs"] = list(attrs.values())
        self.orders[order_no]["basic"]["updateTime"] = self.tick()
        return ok(None)

    def post_labels(self, call: Call, order_no: str, action: str) -> tuple[int, Any]:
        labels = self.orders[order_no]["labels"]
        for label in call.body["labels"]:
            if action == "add" and label not in labels:
                labels.append(label)
            elif action == "remove" and label in labels:
                labels.remove(label)
        self.orders[order_no]["basic"]["updateTime"] = self.tick()
        return ok(None)

    def post_note(self, call: Call, order_no: str) -> tuple[int, Any]:
        self.flow(order_no, "内部备注", call.body["content"], public=call.body.get("visibility") != "内部",
                  who="api-govhall", identity="系统", name="govhall")
        return ok({"flowId": self.flows[order_no][-1]["flowId"]})

    # ------------------------------------------------------------ what a person sees
    def attrs(self, order_no: str) -> dict[str, Any]:
        """The work order's extension attributes by key."""
        return {a["key"]: a["value"] for a in self.orders[order_no]["extAttrs"]}

    def internal_notes(self, order_no: str) -> list[str]:
        """The contents of its internal flow records."""
        return [f["content"] for f in self.flows[order_no] if f["visibility"] == "内部"]


def order_from_ticket(ticket: dict[str, Any]) -> dict[str, Any]:
    """An interchange ticket as a work order of the platform."""
    applicant = ticket.get("applicant") or {}
    return {
        "orderNo": ticket["id"],
        "basic": {"title": ticket.get("subject") or ticket["id"], "category": CATEGORIES[ticket["kind"]],
                  "source": SOURCES.get(ticket.get("channel") or "hotline"),
                  "state": STATES[ticket.get("status") or "new"],
                  "createTime": local(ticket["created_at"])},
        "handling": {"dept": {"name": ticket.get("department") or "综合窗口"}, "handler": None, "deadline": None},
        "citizen": {"name": applicant.get("name"), "mobile": applicant.get("phone")},
        "labels": list(ticket.get("tags") or []),
        "extAttrs": [],
    }


class HotlineDriver(HelpdeskDriver):
    """The conformance suite's way into the fake: seed work orders, touch one, read what govhall wrote."""

    def __init__(self, desk: Hotline12345, make: Any):
        self.desk, self.make = desk, make

    def make_adapter(self, config: Any) -> Any:
        return self.make(config)

    def seed(self, tickets: list[dict[str, Any]]) -> None:
        for ticket in tickets:
            order = order_from_ticket(ticket)
            self.desk.add(order)
            for event in ticket.get("events", []):
                who = (event.get("actor") or {}).get("id", "s1")
                self.desk.flow(order["orderNo"], "回复", event.get("body", ""), public=event.get("public", True),
                               who=who)

    def touch(self, ticket_id: str) -> None:
        self.desk.flow(ticket_id, "回复", "补充说明", who="s2")

    def read(self, ticket_id: str) -> dict[str, Any]:
        return {"tags": set(self.desk.orders[ticket_id]["labels"]), "fields": self.desk.attrs(ticket_id),
                "notes": self.desk.internal_notes(ticket_id)}
