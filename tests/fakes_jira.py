"""A stateful fake Jira Service Management on ``responses``: the endpoints the adapter uses, shaped like the docs.

- ``POST /rest/api/3/search/jql``: ``{"jql", "fields", "expand", "maxResults",
  "nextPageToken", "reconcileIssues"}`` -> ``{"issues", "nextPageToken", "isLast"}``. The JQL
  understood is the adapter's: ``(project = GOV) [AND updated >= 'yyyy/MM/dd HH:mm']
  ORDER BY updated ASC, key ASC`` (the date read in the API user's time zone, at
  minute precision) and ``key in ("GOV-1", ...)`` (400 when a key does not exist);
  a page holds at most 100 issues (5,000 when only ``id`` or ``key`` is asked for).
- ``GET /rest/api/3/issue/{key}``, ``.../comment`` (``startAt``/``maxResults``/``total``)
  and ``.../changelog`` (``values``, ``isLast``); ``fields.comment`` of a search
  holds at most ``comment_page`` comments, like Jira's.
- ``PUT /rest/api/3/issue/{key}`` (``update.labels`` add/remove, ``fields``; a
  number field refuses a string and a text field a number) -> 204, with a changelog
  entry by the API user whose ``created`` is the issue's new ``updated``.
- ``POST /rest/api/3/comment/list`` ``{"ids"}`` -> the comments that still exist.
- ``POST /rest/servicedeskapi/request/{key}/comment`` ``{"body", "public"}``: the
  body is rendered as wiki markup into the ADF the platform API returns: a
  ``[link]`` loses its brackets, a ``{noformat}`` block is kept verbatim.
- ``POST /rest/api/3/issue/{key}/comment`` with an ADF body and properties.
A new comment's ``created`` is the issue's new ``updated``. Every answer carries
``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` (a budget of 100 that refills once the
fake's clock moves) and ``X-RateLimit-NearLimit: true`` below 20 % of it.
Timestamps are Jira's ``2025-01-06T09:30:00.000+0800``. Built on the testing kit's
:class:`~govhall_sdk.testing.FakeHelpdesk`.
"""
from __future__ import annotations

import base64
import itertools
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from govhall_adapters.jira import JiraAdapter
from govhall_sdk.rest import RetryPolicy
from govhall_sdk.testing import FakeHelpdesk, HelpdeskDriver, IdMappedAdapter

BASE = "https://zwfw-test.atlassian.net"
EMAIL = "govhall-bot@zwfw.example.gov.cn"
TOKEN = "ATATT3xJiraTOKEN-51c0ffee"
PROJECT = "GOV"
SHANGHAI = ZoneInfo("Asia/Shanghai")

FIELDS = {  # name -> (id, kind)
    "事项类型": ("customfield_10050", "select"), "承办部门": ("customfield_10051", "select"),
    "承诺时限": ("customfield_10052", "number"), "受理时间": ("customfield_10053", "datetime"),
    "govhall_light": ("customfield_10060", "text"), "govhall_due_at": ("customfield_10061", "text"),
    "govhall_first_inquiry": ("customfield_10062", "text"), "govhall_first_handler": ("customfield_10063", "text"),
    "govhall_escalation_level": ("customfield_10064", "number"), "govhall_escalated_to": ("customfield_10065", "text"),
}
REQUEST_TYPE_FIELD = "customfield_10010"
KIND_VALUES = {"咨询": "consultation", "办件": "application", "投诉": "complaint", "督办": "supervision", "交办": "assignment"}
STATUS = {"new": ("待处理", "new"), "open": ("处理中", "indeterminate"), "pending": ("等待客户", "indeterminate"),
          "accepted": ("已受理", "indeterminate"), "resolved": ("已办结", "done"), "closed": ("已关闭", "done")}


