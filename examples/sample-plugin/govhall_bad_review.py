"""A sample third-party rule plugin for govhall (好差评: answer a bad review quickly).

When an applicant gives a rating of 1 or 2, staff must reply publicly within
``reply_working_days`` (default 1) working days. The plugin shows the three
things a rule plugin does: declare its codes (``govhall_register_rules``), its
policy keys (``govhall_register_policies``) and evaluate a ticket
(``govhall_evaluate_ticket``) with a clock built by ``ctx.clock``.

Install it beside govhall-sdk (``pip install -e examples/sample-plugin``) and
``govhall rules`` lists ``sample.bad_review_unanswered``.
"""
from govhall_sdk import RuleInfo, RuleResult, hookimpl

RULE = "bad_review"
UNANSWERED = RuleInfo(
    "sample.bad_review_unanswered", RULE, "violation", "政务服务“好差评”制度（示例）",
    text="对差评事项，应在1个工作日内回复办事群众并整改。",
    action="请在期限内联系申请人，说明情况并整改。",
    action_en="Contact the applicant within the limit, explain and fix the problem.",
    clock="bad_review_reply", thresholds=("reply_working_days",),
)


@hookimpl
def govhall_register_rules(register):
    """One code."""
    register(UNANSWERED)


@hookimpl
def govhall_register_policies(register):
    """``[policy.bad_review] reply_working_days``."""
    register(RULE, {"reply_working_days": 1})


@hookimpl
def govhall_evaluate_ticket(ticket, ctx):
    """A ``bad_review_reply`` clock from the first rating <= 2 to the next public staff reply."""
    bad = next((e for e in ticket.events if e.type == "evaluation" and e.rating <= 2), None)
    if bad is None:
        return None
    answer = next((e.at for e in ticket.events
                   if e.type == "reply" and e.public and e.by_staff and e.at > bad.at), None)
    clock = ctx.clock("bad_review_reply", RULE, bad.at,
                      working_days=ctx.policy(RULE)["reply_working_days"], stopped_at=answer)
    findings = []
    if clock.late:
        due = ctx.fmt(clock.due_at)
        findings.append(UNANSWERED.finding(
            ctx, f"差评（{bad.rating}分）未在 {due} 前回复申请人。",
            f"A bad review ({bad.rating}) was not answered by {due}.", due_at=clock.due_at))
    return RuleResult([clock], findings)
