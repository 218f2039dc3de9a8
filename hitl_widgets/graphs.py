"""The finished graph of each stage, so every notebook can start on a fresh kernel.

- `build_agent_graph` (notebook 02): agent <-> tools, no human. It will order stock
  nobody approved; that is the point of the lesson.
- `build_review_graph` (notebooks 04-09): agent -> review -> execute -> agent. The review
  node asks a human about each proposed call with `interrupt()`; `execute` runs only
  the calls a human approved or edited. It fails closed: the approved calls live in a
  declared state key that starts empty, and every decision passes `check_decision`.
- `build_parallel_review_graph` (notebook 09): the same review, one task per proposed
  call (a `Send` fan-out), so all the calls of a model turn wait together and each is
  answered by its interrupt id.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.config import get_config
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode
from langgraph.types import Overwrite, Send, interrupt
from pydantic import BaseModel, ValidationError
from typing_extensions import TypedDict

from ._deadlines import DeadlineGuard, automatic_channel, escalation_note, late_reason, marks
from .audit import AuditLog
from .errors import DecisionError
from .expiry import NO_DECISION, Deadline, Escalate, Expiry, Rule
from .policy import Allow, Ask, Context, Deny, ToolCall, matches, suggest_pattern
from .policy import Policy as GovernancePolicy
from .protocol import (
    DECISION_TYPES,
    DEFAULT_DECISIONS,
    as_dict,
    call_fingerprint,
    check_decision,
    decision_schema,
    edit_note,
    envelope_schema,
    rejection_message,
    review_request,
    signature_is_valid,
)

AUTO_APPROVE = "auto"
"""A policy value: the tool runs without asking (use it only for read-only tools)."""


class AgentState(TypedDict):
    """Only what the graph needs; a key a node returns that is not declared is dropped."""

    messages: Annotated[list[AnyMessage], add_messages]


class ReviewState(AgentState):
    approved_calls: list[dict[str, Any]]
    """The calls a human approved (or edited) in the last review: all that `execute` runs."""
    reviews: Annotated[list[dict[str, Any]], operator.add]
    """Every decision made in this thread, kept with it by the checkpointer: the audit trail."""


def review_record(call: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
    """One line of the audit trail: who was asked what, and what they decided."""
    edited = decision.get("edited_action", {}).get("args")
    return {
        "tool": call["name"],
        "call_id": call["id"],
        "decision": decision["type"],
        "args": call["args"],
        "edited_args": edited,
        "message": decision.get("message", ""),
        **marks(decision),
    }


def last_tool_calls(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tool calls of the last message, when it is an AI message that made any."""
    messages = state.get("messages") or []
    last = messages[-1] if messages else None
    return [dict(call) for call in last.tool_calls] if isinstance(last, AIMessage) else []


def _agent_node(model: BaseChatModel, tools: Sequence[BaseTool]):
    bound = model.bind_tools(list(tools))

    def agent(state: AgentState) -> dict[str, Any]:
        return {"messages": [bound.invoke(state["messages"])]}

    return agent


def build_agent_graph(model: BaseChatModel, tools: Sequence[BaseTool], checkpointer: Any = None):
    """Notebook 02: the model calls tools in a loop until it answers. No human."""
    builder = StateGraph(AgentState)
    builder.add_node("agent", _agent_node(model, tools))
    builder.add_node("tools", ToolNode(list(tools)))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", lambda s: "tools" if last_tool_calls(s) else END, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=checkpointer)


Policy = Mapping[str, Sequence[str] | str]


def decision_update(call: dict[str, Any], decision: dict[str, Any], reviews: list) -> dict[str, list]:
    """The state update a checked decision makes: what may run, or what the model reads instead."""
    update: dict[str, list] = {"reviews": reviews}
    if decision["type"] == "approve":
        update["approved_calls"] = [bound_call(call)]
    elif decision["type"] == "edit":
        update["approved_calls"] = [bound_call(call, decision["edited_action"]["args"])]
    elif decision["type"] == "reject":
        update["messages"] = [rejection_message(call, decision.get("message", ""))]
    else:
        update["messages"] = [ToolMessage(decision["message"], tool_call_id=call["id"], name=call["name"])]
    return update