def adapter_settings(**overrides: Any) -> dict[str, Any]:
    """The ``[adapter]`` table the tests use."""
    settings = {
        "type": "jira", "url": BASE, "email": EMAIL, "api_token": TOKEN, "jql": f"project = {PROJECT}",
        "jql_timezone": "Asia/Shanghai", "default_kind": "consultation",
        "custom_fields": {name: fid for name, (fid, _) in FIELDS.items()},
        "fields": {"kind": "customfield_10050.value|customfield_10010.requestType.name",
                   "department": "customfield_10051.value", "promised_working_days": "承诺时限", "accepted_at": "受理时间"},
        "kinds": {"不动产登记申请": "application"},
        "statuses": {"已受理": "accepted"},
        "forms": {"不动产登记申请": {"promised_working_days": 5, "materials": ["身份证", "不动产权证书"]}},
        "agents": {"5b10a2844c20165700ede21g": {"rank": 1, "department": "综合窗口"}},
        "status_events": {"已受理": {"type": "acceptance", "notice_issued": True}, "已办结": "completion"},
        "assignees": {"王主任": {"accountId": "5b10ac8d82e05b22cc7d4ef5"}},
    }
    settings.update(overrides)
    return settings


def jira_time(instant: datetime) -> str:
    """Jira's timestamp form: ``2025-01-06T09:30:00.000+0800``."""
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S.000%z")


def wiki_to_adf(text: str) -> dict[str, Any]:
    """What Jira stores for a wiki-markup body: ``{noformat}`` verbatim, ``[x]`` as a link to x, lines as paragraphs."""
    content: list[dict[str, Any]] = []
    for i, part in enumerate(re.split(r"\{noformat\}", text)):
        if i % 2 == 1:
            content.append({"type": "codeBlock", "attrs": {}, "content": [{"type": "text", "text": part}]})
            continue
        for line in part.strip("\n").split("\n"):
            if not line:
                continue
            nodes = []
            for j, piece in enumerate(re.split(r"\[([^\]]+)\]", line)):
                if not piece:
                    continue
                nodes.append({"type": "text", "text": piece, "marks": [{"type": "link", "attrs": {"href": piece}}]}
                             if j % 2 else {"type": "text", "text": piece})
            content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def text_of(adf: dict[str, Any]) -> str:
    """The text of the fake's own ADF (paragraphs and code blocks)."""
    return "\n".join("".join(n.get("text", "") for n in block.get("content", [])) for block in adf["content"])


