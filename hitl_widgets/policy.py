"""Policy as code: ordered rules over a tool call and its context, three outcomes.

    from hitl_widgets.policy import Policy, allow, deny, ask, rule

    policy = Policy([
        rule("small order, approved vendor", tool="create_purchase_order",
             when=lambda call, ctx: call.args["qty"] <= 50 and call.args["vendor"] in APPROVED,
             then=allow()),
        rule("unapproved vendor", tool="create_purchase_order",
             when=lambda call, ctx: call.args["vendor"] not in APPROVED, then=deny("unapproved vendor")),
        rule("large order", tool="create_purchase_order",
             when=lambda call, ctx: call.args["qty"] > 1000, then=ask(approvals=2)),
    ], default=ask())

    policy.evaluate(ToolCall("create_purchase_order", {"qty": 10, "vendor": "Acme Supply"}))

The first rule whose tool matches and whose `when` is True decides; `default` (ask or
deny, never allow) closes the list. The review graph consults the policy *before* it
interrupts (`graphs.build_review_graph(..., policy=policy)`), so the policy holds whatever
client answers. It fails closed: a `when` that raises or returns something other than
True/False, or an outcome that is not allow/deny/ask, denies the call and says which rule
to fix. Grants ("always for this thread", "always for arguments like these") are patterns
over the arguments; `matches` and `describe_pattern` are here so a lesson can test them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .protocol import DEFAULT_DECISIONS, in_decision_order


@dataclass(frozen=True)
class ToolCall:
    """What a rule looks at: the tool's name, its arguments, the model's call id."""

    name: str
    args: Mapping[str, Any]
    id: str | None = None

    @classmethod
    def of(cls, call: Mapping[str, Any]) -> ToolCall:
        return cls(call["name"], dict(call.get("args") or {}), call.get("id"))


@dataclass(frozen=True)
class Context:
    """Where the call is made: the thread, who asked the agent, and the earlier decisions."""

    thread_id: str | None = None
    requester: str | None = None
    reviewer: str | None = None
    decisions: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Allow:
    kind: Literal["allow"] = "allow"

    def __str__(self) -> str:
        return "allow"


@dataclass(frozen=True)
class Deny:
    reason: str
    kind: Literal["deny"] = "deny"

    def __str__(self) -> str:
        return f"deny ({self.reason})"


@dataclass(frozen=True)
class Ask:
    approvals: int = 1
    """How many approvals, from distinct named reviewers, before the call runs."""
    decisions: tuple[str, ...] = DEFAULT_DECISIONS
    """What a reviewer may answer (four-eyes reviews take approve or reject only)."""
    requester_may_approve: bool = False
    """False: the person who asked the agent cannot be one of the approvers (four-eyes)."""
    kind: Literal["ask"] = "ask"

    def __str__(self) -> str:
        return "ask" if self.approvals == 1 else f"ask ({self.approvals} approvals)"


Outcome = Allow | Deny | Ask
OUTCOMES = (Allow, Deny, Ask)


def allow() -> Allow:
    """The call runs without a human; logged as an automatic decision naming the rule."""
    return Allow()


def deny(reason: str) -> Deny:
    """The call never runs; the model is told `reason`."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("deny() needs a reason: the model and the audit trail are told why.")
    return Deny(reason.strip())


def ask(approvals: int = 1, decisions: Sequence[str] | None = None, *, requester_may_approve: bool = False) -> Ask:
    """A human decides; `approvals=2` asks two distinct reviewers (four-eyes)."""
    if not isinstance(approvals, int) or isinstance(approvals, bool) or approvals < 1:
        raise ValueError(f"ask(approvals=...) takes a whole number of at least 1, got {approvals!r}.")
    if decisions is None:
        decisions = DEFAULT_DECISIONS if approvals == 1 else ("approve", "reject")
    chosen = in_decision_order(decisions)
    if not chosen or len(chosen) != len(set(decisions)):
        raise ValueError(f"ask(decisions=...) takes approve, edit, reject or respond; got {list(decisions)!r}.")
    if approvals > 1 and set(chosen) - {"approve", "reject"}:
        raise ValueError("A review that needs several approvals takes approve or reject only (an edit is a new call).")
    return Ask(approvals, chosen, requester_may_approve)


Predicate = Callable[[ToolCall, Context], Any]