def expired_records(call: dict[str, Any], answer: dict[str, Any], deadline: Deadline, rule: Rule, label: str) -> list:
    """What a request that expired adds to the trail: the late answer refused (unless a sweeper sent
    it: nobody decided), then the default the deadline applied, as automatic, by the rule."""
    channel = automatic_channel(answer)
    records = []
    if channel != "sweeper":
        late = review_record(call, answer)
        records.append({**late, "decision": "late", "late_decision": answer["type"], "message": late_reason(deadline)})
    default = (
        {"type": "escalate", "message": escalation_note(rule)}
        if isinstance(rule, Escalate)
        else {"type": "reject", "message": rule.message}
    )
    reason = f"{NO_DECISION} (expired at {deadline.fields()['expires_at']})"
    records.append(
        {**review_record(call, default), "automatic": True, "by": f"deadline rule {label}", "channel": channel}
        | {"reason": reason}
    )
    return records


def _escalated(request: dict[str, Any], level: int, first: Rule) -> dict[str, Any]:
    """An escalated request says whom it now waits for."""
    return {**request, "escalated_to": first.to} if level and isinstance(first, Escalate) else request


def _review_with_deadline(call, tool, allowed, guard: DeadlineGuard, rule: Rule) -> dict[str, list]:
    """`interrupt()` with a deadline: a decision that reaches the node late never runs, the default does."""
    thread_id, _ = _run_identity()
    base = f"{thread_id}:{_task_key()}:{call['id']}"
    schema = decision_schema(tool, allowed)
    first, level = rule, 0
    reviews: list[dict[str, Any]] = []
    while True:
        deadline = guard.deadline(f"{base}:{level}", thread_id, rule)
        request = _escalated({**review_request(call, tool, allowed), **deadline.fields()}, level, first)
        answer = as_dict(interrupt(request, response_schema=schema))
        if not guard.is_late(f"{base}:{level}", thread_id, deadline):
            decision = check_decision(answer, call, tool, allowed)
            return decision_update(call, decision, [*reviews, review_record(call, decision)])
        reviews += expired_records(call, answer, deadline, rule, call["name"])
        if isinstance(rule, Escalate):
            rule, level = rule.next_rule(), level + 1
            continue
        return decision_update(call, {"type": "reject", "message": rule.message}, reviews)


def _call_reviewer(tools: Sequence[BaseTool], policy: Policy | None, guard: DeadlineGuard | None = None):
    """Asks about ONE proposed call and returns its state update; shared by both review graphs.

    `policy` maps a tool name to the decisions a reviewer may make, or to
    `AUTO_APPROVE`; tools it does not name get approve, edit and reject. A bad rule
    fails here, when the graph is built, not at the first review.
    """
    by_name = {tool.name: tool for tool in tools}
    policy = dict(policy or {})
    for name, rule in policy.items():
        if isinstance(rule, str) and rule != AUTO_APPROVE:
            raise ValueError(
                f"Policy for {name!r} is {rule!r}: give a list of decisions such as "
                f"['approve', 'reject'], or AUTO_APPROVE to run it without asking."
            )
        unknown = [kind for kind in rule if kind not in DECISION_TYPES] if rule != AUTO_APPROVE else []
        if unknown:
            raise ValueError(f"Policy for {name!r} lists {unknown}: a decision is one of {list(DECISION_TYPES)}.")

    def review_call(call: dict[str, Any]) -> dict[str, list]:
        tool = by_name.get(call["name"])
        if tool is None:
            error = ToolMessage(
                f"Error: there is no tool named {call['name']!r}.", tool_call_id=call["id"], status="error"
            )
            return {"messages": [error]}
        rule = policy.get(call["name"], DEFAULT_DECISIONS)
        if rule == AUTO_APPROVE:
            return {"approved_calls": [bound_call(call)]}
        allowed = tuple(rule)
        deadline_rule = guard.expiry.rule_for(call["name"]) if guard else None
        if guard is not None and deadline_rule is not None:
            return _review_with_deadline(call, tool, allowed, guard, deadline_rule)
        answer = interrupt(review_request(call, tool, allowed), response_schema=decision_schema(tool, allowed))
        decision = check_decision(as_dict(answer), call, tool, allowed)
        return decision_update(call, decision, [review_record(call, decision)])

    return review_call


def review_node(tools: Sequence[BaseTool], policy: Policy | None = None, guard: DeadlineGuard | None = None):
    """One `interrupt()` per proposed call, in order; the answers decide what may run.

    The node re-runs from the top on every resume, so it has no side effects: the
    answered interrupts return their saved answers and only the next one pauses.
    """
    review_call = _call_reviewer(tools, policy, guard)

    def review(state: ReviewState) -> dict[str, Any]:
        update: dict[str, list] = {"approved_calls": [], "messages": [], "reviews": []}
        for call in last_tool_calls(state):
            for key, values in review_call(call).items():
                update[key].extend(values)
        return update

    return review