class FakeJira(FakeHelpdesk):
    """The helpdesk's state and the HTTP callbacks that read and change it."""

    unauthorized = {"errorMessages": ["Client must be authenticated to access this resource."]}

    def __init__(self, rsps: Any):
        super().__init__(BASE, rsps, auth="Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode())
        self.issues: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.histories: dict[str, list[dict[str, Any]]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.numbers = itertools.count(1)
        self.ids = itertools.count(10001)
        self.clock = datetime(2025, 3, 1, 9, 0, tzinfo=SHANGHAI)
        self.user_tz = SHANGHAI
        self.comment_page = 5
        self.search_changelog_cap = 40
        self.honour_internal_property = True  # False: sd.public.comment ignored, a platform comment is public
        self.rate_limit = 100
        self.remaining = self.rate_limit
        self._refilled_at = self.clock
        self.bot = self.add_user("5b10a2844c20165700ede000", "govhall bot", "atlassian")
        self.add_user("5b10ac8d82e05b22cc7d4ef5", "王主任", "atlassian")
        routes = [
            ("POST", r"/rest/api/3/search/jql", self._search),
            ("GET", r"/rest/api/3/myself", self._myself),
            ("POST", r"/rest/api/3/comment/list", self._comments_by_ids),
            ("GET", r"/rest/api/3/issue/([A-Z]+-\d+)/comment", self._list_comments),
            ("GET", r"/rest/api/3/issue/([A-Z]+-\d+)/changelog", self._changelog),
            ("GET", r"/rest/api/3/issue/([A-Z]+-\d+)", self._get_issue),
            ("PUT", r"/rest/api/3/issue/([A-Z]+-\d+)", self._edit),
            ("POST", r"/rest/api/3/issue/([A-Z]+-\d+)/comment", self._add_platform_comment),
            ("POST", r"/rest/servicedeskapi/request/([A-Z]+-\d+)/comment", self._add_request_comment),
        ]
        for method, pattern, handler in routes:
            self.route(method, pattern, lambda call, *groups, h=handler: h(call.params, call.body, *groups),
                       expected=False)

    # -- plumbing

    # "Rate limiting" (developer.atlassian.com/cloud/jira/platform/rate-limiting/, as quoted in JRACLOUD-69262):
    # X-RateLimit-Limit, X-RateLimit-Remaining, and X-RateLimit-NearLimit "When true, indicates that less than 20%
    # of any budget remains". The budget here refills whenever the fake's clock has moved (a burst budget).
    def served_headers(self, call: Any, served: bool) -> dict[str, str]:
        if not served:
            return {}
        if self.clock != self._refilled_at:
            self.remaining, self._refilled_at = self.rate_limit, self.clock
        self.remaining = max(0, self.remaining - 1)
        headers = {"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Remaining": str(self.remaining)}
        if self.remaining < self.rate_limit * 0.2:
            headers["X-RateLimit-NearLimit"] = "true"
        return headers

    def throttle(self, method: str, path: str, times: int, retry_after: int, body: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        """The next ``times`` matching requests get 429 with ``Retry-After`` and Jira's ``RateLimit-Reason``."""
        super().throttle(method, path, times, retry_after, body, {"RateLimit-Reason": "jira-burst-based", **(headers or {})})

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=7)
        return self.clock

    def user_json(self, account_id: str) -> dict[str, Any]:
        u = self.users[account_id]
        return {"self": f"{BASE}/rest/api/3/user?accountId={account_id}", "accountId": account_id,
                "displayName": u["displayName"], "active": True, "timeZone": "Asia/Shanghai",
                "accountType": u["accountType"]}

    # -- state changes a person makes

    def add_user(self, account_id: str, name: str, account_type: str) -> dict[str, Any]:
        self.users[account_id] = {"accountId": account_id, "displayName": name, "accountType": account_type}
        return self.users[account_id]

    def create_issue(self, *, summary: str, reporter: str, created: datetime, status: str = "open",
                     fields: dict[str, Any] | None = None, labels: list[str] | None = None,
                     request_type: str | None = None) -> str:
        key = f"{PROJECT}-{next(self.numbers)}"
        name, category = STATUS[status]
        values = {fid: None for fid, _ in FIELDS.values()}
        values.update(fields or {})
        self.issues[key] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": str(next(self.ids)), "self": f"{BASE}/rest/api/3/issue/{key}", "key": key,
            "fields": {
                "summary": summary, "created": jira_time(created), "updated": jira_time(created),
                "status": {"self": f"{BASE}/rest/api/3/status/3", "name": name, "id": "3",
                           "statusCategory": {"id": 4, "key": category, "name": name}},
                "labels": list(labels or []), "reporter": self.user_json(reporter), "assignee": None,
                "issuetype": {"id": "10004", "name": "Service Request", "subtask": False},
                "resolutiondate": jira_time(created) if category == "done" else None, "duedate": None,
                "project": {"id": "10000", "key": PROJECT, "name": "政务服务中心"},
                REQUEST_TYPE_FIELD: ({"requestType": {"id": "21", "name": request_type}, "currentStatus": {"status": name}}
                                     if request_type else None),
                **values,
            },
        }
        self.comments[key] = []
        self.histories[key] = []
        self.touched(key)
        return key

    def touched(self, key: str) -> None:
        self.issues[key]["fields"]["updated"] = jira_time(self.tick())

    def add_comment(self, key: str, author: str, body: Any, public: bool = True, at: datetime | None = None,
                    bump: bool = True, properties: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A comment made now (its ``created`` becomes the issue's ``updated``), or at ``at`` (seeding: the
        issue is then updated now).

        That a new comment's ``created`` and the issue's new ``updated`` are the same instant (as an edit's
        changelog entry and the issue's ``updated`` are) is not stated in Jira's docs; the adapter only counts
        on it to recognise its own echo, and where the stamps differ it reads the issue again.
        """
        made_now = at is None
        at = at or self.tick()
        cid = str(next(self.ids))
        comment = {"self": f"{BASE}/rest/api/3/issue/{key}/comment/{cid}", "id": cid, "author": self.user_json(author),
                   "body": body if isinstance(body, dict) else wiki_to_adf(body), "updateAuthor": self.user_json(author),
                   "created": jira_time(at), "updated": jira_time(at), "jsdPublic": public,
                   **({"properties": properties} if properties else {})}
        self.comments[key].append(comment)
        if bump and made_now:
            self.issues[key]["fields"]["updated"] = comment["created"]
        elif bump:
            self.touched(key)
        return comment

    def transition(self, key: str, status: str, author: str) -> None:
        name, category = STATUS[status]
        old = self.issues[key]["fields"]["status"]["name"]
        self.issues[key]["fields"]["status"] = {"name": name, "id": "3", "statusCategory": {"key": category, "name": name}}
        at = self.tick()
        self.histories[key].append({"id": str(next(self.ids)), "author": self.user_json(author), "created": jira_time(at),
                                    "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status",
                                               "from": "1", "fromString": old, "to": "3", "toString": name}]})
        self.issues[key]["fields"]["updated"] = jira_time(at)

    # -- endpoints

    def _project(self, issue: dict[str, Any], fields: list[str], expand: str, cap: int) -> dict[str, Any]:
        key = issue["key"]
        out = {k: issue[k] for k in ("expand", "id", "self", "key")}
        wanted = set(fields)
        out["fields"] = {k: v for k, v in issue["fields"].items() if k in wanted or "*all" in wanted}
        if "comment" in wanted:
            comments = self.comments[key]
            out["fields"]["comment"] = {"comments": comments[:self.comment_page], "self": f"{issue['self']}/comment",
                                        "maxResults": self.comment_page, "total": len(comments), "startAt": 0}
        if "changelog" in (expand or "").split(","):
            # expand=changelog "Returns a list of recent updates to an issue, sorted by date, starting from the most
            # recent" ("Search for issues using JQL enhanced search", developer.atlassian.com/cloud/jira/platform/rest/
            # v3/api-group-issue-search/): capped, at 40 in /search/jql (Atlassian's migration notes for the enhanced
            # search; "Avoiding Pitfalls: A Guide to Smooth Migration to Enhanced JQL APIs") and 100 on the issue
            # itself, the oldest entries lost. Its total here is the entries returned: nothing to trust.
            histories = list(reversed(self.histories[key]))[:cap]
            out["changelog"] = {"startAt": 0, "maxResults": cap, "total": len(histories), "histories": histories}
        return out

    def _search(self, params: dict[str, str], body: Any) -> tuple[int, Any]:
        jql = body.get("jql", "")
        if not isinstance(body.get("fields"), list) or not isinstance(body.get("expand", ""), str):
            return 400, {"errorMessages": ["Invalid request payload. Refer to the REST API documentation and try again."]}
        keys = re.fullmatch(r'key in \((.*)\)', jql)
        if keys:
            wanted = [k.strip().strip('"') for k in keys.group(1).split(",")]
            missing = [k for k in wanted if k not in self.issues]
            if missing:
                return 400, {"errorMessages": [f"An issue with key '{missing[0]}' does not exist for field 'key'."],
                             "warningMessages": []}
            found = [self.issues[k] for k in wanted]
        else:
            date = r"'(\d{4}/\d\d/\d\d(?: \d\d:\d\d)?)'"
            m = re.fullmatch(rf"\(project = (\w+)\)(?: AND updated >= {date})?(?: AND updated <= {date})? "
                             r"ORDER BY updated ASC, key ASC", jql)
            if not m or m.group(1) != PROJECT:
                return 400, {"errorMessages": [f"Error in the JQL Query: {jql!r}"], "warningMessages": []}
            low, high = (self._jql_date(m.group(2)), self._jql_date(m.group(3)))
            found = [i for i in self.issues.values()
                     if (low is None or datetime.fromisoformat(i["fields"]["updated"]) >= low)
                     and (high is None or datetime.fromisoformat(i["fields"]["updated"]) <= high)]
            found.sort(key=lambda i: (datetime.fromisoformat(i["fields"]["updated"]), int(i["key"].split("-")[1])))
        refused = self._unreconcilable(body.get("reconcileIssues"))
        if refused:
            return 400, {"errorMessages": [refused], "warningMessages": []}
        size = min(int(body.get("maxResults", 50)), self._page_cap(body["fields"]))
        start = int(base64.b64decode(body["nextPageToken"]).decode()) if body.get("nextPageToken") else 0
        page = found[start:start + size]
        out: dict[str, Any] = {"issues": [self._project(i, body["fields"], body.get("expand", ""), self.search_changelog_cap) for i in page],
                               "isLast": start + size >= len(found)}
        if not out["isLast"]:
            out["nextPageToken"] = base64.b64encode(str(start + size).encode()).decode()
        return 200, out

    # "Search for issues using JQL enhanced search": maxResults "The maximum number of items to return per page. To
    # manage page size, API may return fewer items per page where a large number of fields are requested. The
    # greatest number of items returned per page is achieved when requesting id or key only. It returns max 5000
    # issues." (developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/); 100 per page otherwise,
    # as the public documentation is quoted in ECO-1010 (jira.atlassian.com/browse/ECO-1010).
    @staticmethod
    def _page_cap(fields: list[str]) -> int:
        return 5000 if set(fields) <= {"id", "key"} else 100

    # reconcileIssues: "Strong consistency issue ids to be reconciled with search results. Accepts max 50 ids. All
    # issues must exist." (the same operation). The fake's index never lags, so reconciling changes nothing else.
    def _unreconcilable(self, ids: Any) -> str | None:
        if ids is None:
            return None
        known = {issue["id"] for issue in self.issues.values()}
        if not isinstance(ids, list) or len(ids) > 50:
            return "reconcileIssues: at most 50 issue ids"
        missing = [i for i in ids if str(i) not in known]
        return f"reconcileIssues: no issue with id {missing[0]}" if missing else None

    def _jql_date(self, text: str | None) -> datetime | None:
        """A JQL date literal read in the API user's zone, as Jira does."""
        if text is None:
            return None
        form = "%Y/%m/%d %H:%M" if " " in text else "%Y/%m/%d"
        return datetime.strptime(text, form).replace(tzinfo=self.user_tz)

    def _myself(self, params: dict[str, str], body: Any) -> tuple[int, Any]:
        me = self.user_json(self.bot["accountId"])
        return 200, {**me, "emailAddress": EMAIL, "locale": "zh_CN", "timeZone": str(self.user_tz)}

    def _get_issue(self, params: dict[str, str], body: Any, key: str) -> tuple[int, Any]:
        if key not in self.issues:
            return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}
        return 200, self._project(self.issues[key], params.get("fields", "*all").split(","), params.get("expand", ""), 100)

    def _list_comments(self, params: dict[str, str], body: Any, key: str) -> tuple[int, Any]:
        if key not in self.issues:
            return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}
        start, size = int(params.get("startAt", 0)), min(int(params.get("maxResults", 100)), 100)
        comments = self.comments[key]
        return 200, {"comments": comments[start:start + size], "maxResults": size, "total": len(comments), "startAt": start}

    # "Get changelogs" (developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/
    # #api-rest-api-3-issue-issueidorkey-changelog-get): "a paginated list of all changelogs for an issue sorted by
    # date, starting from the oldest", startAt / maxResults (at most 100) / total / isLast / values.
    # "Get comments by IDs" (developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/
    # #api-rest-api-3-comment-list-post): "Returns a paginated list of comments specified by a list of comment IDs",
    # {"ids"} of "A maximum of 1000 IDs" -> PageBeanComment (isLast, maxResults, startAt, total, values); a deleted
    # comment is simply not among the values.
    def _comments_by_ids(self, params: dict[str, str], body: Any) -> tuple[int, Any]:
        ids = (body or {}).get("ids")
        if not isinstance(ids, list) or len(ids) > 1000:
            return 400, {"errorMessages": ["ids: a list of at most 1000 comment ids"], "errors": {}}
        wanted = {str(i) for i in ids}
        found = [c for comments in self.comments.values() for c in comments if c["id"] in wanted]
        return 200, {"isLast": True, "maxResults": 1000, "startAt": 0, "total": len(found), "values": found}

    def _changelog(self, params: dict[str, str], body: Any, key: str) -> tuple[int, Any]:
        start, size = int(params.get("startAt", 0)), min(int(params.get("maxResults", 100)), 100)
        values = self.histories[key][start:start + size]
        return 200, {"self": f"{BASE}/rest/api/3/issue/{key}/changelog", "maxResults": size, "startAt": start,
                     "total": len(self.histories[key]), "isLast": start + size >= len(self.histories[key]), "values": values}

    def _edit(self, params: dict[str, str], body: Any, key: str) -> tuple[int, Any]:
        if key not in self.issues:
            return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}
        kinds = {fid: kind for fid, kind in FIELDS.values()}
        errors = {}
        for fid, value in (body.get("fields") or {}).items():
            if fid == "assignee":
                if value and value.get("accountId") not in self.users:
                    errors[fid] = f"User '{value.get('accountId')}' cannot be assigned issues."
                continue
            if fid not in kinds:
                errors[fid] = f"Field '{fid}' cannot be set. It is not on the appropriate screen, or unknown."
            elif value is not None and kinds[fid] == "number" and not isinstance(value, (int, float)):
                errors[fid] = "Operation value must be a number."
            elif value is not None and kinds[fid] == "text" and not isinstance(value, str):
                errors[fid] = "Operation value must be a string"
        if errors:
            return 400, {"errorMessages": [], "errors": errors}
        fields = self.issues[key]["fields"]
        before = {k: (list(v) if isinstance(v, list) else v) for k, v in fields.items()}
        for op in ((body.get("update") or {}).get("labels") or []):
            if "add" in op and op["add"] not in fields["labels"]:
                fields["labels"].append(op["add"])
            if "remove" in op and op["remove"] in fields["labels"]:
                fields["labels"].remove(op["remove"])
        for fid, value in (body.get("fields") or {}).items():
            if fid == "assignee":
                fields["assignee"] = self.user_json(value["accountId"]) if value else None
            else:
                fields[fid] = float(value) if isinstance(value, int) and kinds[fid] == "number" else value
        self.touched(key)
        self._record_edit(key, before, self.bot["accountId"])
        return 204, None

    # An edit is recorded in the issue's changelog ("Get changelogs": "a paginated list of all changelogs for an
    # issue", each with its author, created and items), by whoever made it (the API user here), at the instant it
    # became the issue's updated.
    def _record_edit(self, key: str, before: dict[str, Any], author: str) -> None:
        fields = self.issues[key]["fields"]
        items = [{"field": fid, "fieldtype": "jira" if fid in ("labels", "assignee") else "custom", "fieldId": fid,
                  "fromString": _shown(before.get(fid)), "toString": _shown(value)}
                 for fid, value in fields.items() if fid != "updated" and before.get(fid) != value]
        if items:
            self.histories[key].append({"id": str(next(self.ids)), "author": self.user_json(author),
                                        "created": fields["updated"], "items": items})

    def _add_request_comment(self, params: dict[str, str], body: Any, key: str) -> tuple[int, Any]:
        if key not in self.issues:
            return 404, {"errorMessage": "The request does not exist.", "i18nErrorMessage": {}}
        if not isinstance(body.get("body"), str):
            return 400, {"errorMessage": "body: a string is required", "i18nErrorMessage": {}}
        c = self.add_comment(key, self.bot["accountId"], body["body"], bool(body.get("public", True)))
        at = datetime.fromisoformat(c["created"])
        return 201, {"id": c["id"], "body": body["body"], "public": c["jsdPublic"], "author": self.user_json(self.bot["accountId"]),
                     "created": {"iso8601": at.isoformat(), "jira": c["created"], "friendly": "Today",
                                 "epochMillis": int(at.timestamp() * 1000)},
                     "_links": {"self": f"{BASE}/rest/servicedeskapi/request/{key}/comment/{c['id']}"}}

    def _add_platform_comment(self, params: dict[str, str], body: Any, key: str) -> tuple[int, Any]:
        if key not in self.issues:
            return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}
        if not isinstance(body.get("body"), dict) or body["body"].get("type") != "doc":
            return 400, {"errorMessages": ["Comment body is not valid!"], "errors": {}}
        # Making a platform comment internal through the sd.public.comment property is not in the platform API's
        # reference ("Add comment", developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/);
        # honour_internal_property = False is a site where it does not work. The answer's jsdPublic says which.
        internal = self.honour_internal_property and any(
            p.get("key") == "sd.public.comment" and (p.get("value") or {}).get("internal") for p in body.get("properties") or [])
        return 201, self.add_comment(key, self.bot["accountId"], body["body"], not internal,
                                     properties=body.get("properties"))