@dataclass(frozen=True)
class Rule:
    name: str
    then: Outcome
    tool: tuple[str, ...] | None = None
    when: Predicate | None = None

    def applies_to(self, call: ToolCall) -> bool:
        return self.tool is None or call.name in self.tool


def rule(
    name: str | None = None,
    *,
    tool: str | Sequence[str] | None = None,
    when: Predicate | None = None,
    then: Outcome,
) -> Rule:
    """One rule: for `tool` (a name, several, or None for any), when `when(call, ctx)` is True."""
    if not isinstance(then, OUTCOMES):
        raise TypeError(f"A rule's `then` is allow(), deny(reason) or ask(...); got {then!r}.")
    if when is not None and not callable(when):
        raise TypeError(f"A rule's `when` is a function (call, ctx) -> bool; got {when!r}.")
    tools = (tool,) if isinstance(tool, str) else (tuple(tool) if tool is not None else None)
    label = name or f"{'/'.join(tools) if tools else 'any tool'}: {then}"
    return Rule(label, then, tools, when)


@dataclass(frozen=True)
class Verdict:
    """What the policy decided about one call, and which rule decided it."""

    outcome: Outcome
    rule: str
    error: str | None = None
    """Set when the policy itself failed (the call is then denied)."""

    @property
    def kind(self) -> str:
        return self.outcome.kind

    def __str__(self) -> str:
        return f"{self.outcome} by {self.rule!r}"


DEFAULT_RULE = "default"


@dataclass(frozen=True)
class Policy:
    """An ordered list of rules; the first that matches decides, `default` closes the list."""

    rules: Sequence[Rule] = ()
    default: Outcome = field(default_factory=Ask)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        for item in self.rules:
            if not isinstance(item, Rule):
                raise TypeError(f"A policy holds rule(...) objects; got {item!r}.")
        if not isinstance(self.default, (Deny, Ask)):
            raise ValueError(
                f"A policy's default closes the list: ask() or deny(reason), never {self.default!r}. "
                "Allow a tool with an explicit rule instead."
            )
        names = [item.name for item in self.rules]
        if len(names) != len(set(names)):
            raise ValueError(f"Two rules share a name; the audit trail names the rule that decided: {names}.")

    def evaluate(self, call: ToolCall | Mapping[str, Any], ctx: Context | None = None) -> Verdict:
        """The verdict for one call. Never raises: a failing rule denies the call."""
        call = call if isinstance(call, ToolCall) else ToolCall.of(call)
        ctx = ctx or Context()
        for item in self.rules:
            if not item.applies_to(call):
                continue
            try:
                matched = True if item.when is None else item.when(call, ctx)
            except Exception as error:  # fail closed: a broken rule never lets a call through
                return _failed(item.name, f"it raised {type(error).__name__}: {error}")
            if not isinstance(matched, bool):
                return _failed(item.name, f"its `when` returned {matched!r}, not True or False")
            if matched:
                if not isinstance(item.then, OUTCOMES):
                    return _failed(item.name, f"its outcome {item.then!r} is not allow, deny or ask")
                return Verdict(item.then, item.name)
        return Verdict(self.default, DEFAULT_RULE)

    def check(self, tool: str, /, **args: Any) -> Verdict:
        """`policy.check("create_purchase_order", item=..., qty=..., vendor=...)`: for unit tests."""
        return self.evaluate(ToolCall(tool, args))

    @classmethod
    def from_table(cls, table: Mapping[str, Sequence[str] | str], auto: str = "auto") -> Policy:
        """The older policy table (tool -> allowed decisions, or AUTO_APPROVE) as rules."""
        rules = []
        for name, entry in table.items():
            if entry == auto:
                rules.append(rule(f"{name}: auto-approve", tool=name, then=allow()))
            elif isinstance(entry, str):
                raise ValueError(
                    f"Policy for {name!r} is {entry!r}: give a list of decisions such as "
                    f"['approve', 'reject'], or AUTO_APPROVE to run it without asking."
                )
            else:
                rules.append(rule(f"{name}: ask", tool=name, then=ask(decisions=entry)))
        return cls(rules, default=ask())


def _failed(name: str, why: str) -> Verdict:
    message = (
        f"policy error in rule {name!r}: {why}. Nothing ran; fix the rule (it must return True or False "
        "and end in allow(), deny(reason) or ask()) and ask again."
    )
    return Verdict(Deny(message), name, error=message)