def bound_call(call: dict[str, Any], edited_args: dict[str, Any] | None = None) -> dict[str, Any]:
    """An approved call as `execute` gets it: with the fingerprint of exactly what may run."""
    args = call["args"] if edited_args is None else edited_args
    bound = {**call, "args": args, "fingerprint": call_fingerprint(call["name"], args, call["id"])}
    return {**bound, "edited": True} if edited_args is not None else bound


def binding_problem(call: Mapping[str, Any]) -> str | None:
    """Why `call` must not run: it is not what was approved (or carries no approval at all)."""
    approved = call.get("fingerprint")
    if not approved:
        return (
            f"Refused: {call.get('name')} carries no approval fingerprint, so nothing shows a human (or a rule) "
            "approved exactly this call. Nothing ran; route it through the review node."
        )
    actual = call_fingerprint(call["name"], call.get("args") or {}, call.get("id"))
    if actual != approved:
        return (
            f"Refused: {call['name']} was about to run with arguments {json.dumps(call.get('args'), sort_keys=True)}, "
            f"which is not what was approved (approved fingerprint {approved}, this call {actual}). "
            "Nothing ran; something changed the call after its review. Ask for a new review."
        )
    return None


def execute_node(tools: Sequence[BaseTool], *, bind: bool = True):
    """Runs exactly the approved calls, once each, then forgets them.

    With `bind` (the default) each call must carry the fingerprint its review gave it, and
    runs only if the fingerprint of what is about to run is the same (`binding_problem`).
    `bind=False` is the naive executor of notebook 16's lab: it runs whatever it is handed.
    """
    by_name = {tool.name: tool for tool in tools}

    def execute(state: ReviewState) -> dict[str, Any]:
        results = []
        for call in state.get("approved_calls") or []:
            problem = binding_problem(call) if bind else None
            if problem:
                results.append(ToolMessage(problem, tool_call_id=call["id"], name=call["name"], status="error"))
                continue
            try:
                output = by_name[call["name"]].invoke(call["args"])
            except ValidationError as error:  # the model's own arguments were malformed
                output = f"Error: invalid arguments for {call['name']}: {error.errors()[0]['msg']}."
            note = edit_note(call, call["args"]) if call.get("edited") else ""
            results.append(ToolMessage(f"{note}{output}", tool_call_id=call["id"], name=call["name"]))
        return {"messages": results, "approved_calls": []}

    return execute


def _after_agent(state: ReviewState) -> Literal["review", "__end__"]:
    return "review" if last_tool_calls(state) else "__end__"  # END; the Literal names the edges drawn


after_agent = _after_agent
"""The review graph's route after the agent: to `review` when it proposed calls, else the end."""


def build_review_graph(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    checkpointer: Any,
    policy: Policy | GovernancePolicy | None = None,
    *,
    expiry: Expiry | None = None,
    **governance: Any,
):
    """Notebooks 04-09: every proposed call waits for a human, unless `policy` says otherwise.

    `policy` is a table (tool name -> allowed decisions, or `AUTO_APPROVE`), or, from
    notebook 16 on, a `hitl_widgets.policy.Policy`: then the graph is governed (see
    `build_governed_review_graph`, which takes `governance`'s keyword arguments).
    """
    if isinstance(policy, GovernancePolicy):
        return build_governed_review_graph(model, tools, checkpointer, policy, expiry=expiry, **governance)
    if governance:
        raise TypeError(f"{', '.join(governance)}: only a governed graph takes these; pass policy=Policy([...]).")
    guard = _deadline_guard(expiry, checkpointer)
    builder = StateGraph(ReviewState)
    builder.add_node("agent", _agent_node(model, tools))
    builder.add_node("review", review_node(tools, policy, guard))
    builder.add_node("execute", execute_node(tools))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", _after_agent)
    builder.add_edge("review", "execute")
    builder.add_edge("execute", "agent")
    return _with_expiry(builder.compile(checkpointer=checkpointer), guard)


def _deadline_guard(expiry: Expiry | None, checkpointer: Any, log: AuditLog | None = None) -> DeadlineGuard | None:
    """The deadlines' moments and the sweepers' claims live in the checkpointer's own database."""
    if expiry is None:
        return None
    return DeadlineGuard(expiry, log or AuditLog.for_checkpointer(checkpointer, clock=expiry.clock))