def _shown(value: Any) -> str | None:
    """A field value as a changelog's ``fromString`` / ``toString`` shows it."""
    if value is None:
        return None
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return str(value.get("displayName") or value.get("value") or value)
    return str(value)


class JiraDriver(HelpdeskDriver):
    """Drives :class:`FakeJira` for the conformance suite; ``sleeps`` records every wait."""

    def __init__(self, rsps: Any):
        self.fake = FakeJira(rsps)
        self.sleeps: list[float] = []
        self.ids: dict[str, str] = {}
        self.people: dict[str, str] = {}

    def adapter(self, config: Any, **overrides: Any) -> JiraAdapter:
        """The real adapter on the fake: its sleep recorded, its wall clock the fake's."""
        adapter = JiraAdapter(adapter_settings(**overrides), config, sleep=self.sleeps.append,
                              retry=RetryPolicy(attempts=6, base=0.01, max_wait=60))
        adapter.clock = lambda: self.fake.clock
        return adapter

    def later(self, minutes: int = 10) -> None:
        """Let time pass on the helpdesk (the search index catches up)."""
        self.fake.clock += timedelta(minutes=minutes)

    def make_adapter(self, config: Any) -> Any:
        return IdMappedAdapter(self.adapter(config), self.ids)

    def person(self, actor: dict[str, Any] | None, reporter: str) -> str:
        if not actor or actor.get("role") == "applicant":
            return reporter
        if actor["id"] not in self.people:
            account = f"5b10a2844c20165700ede2{len(self.people):02d}"
            self.fake.add_user(account, actor.get("name") or actor["id"], "atlassian")
            self.people[actor["id"]] = account
        return self.people[actor["id"]]

    def seed(self, tickets: list[dict[str, Any]]) -> None:
        kinds = {v: k for k, v in KIND_VALUES.items()}
        happened = [datetime.fromisoformat(at) for t in tickets
                    for at in (t["created_at"], *(e["at"] for e in t.get("events", [])))]
        self.fake.clock = max([self.fake.clock, *happened])  # the helpdesk's now is after all that happened on it
        for t in tickets:
            reporter = f"qm:{len(self.fake.users):04d}"
            self.fake.add_user(reporter, (t.get("applicant") or {}).get("name") or "群众", "customer")
            fields = {FIELDS["事项类型"][0]: {"self": f"{BASE}/rest/api/3/customFieldOption/1", "value": kinds[t["kind"]], "id": "1"}}
            if t.get("department"):
                fields[FIELDS["承办部门"][0]] = {"value": t["department"], "id": "2"}
            key = self.fake.create_issue(summary=t.get("subject") or "", reporter=reporter,
                                         created=datetime.fromisoformat(t["created_at"]), status=t.get("status") or "open",
                                         fields=fields, labels=t.get("tags"))
            for e in t.get("events", []):
                if e["type"] == "reply":
                    self.fake.add_comment(key, self.person(e.get("actor"), reporter), e.get("body", ""), e.get("public", True),
                                          at=datetime.fromisoformat(e["at"]))
            self.ids[t["id"]] = key
        self.later()

    def touch(self, ticket_id: str) -> None:
        key = self.ids[ticket_id]
        self.fake.add_comment(key, self.person({"id": "s2"}, ""), "补充说明")
        self.later()

    def read(self, ticket_id: str) -> dict[str, Any]:
        key = self.ids[ticket_id]
        f = self.fake.issues[key]["fields"]
        names = {fid: name for name, (fid, _) in FIELDS.items()}
        fields = {names[k]: (int(v) if isinstance(v, float) and v.is_integer() else v)
                  for k, v in f.items() if k in names and v is not None}
        notes = [text_of(c["body"]) for c in self.fake.comments[key] if not c["jsdPublic"]]
        return {"tags": set(f["labels"]), "fields": fields, "notes": notes}