# -- patterns: what an "always for arguments like these" grant covers -------------------------
Pattern = Mapping[str, Any]


def matches(pattern: Pattern, args: Mapping[str, Any]) -> bool:
    """True when every constraint holds: a plain value must be equal; `{"max": n}`,
    `{"min": n}`, `{"in": [...]}` bound it. An argument the pattern names but the call
    lacks, or an unknown constraint, does not match (fail closed)."""
    for key, want in pattern.items():
        if key not in args:
            return False
        value = args[key]
        if isinstance(want, Mapping):
            if not want or set(want) - {"max", "min", "in"}:
                return False
            if "in" in want and value not in list(want["in"]):
                return False
            for bound, ok in (("max", lambda v, b: v <= b), ("min", lambda v, b: v >= b)):
                if bound in want:
                    if isinstance(value, bool) or not isinstance(value, (int, float)):
                        return False
                    if not ok(value, want[bound]):
                        return False
        elif value != want or type(value) is not type(want):
            return False
    return True


def suggest_pattern(args: Mapping[str, Any]) -> dict[str, Any]:
    """ "Arguments like these": the same text values, numbers up to this one."""
    pattern: dict[str, Any] = {}
    for key, value in sorted(args.items()):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            pattern[key] = value
        else:
            pattern[key] = {"max": value}
    return pattern


def describe_pattern(tool: str, pattern: Pattern | None) -> str:
    """The pattern in words, shown to the reviewer before it is granted."""
    if not pattern:
        return f"any call of {tool} in this thread"
    parts = []
    for key, want in sorted(pattern.items()):
        if isinstance(want, Mapping):
            if "in" in want:
                parts.append(f"{key} in {list(want['in'])!r}")
            if "min" in want:
                parts.append(f"{key} >= {want['min']}")
            if "max" in want:
                parts.append(f"{key} <= {want['max']}")
        else:
            parts.append(f"{key} == {want!r}")
    return f"{tool} where " + " and ".join(parts)


# -- the same policy in front of LangChain's `create_agent` --------------------------------------
def policy_middleware(policy: Policy) -> Any:
    """A middleware for `create_agent(..., middleware=[policy_middleware(policy)])`.

    LangChain's own `HumanInTheLoopMiddleware` can only ask or skip; this one gives the
    policy's three outcomes at each tool call: allow runs it, deny returns the reason to
    the model without running it, ask interrupts with the kit's review request (so the
    ApprovalPanel answers it). A rule that needs several approvals is denied here, with
    the reason: M-of-N lives in the kit's review graph, which keeps the approvals.
    """
    from langchain.agents.middleware import AgentMiddleware
    from langchain_core.messages import ToolMessage
    from langgraph.types import interrupt

    from .protocol import as_dict, check_decision, decision_schema, rejection_message, review_request

    class PolicyMiddleware(AgentMiddleware):
        def wrap_tool_call(self, request: Any, handler: Any) -> Any:
            call = dict(request.tool_call)
            verdict = policy.evaluate(ToolCall.of(call))
            outcome = verdict.outcome
            if isinstance(outcome, Allow):
                return handler(request)
            if isinstance(outcome, Ask) and outcome.approvals > 1:
                outcome = Deny(f"rule {verdict.rule!r} needs {outcome.approvals} approvals; use the kit's review graph")
            if not isinstance(outcome, Ask):
                reason = outcome.reason if isinstance(outcome, Deny) else f"unknown outcome {outcome!r}"
                return rejection_message(call, f"Denied by policy: {reason}")
            tool = request.tool
            answer = interrupt(
                review_request(call, tool, outcome.decisions), response_schema=decision_schema(tool, outcome.decisions)
            )
            decision = check_decision(as_dict(answer), call, tool, outcome.decisions)
            if decision["type"] == "approve":
                return handler(request)
            if decision["type"] == "edit":
                edited = {**call, "args": decision["edited_action"]["args"]}
                return handler(request.override(tool_call=edited))
            if decision["type"] == "reject":
                return rejection_message(call, decision.get("message", ""))
            return ToolMessage(decision["message"], tool_call_id=call["id"], name=call["name"])

    return PolicyMiddleware()