def _with_expiry(graph: Any, guard: DeadlineGuard | None) -> Any:
    """What `expiry.sweep` and the panel read off a graph with deadlines."""
    if guard is not None:
        graph.expiry, graph.expiry_log = guard.expiry, guard.log
    return graph


# -- Notebook 09: several reviews pending together ------------------------------------


class ParallelReviewState(AgentState):
    approved_calls: Annotated[list[dict[str, Any]], operator.add]
    """Each review task adds the call it approved (or edited); `execute` empties the list."""
    reviews: Annotated[list[dict[str, Any]], operator.add]
    """Every decision made in this thread: the audit trail, as in `ReviewState`."""


class CallReview(TypedDict):
    """What one review task gets from the fan-out: one proposed call."""

    call: dict[str, Any]


def review_call_node(tools: Sequence[BaseTool], policy: Policy | None = None, guard: DeadlineGuard | None = None):
    """Reviews ONE proposed call: the task the fan-out starts once per call.

    Same rules as `review_node`, but each call is its own task, so their interrupts are
    pending at the same time and each is answered by its interrupt id. A task that got
    its answer is done; answering another one later does not run it again.
    """
    review_call = _call_reviewer(tools, policy, guard)

    def review_one(task: CallReview) -> dict[str, Any]:
        return review_call(task["call"])

    return review_one


def _fan_out(state: ParallelReviewState) -> list[Send] | Literal["__end__"]:
    calls = last_tool_calls(state)
    return [Send("review_call", {"call": call}) for call in calls] if calls else "__end__"  # END


def _execute_in_order(tools: Sequence[BaseTool]):
    run = execute_node(tools)

    def execute(state: ParallelReviewState) -> dict[str, Any]:
        order = {call["id"]: index for index, call in enumerate(last_tool_calls(state))}
        approved = sorted(state.get("approved_calls") or [], key=lambda call: order.get(call["id"], len(order)))
        update = run({**state, "approved_calls": approved})
        return {**update, "approved_calls": Overwrite([])}  # a reducer would append; empty it

    return execute


def build_parallel_review_graph(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    checkpointer: Any,
    policy: Policy | None = None,
    *,
    expiry: Expiry | None = None,
):
    """Notebook 09: one review task per proposed call (a `Send` fan-out), so all the
    calls of one model turn wait together, each answered by its interrupt id:
    `Command(resume={interrupt_id: decision, ...})`. `execute` runs once every task
    has its answer, and only the approved or edited calls, in the model's order.
    """
    guard = _deadline_guard(expiry, checkpointer)
    builder = StateGraph(ParallelReviewState)
    builder.add_node("agent", _agent_node(model, tools))
    builder.add_node("review_call", review_call_node(tools, policy, guard))
    builder.add_node("execute", _execute_in_order(tools))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", _fan_out, ["review_call", END])
    builder.add_edge("review_call", "execute")
    builder.add_edge("execute", "agent")
    return _with_expiry(builder.compile(checkpointer=checkpointer), guard)


# -- Notebook 16: governance (policy as code, grants, named reviewers, binding, audit) -----------


class GovernedState(ReviewState):
    requester: str | None
    """Who asked the agent (the authenticated user on a server, else `configurable.requester`)."""
    executed: Annotated[list[str], operator.add]
    """The call ids `execute` ran: what the audit trail is checked against."""


def _run_identity() -> tuple[str, str | None]:
    """This run's thread id and authenticated user (LangGraph server sets `langgraph_auth_user_id`)."""
    configurable = get_config().get("configurable") or {}
    return str(configurable.get("thread_id")), configurable.get("langgraph_auth_user_id") or None


def _task_key() -> str:
    """The running task's id (from its checkpoint namespace, `node:<task id>`).

    It stays the same while one pending task is resumed again and again, and changes when
    the node runs anew (a later turn, a fork, a replay), so audit keys built on it write each
    answer once, yet never mistake a forked run's answers for the first run's.
    """
    configurable = get_config().get("configurable") or {}
    return str(configurable.get("checkpoint_ns") or "").rpartition(":")[2]


def governed_agent_node(model: BaseChatModel, tools: Sequence[BaseTool]):
    """The agent node, which also notes who asked (the run that brought the user's message)."""
    agent = _agent_node(model, tools)

    def governed_agent(state: GovernedState) -> dict[str, Any]:
        update = agent(state)
        messages = state.get("messages") or []
        if messages and isinstance(messages[-1], HumanMessage):
            configurable = get_config().get("configurable") or {}
            update["requester"] = configurable.get("langgraph_auth_user_id") or configurable.get("requester")
        return update

    return governed_agent


def governed_request(
    call: dict[str, Any],
    tool: BaseTool,
    ask: Ask,
    rule_name: str,
    approvals: Sequence[str],
    requester: str | None,
    refused: str | None,
) -> dict[str, Any]:
    """The kit's review request, plus what governance needs a reviewer (and the panel) to see."""
    request = review_request(call, tool, ask.decisions)
    request["governance"] = {
        "rule": rule_name,
        "approvals_needed": ask.approvals,
        "approvals": list(approvals),
        "requester": None if ask.requester_may_approve else requester,
        "suggested_pattern": suggest_pattern(call["args"]),
        "scopes": ["once", "thread", "pattern"] if ask.approvals == 1 else ["once"],
        "refused": refused,
    }
    return request


def envelope_problem(
    envelope: Mapping[str, Any],
    fingerprint: str,
    auth_user: str | None,
    ask: Ask,
    approvals: Sequence[str],
    requester: str | None,
    call: Mapping[str, Any],
    signing_key: bytes | None,
) -> tuple[str | None, str | None, str | None]:
    """(why the answer is refused or None, the reviewer, "authenticated" / "claimed" / None)."""
    reviewer = auth_user or envelope.get("reviewer") or None
    identity = "authenticated" if auth_user else ("claimed" if reviewer else None)
    kind = (envelope.get("decision") or {}).get("type")
    if envelope.get("fingerprint") != fingerprint:
        return (
            f"Refused: this answer was made for another call (fingerprint {envelope.get('fingerprint')}; "
            f"this request is {fingerprint}). Nothing ran; read the pending request again and decide on it.",
            reviewer,
            identity,
        )
    if signing_key is not None and not signature_is_valid(envelope, signing_key):
        return (
            "Refused: the decision is not signed with this graph's key (forged, altered, or sent by a client "
            "without the key). Nothing ran; decide from a panel that holds HITL_SIGNING_KEY.",
            reviewer,
            identity,
        )
    named_needed = ask.approvals > 1 or (requester is not None and not ask.requester_may_approve)
    if reviewer is None and named_needed:
        why = (
            f"{ask.approvals} approvals from distinct reviewers"
            if ask.approvals > 1
            else "a reviewer other than the requester"
        )
        return (
            f"Refused: this call needs {why}, so every decision must name its reviewer. Nothing ran; "
            'open the panel with ApprovalPanel(graph, config, reviewer="your name").',
            None,
            identity,
        )
    if kind == "approve" and reviewer in approvals:
        return (
            f"Refused: {reviewer} approved this call already; approval {len(approvals) + 1} of {ask.approvals} "
            f"must come from another reviewer (not {', '.join(approvals)}). Nothing ran.",
            reviewer,
            identity,
        )
    if kind == "approve" and requester is not None and reviewer == requester and not ask.requester_may_approve:
        return (
            f"Refused: {reviewer} asked the agent for this call, so {reviewer} cannot approve it; "
            "another reviewer must. Nothing ran.",
            reviewer,
            identity,
        )
    scope = envelope.get("scope") or {"kind": "once"}
    if scope.get("kind", "once") != "once":
        if kind not in ("approve", "reject"):
            return (
                f"Refused: only approve or reject can be granted always, not {kind}. Nothing ran.",
                reviewer,
                identity,
            )
        if kind == "approve" and ask.approvals > 1:
            return (
                f"Refused: an 'always' approval cannot stand in for {ask.approvals} reviewers; "
                "approve once. Nothing ran.",
                reviewer,
                identity,
            )
        pattern = scope.get("pattern")
        if scope["kind"] == "pattern" and (not pattern or not matches(pattern, call["args"])):
            return (
                f"Refused: the pattern {pattern!r} does not cover the call it answers ({call['args']!r}); "
                "state a pattern this call matches. Nothing ran.",
                reviewer,
                identity,
            )
    return None, reviewer, identity


def _grant_key(thread_id: str, task: str, call_id: str) -> str:
    return f"grant:{thread_id}:{task}:{call_id}"


def matching_grant(grants: Sequence[Mapping[str, Any]], thread_id: str, call: Mapping[str, Any], ask: Ask):
    """The grant that answers `call` instead of a human, or None. Deny-always wins over allow-always;
    an allow-always grant never stands in for a review that needs several approvals."""
    mine = [g for g in grants if g["thread_id"] == thread_id and g["tool"] == call["name"] and not g.get("revoked_at")]
    fitting = [g for g in mine if g["pattern"] is None or matches(g["pattern"], call["args"])]
    for effect in ("deny", "allow"):
        for grant in fitting:
            if grant["effect"] == effect and (effect == "deny" or ask.approvals == 1):
                return grant
    return None


def _governed_reviewer(
    tools: Sequence[BaseTool],
    policy: GovernancePolicy,
    audit: AuditLog,
    signing_key: bytes | None,
    guard: DeadlineGuard | None = None,
):
    by_name = {tool.name: tool for tool in tools}

    def review_call(call: dict[str, Any], state: Mapping[str, Any], turn: set[str], made: list[dict]) -> dict:
        thread_id, auth_user = _run_identity()
        tool = by_name.get(call["name"])
        if tool is None:
            error = ToolMessage(
                f"Error: there is no tool named {call['name']!r}.", tool_call_id=call["id"], status="error"
            )
            return {"messages": [error]}
        fp = call_fingerprint(call["name"], call["args"], call["id"])
        requester = state.get("requester")
        task = _task_key()
        base = f"{thread_id}:{task}:{call['id']}"

        def record(key: str, decision: dict, actor: str | None, automatic: bool, **extra: Any) -> dict:
            fields = {
                "call": {"tool": call["name"], "args": call["args"], "id": call["id"]},
                "fingerprint": fp,
                "decision": decision["type"],
                "edited_args": (decision.get("edited_action") or {}).get("args"),
                "message": decision.get("message", ""),
                "actor": actor,
                "automatic": automatic,
                "requester": requester,
                **marks(decision),
                **extra,
            }
            audit.append(key, "decision", thread_id, **fields)
            return {
                **review_record(call, decision),
                **{k: fields[k] for k in ("fingerprint", "actor", "automatic")},
                **extra,
            }

        ctx = Context(thread_id, requester, auth_user, tuple(state.get("reviews") or []))
        verdict = policy.evaluate(ToolCall.of(call), ctx)
        outcome = verdict.outcome
        if isinstance(outcome, Deny):
            review = record(
                f"{base}:policy",
                {"type": "reject", "message": outcome.reason},
                f"rule {verdict.rule}",
                True,
                rule=verdict.rule,
            )
            return {"reviews": [review], "messages": [rejection_message(call, f"Denied by policy: {outcome.reason}")]}
        if isinstance(outcome, Allow):
            review = record(f"{base}:policy", {"type": "approve"}, f"rule {verdict.rule}", True, rule=verdict.rule)
            return {"reviews": [review], "approved_calls": [bound_call(call)]}
        if not isinstance(outcome, Ask):  # fail closed on anything else
            reason = f"the policy gave {outcome!r}, which is not allow, deny or ask; fix the policy"
            review = record(
                f"{base}:policy", {"type": "reject", "message": reason}, f"rule {verdict.rule}", True, rule=verdict.rule
            )
            return {"reviews": [review], "messages": [rejection_message(call, f"Denied by policy: {reason}")]}
        earlier = [g for g in audit.grants(thread_id) if g["key"] not in {_grant_key(thread_id, task, c) for c in turn}]
        grant = matching_grant([*earlier, *made], thread_id, call, outcome)
        if grant is not None:
            kind = "approve" if grant["effect"] == "allow" else "reject"
            decision = {"type": kind, "message": grant.get("message") or ""} if kind == "reject" else {"type": kind}
            review = record(
                f"{base}:grant", decision, f"grant {grant['id']}", True, rule=verdict.rule, grant=grant["id"]
            )
            if kind == "approve":
                return {"reviews": [review], "approved_calls": [bound_call(call)]}
            return {"reviews": [review], "messages": [rejection_message(call, decision["message"])]}
        edit_check = _edit_checker(ctx, [*earlier, *made], thread_id)
        return _ask_humans(
            call, tool, outcome, verdict.rule, fp, requester, auth_user, base, record, made, thread_id, edit_check, task
        )

    def _edit_checker(ctx: Context, grants: list, thread_id: str):
        def edit_problem(edited: dict[str, Any]) -> str | None:
            """An edit is a new call: the policy (and any deny grant) judges it afresh."""
            again = policy.evaluate(ToolCall.of(edited), ctx)
            if isinstance(again.outcome, Deny):
                return (
                    f"Refused: the edited call is denied by rule {again.rule!r}: {again.outcome.reason}. "
                    "Nothing ran; edit it within the policy, or reject it."
                )
            if not isinstance(again.outcome, (Allow, Ask)):
                return f"Refused: the policy gave {again.outcome!r} for the edited call. Nothing ran."
            if isinstance(again.outcome, Ask) and again.outcome.approvals > 1:
                return (
                    f"Refused: the edited call needs {again.outcome.approvals} approvals (rule {again.rule!r}), "
                    "which one edit cannot give. Nothing ran; reject it and ask the agent for that order."
                )
            grant = matching_grant(grants, thread_id, edited, Ask())
            if grant is not None and grant["effect"] == "deny":
                return f"Refused: grant {grant['id']} denies calls like the edited one. Nothing ran."
            return None

        return edit_problem

    def _ask_humans(
        call, tool, ask, rule_name, fp, requester, auth_user, base, record, made, thread_id, edit_check, task
    ) -> dict:
        approvals: list[str] = []
        reviews: list[dict] = []
        refused: str | None = None
        attempt = 0
        deadline_rule = guard.expiry.rule_for(call["name"], rule_name) if guard else None
        first_rule, level = deadline_rule, 0
        while True:
            request = governed_request(call, tool, ask, rule_name, approvals, requester, refused)
            deadline = None
            if guard is not None and deadline_rule is not None and first_rule is not None:
                deadline = guard.deadline(f"{base}:deadline{level}", thread_id, deadline_rule)
                request = _escalated({**request, **deadline.fields()}, level, first_rule)
            envelope = as_dict(interrupt(request, response_schema=envelope_schema(tool, ask.decisions)))
            attempt += 1
            envelope = {**envelope, "decision": as_dict(envelope["decision"])}
            if isinstance(envelope.get("scope"), BaseModel):
                envelope["scope"] = as_dict(envelope["scope"])
            if (
                guard is not None
                and deadline is not None
                and deadline_rule is not None
                and guard.is_late(f"{base}:answer{attempt}", thread_id, deadline)
            ):
                # As every governed refusal, the late answer is in the audit trail only; the default
                # it gave way to is a decision, in the trail and in `reviews` alike.
                expired = expired_records(call, envelope["decision"], deadline, deadline_rule, rule_name)
                for number, review in enumerate(expired):
                    automatic = review.get("automatic", False)
                    actor = review["by"] if automatic else (auth_user or envelope.get("reviewer"))
                    audit.append(
                        f"{base}:answer{attempt}:expired{number}",
                        "decision" if automatic else "refusal",
                        thread_id,
                        call={"tool": call["name"], "args": call["args"], "id": call["id"]},
                        fingerprint=fp,
                        actor=actor,
                        automatic=automatic,
                        decision=review["decision"],
                        reason=review.get("reason") or review["message"],
                        channel=review.get("channel"),
                    )
                    if automatic:
                        reviews.append({**review, "fingerprint": fp, "actor": actor})
                if isinstance(deadline_rule, Escalate):
                    deadline_rule, level, refused = deadline_rule.next_rule(), level + 1, None
                    continue
                return decision_update(call, {"type": "reject", "message": deadline_rule.message}, reviews)
            # On a resume the node re-runs and replays the earlier answers, but the run's user is
            # whoever sent the latest one: an earlier answer's reviewer is the one recorded then.
            prior = audit.find(f"{base}:answer{attempt}")
            answered_by = (
                (prior.get("actor") if prior.get("identity") == "authenticated" else None) if prior else auth_user
            )
            refused, reviewer, identity = envelope_problem(
                envelope, fp, answered_by, ask, approvals, requester, call, signing_key
            )
            if refused is None:
                try:
                    decision = check_decision(envelope["decision"], call, tool, ask.decisions)
                except DecisionError as error:
                    refused = f"Refused: {error} Nothing ran."
                else:
                    if decision["type"] == "edit":
                        refused = edit_check({**call, "args": decision["edited_action"]["args"]})
            if refused is not None:
                audit.append(
                    f"{base}:answer{attempt}",
                    "refusal",
                    thread_id,
                    call={"tool": call["name"], "args": call["args"], "id": call["id"]},
                    fingerprint=fp,
                    actor=reviewer,
                    identity=identity,
                    reason=refused,
                )
                continue
            review = record(
                f"{base}:answer{attempt}",
                decision,
                reviewer,
                False,
                rule=rule_name,
                identity=identity,
                scope=envelope.get("scope"),
            )
            reviews.append(review)
            if decision["type"] == "approve":
                approvals.append(reviewer or "(unnamed)")
                if len(approvals) < ask.approvals:
                    continue
            scope = envelope.get("scope") or {"kind": "once"}
            if scope.get("kind", "once") != "once":
                effect = "allow" if decision["type"] == "approve" else "deny"
                pattern = scope.get("pattern") if scope["kind"] == "pattern" else None
                made.append(
                    audit.add_grant(
                        _grant_key(thread_id, task, call["id"]),
                        thread_id,
                        call["name"],
                        effect,
                        pattern,
                        reviewer,
                        decision.get("message", ""),
                    )
                )
                grant = made[-1]
                audit.append(
                    f"grant:{grant['id']}",
                    "grant",
                    thread_id,
                    grant=grant["id"],
                    tool=call["name"],
                    effect=effect,
                    pattern=pattern,
                    actor=reviewer,
                    identity=identity,
                )
            return decision_update(call, decision, reviews)

    return review_call


def governed_review_node(
    tools: Sequence[BaseTool],
    policy: GovernancePolicy,
    audit: AuditLog,
    signing_key: bytes | None = None,
    guard: DeadlineGuard | None = None,
):
    """The review node, governed: the policy first, then the thread's grants, then humans.

    No side effect repeats when the node re-runs on a resume: every audit write and grant
    is keyed by thread, call and answer number, and the first write stays. Grants made in
    this same model turn apply only to the calls after the one that made them, so the
    order of the interrupts never depends on when the node re-runs.
    """
    review_call = _governed_reviewer(tools, policy, audit, signing_key, guard)

    def review(state: GovernedState) -> dict[str, Any]:
        update: dict[str, list] = {"approved_calls": [], "messages": [], "reviews": []}
        calls = last_tool_calls(state)
        turn = {call["id"] for call in calls}
        made: list[dict] = []
        for call in calls:
            for key, values in review_call(call, state, turn, made).items():
                update[key].extend(values)
        return update

    return review


def governed_execute_node(tools: Sequence[BaseTool], audit: AuditLog, *, bind: bool = True):
    """`execute_node`, with each run or refusal written to the audit trail and `executed`."""
    run = execute_node(tools, bind=bind)

    def execute(state: GovernedState) -> dict[str, Any]:
        thread_id, _ = _run_identity()
        update = run(state)
        ran = []
        for call, message in zip(state.get("approved_calls") or [], update["messages"], strict=True):
            refused = message.status == "error" and str(message.content).startswith("Refused:")
            audit.append(
                f"{thread_id}:{_task_key()}:{call['id']}:execution",
                "execution",
                thread_id,
                call={"tool": call["name"], "args": call["args"], "id": call["id"]},
                fingerprint=call.get("fingerprint"),
                outcome="refused" if refused else "ran",
                ran_args=None if refused else call["args"],
                result=str(message.content),
            )
            if not refused:
                ran.append(call["id"])
        return {**update, "executed": ran}

    return execute


def build_governed_review_graph(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    checkpointer: Any,
    policy: GovernancePolicy,
    *,
    audit: AuditLog | None = None,
    signing_key: bytes | str | None = None,
    clock: Any = None,
    bind: bool = True,
    expiry: Expiry | None = None,
):
    """Notebook 16: `build_review_graph` with a `Policy`. The graph carries its trail as `graph.audit`."""
    if audit is None:
        audit = AuditLog.for_checkpointer(checkpointer, **({"clock": clock} if clock else {}))
    key = signing_key.encode() if isinstance(signing_key, str) else signing_key
    guard = _deadline_guard(expiry, checkpointer, audit)
    builder = StateGraph(GovernedState)
    builder.add_node("agent", governed_agent_node(model, tools))
    builder.add_node("review", governed_review_node(tools, policy, audit, key, guard))
    builder.add_node("execute", governed_execute_node(tools, audit, bind=bind))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", _after_agent)
    builder.add_edge("review", "execute")
    builder.add_edge("execute", "agent")
    graph = builder.compile(checkpointer=checkpointer)
    graph.audit = audit  # type: ignore[attr-defined]
    return _with_expiry(graph, guard)
