"""Fail closed, whatever a reviewer (or a script) sends: property tests and a catalogue of bad inputs.

Property tests (hypothesis): random sequences of decisions, valid and invalid, against
the kit's review graph and LangChain's `HumanInTheLoopMiddleware` (batched and
per_call), through `ApprovalPanel.decide()` and through the panel's own buttons. After
every step:

- a decision the test expects to be refused is refused with a message in the panel, and
  changes nothing (pending interrupts, tool runs, decision log);
- one it expects to be accepted is accepted, with no message;
- every tool execution (`InventoryStore.tool_runs()`) matches an explicit approve or
  edit the test sent for that exact call id (with the edited arguments), at most once;
- the panel's decision log is exactly the decisions the test sent, in order.

When a thread is done, every approved or edited call ran exactly once, every rejected
(or answered) call ran zero times, and each decided call has exactly one tool message.

The catalogue test sends one bad input of each kind to a live interrupt and checks the
message and that the interrupt can still be answered.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
from collections import Counter
from dataclasses import dataclass

import ipywidgets as widgets
import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from widget_tree import shown, stderr_text, walk

from hitl_widgets import OfflineChatModel
from hitl_widgets.graphs import build_review_graph
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.panel import ApprovalPanel

# -- hypothesis: deterministic in CI, enough examples to mean something -----------------
EXAMPLES = int(os.environ.get("HITL_RELIABILITY_EXAMPLES", "334"))
"""Per property test; six of them run, so a default run tries more than 2,000 sequences."""
settings.register_profile(
    "hitl-reliability",
    max_examples=EXAMPLES,
    derandomize=True,  # the same examples on every run: CI is repeatable
    database=None,  # nothing written to .hypothesis/
    deadline=None,  # a graph run's time varies with the machine; correctness is what is tested
    suppress_health_check=[HealthCheck.too_slow],  # each example runs a real graph
    print_blob=True,
    # Shrinking a failure can take minutes; CI reports the failing sequence as found.
    # Set HITL_RELIABILITY_SHRINK=1 to shrink it when debugging.
    phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if os.environ.get("HITL_RELIABILITY_SHRINK") else []),
)
RELIABLE = settings.get_profile("hitl-reliability")

FLAVORS = ("kit", "batched", "per_call")
MIDDLEWARE_DECISIONS = ("approve", "edit", "reject", "respond")
PROMPTS = (
    "Check widget-x in SF-01. If stock is below 10 units, order 100 from 'Acme Supply', then notify the team on slack.",
    "Check widget-x and gadget-y in SF-01. If stock is below 10 units, order 100 from 'Acme Supply'.",
    "Check sprocket-z and gadget-y in SF-01. If stock is below 10 units, create a PO for 100 units "
    "from vendor 'Acme Supply', then notify the team on slack.",
)
CONFIG = {"configurable": {"thread_id": "reliability"}}


def build_graph(flavor: str, store: InventoryStore):
    """The kit's review graph, or `create_agent` with every tool gated by the middleware."""
    tools = make_tools(store)
    if flavor == "kit":
        return build_review_graph(OfflineChatModel(), tools, InMemorySaver())
    gate = HumanInTheLoopMiddleware({tool.name: True for tool in tools}, interrupt_mode=flavor)
    return create_agent(OfflineChatModel(), tools, middleware=[gate], checkpointer=InMemorySaver())


# -- reading the graph, independently of the panel ----------------------------------------
@dataclass(frozen=True)
class Pending:
    """One tool call waiting for a decision, read straight from the interrupt values."""

    interrupt_id: str
    index: int
    call_id: str
    name: str
    args: dict
    allowed: tuple[str, ...]
    batch: int
    """How many actions its interrupt holds (batched middleware), else 1."""


def pending_actions(graph) -> list[Pending]:
    snapshot = graph.get_state(CONFIG)
    messages = snapshot.values.get("messages", [])
    last_ai = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
    found = []
    for item in snapshot.interrupts:
        value = item.value
        if value.get("kind") == "hitl_widgets/review":
            call = value["tool_call"]
            found.append(
                Pending(item.id, 0, call["id"], call["name"], call["args"], tuple(value["allowed_decisions"]), 1)
            )
        elif "action_requests" in value:
            requests = value["action_requests"]
            # Every tool is gated, so action i is the AI message's call i.
            for index, (request, config) in enumerate(zip(requests, value["review_configs"], strict=True)):
                call = last_ai.tool_calls[index]
                assert (call["name"], call["args"]) == (request["name"], request["args"])
                allowed = tuple(config["allowed_decisions"])
                found.append(Pending(item.id, index, call["id"], call["name"], call["args"], allowed, len(requests)))
        else:
            assert value.get("type") == "tool_approval", value
            found.append(
                Pending(item.id, 0, value["tool_call_id"], value["name"], value["args"], MIDDLEWARE_DECISIONS, 1)
            )
    return found


def canon(args) -> str:
    return json.dumps(args, sort_keys=True)


# -- reading the panel as a user sees it (the widget tree) ---------------------------------
def action_view(panel: ApprovalPanel, call_id: str) -> widgets.Box | None:
    """The box holding one tool call's buttons: its first child names the call id."""
    marker = f"<code>{html.escape(call_id)}</code>"
    for box in walk(panel):
        children = getattr(box, "children", ())
        if (
            children
            and isinstance(children[0], widgets.HTML)
            and marker in children[0].value
            and any(isinstance(w, widgets.Button) for w in walk(box))
        ):
            return box
    return None


def card_of(panel: ApprovalPanel, view: widgets.Box) -> widgets.Box | None:
    """The card (the box with an error area) that shows this call: the view itself, or its parent."""
    if any(isinstance(w, widgets.Output) for w in view.children):
        return view
    for box in walk(panel):
        if view in getattr(box, "children", ()):
            return box
    return None


def card_error(card: widgets.Box | None) -> str:
    if card is None:
        return ""
    return "\n".join(filter(None, (stderr_text(w) for w in card.children if isinstance(w, widgets.Output))))


def panel_error(panel: ApprovalPanel) -> str:
    return "\n".join(filter(None, (stderr_text(w) for w in panel.children if isinstance(w, widgets.Output))))


def buttons(view: widgets.Box) -> dict[str, widgets.Button]:
    return {w.description: w for w in walk(view) if isinstance(w, widgets.Button)}


def decide_meaning_it(view: widgets.Box, label: str) -> None:
    """Click a decision as a reviewer who means it: when the card asks first (an open edit it
    would discard, a typed message it would not send), confirm ("... anyway", "... without the message")."""
    found = buttons(view)
    (button,) = [b for name, b in found.items() if name in (label, f"{label} original")]
    button.click()
    confirm = [b for name, b in buttons(view).items() if name.endswith(("anyway", "without the message"))]
    if confirm:
        confirm[0].click()


def approve(view: widgets.Box) -> None:
    decide_meaning_it(view, "Approve")


def message_box(view: widgets.Box) -> widgets.Text:
    return next(w for w in view.children if type(w) is widgets.Text)


def open_editor(view: widgets.Box) -> widgets.ToggleButtons:
    """Open the editor (Edit builds it on the first click, and toggles it); return its Form/JSON toggle."""
    if not any(isinstance(w, widgets.ToggleButtons) for w in shown(view)):
        buttons(view)["Edit"].click()
    return next(w for w in shown(view) if isinstance(w, widgets.ToggleButtons))


def json_mode(view: widgets.Box, target: Pending) -> widgets.ToggleButtons:
    """Open the editor in its JSON view. A form holding what the JSON view cannot carry (an emptied
    required field) keeps its Form view, as a reviewer sees; put the call's own arguments back first."""
    mode = open_editor(view)
    if mode.value == "Form" and "Form" in mode.options:
        for name, widget in zip(FIELDS[target.name], form_inputs(view), strict=True):
            widget.value = target.args[name]
    mode.value = "JSON"
    assert mode.value == "JSON", "the editor refused to show the JSON view"
    return mode


def raw_json(view: widgets.Box) -> widgets.Textarea:
    """The edited action as JSON text (shown in the editor's JSON mode)."""
    return next(w for w in walk(view) if isinstance(w, widgets.Textarea))


def form_inputs(view: widgets.Box) -> list[widgets.Widget]:
    """The form's inputs in schema order (shown in the editor's Form mode)."""
    kinds = (widgets.Text, widgets.IntText, widgets.FloatText, widgets.Dropdown, widgets.Checkbox)
    mode = next(w for w in walk(view) if isinstance(w, widgets.ToggleButtons))
    editor = next(box for box in walk(view) if mode in getattr(box, "children", ()))
    return [w for w in walk(editor) if isinstance(w, kinds) and not isinstance(w, widgets.Textarea)]


# -- what a reviewer might send --------------------------------------------------------------
ITEMS = ("widget-x", "gadget-y", "sprocket-z", "unicorn-9")
WAREHOUSES = ("SF-01", "NY-02", "XX-99")
VENDORS = ("Acme Supply", "Globex", "Initech", "")
CHANNELS = ("email", "slack", "sms")
REJECT_MESSAGES = ("", "Too expensive.", "use 'Globex' instead", "Please notify the team instead.")
TOOL_NAMES = ("lookup_inventory", "create_purchase_order", "send_notification")
FIELDS = {
    "lookup_inventory": ("item", "warehouse"),
    "create_purchase_order": ("item", "qty", "vendor"),
    "send_notification": ("channel", "message"),
}

words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
# Strategies are built once: building one per draw costs more than a graph run.
VALID_ARGS = {
    "lookup_inventory": st.fixed_dictionaries(
        {"item": st.sampled_from(ITEMS) | words, "warehouse": st.sampled_from(WAREHOUSES)}
    ),
    "create_purchase_order": st.fixed_dictionaries(
        {"item": st.sampled_from(ITEMS), "qty": st.integers(1, 100_000), "vendor": st.sampled_from(VENDORS) | words}
    ),
    "send_notification": st.fixed_dictionaries(
        {"channel": st.sampled_from(CHANNELS), "message": st.sampled_from(("Stock is low.",)) | words}
    ),
}


def valid_args(name: str):
    return VALID_ARGS[name]


@functools.cache
def _index(size: int):
    return st.integers(0, size - 1)


def pick(draw, values):
    """One of `values` (any values, hashable or not), with a cached strategy."""
    values = tuple(values)
    return values[draw(_index(len(values)))]


WRONG_TYPES = {
    "item": (5, None, ["widget-x"], {"name": "widget-x"}),
    "warehouse": (1.5, None, ["SF-01"]),
    "qty": ("many", 1.5, None, [100], {"units": 100}),
    "vendor": (7, None, ["Acme"]),
    "channel": ("pager", "SLACK", None, 3),
    "message": (None, 12, ["hi"]),
}


@functools.cache
def _valid_decision(name: str, allowed: tuple[str, ...]):
    choices = [
        st.just(("approve", {"type": "approve"})),
        st.sampled_from(REJECT_MESSAGES).map(lambda m: ("reject", {"type": "reject", "message": m})),
        VALID_ARGS[name].map(lambda a: ("edit", {"type": "edit", "edited_action": {"name": name, "args": a}})),
    ]
    if "respond" in allowed:
        choices.append(
            st.sampled_from(("On hold.", "Already ordered.")).map(
                lambda m: ("respond", {"type": "respond", "message": m})
            )
        )
    return st.one_of(choices)


def valid_decision(pending: Pending):
    """A (kind, decision) the gate must accept for this call."""
    return _valid_decision(pending.name, pending.allowed)


INVALID_KINDS = (
    "none",
    "empty-dict",
    "empty-list",
    "string",
    "number",
    "bool",
    "unknown-type",
    "null-type",
    "no-type",
    "tutorial-edit",
    "approve-with-extra",
    "reject-message-not-text",
    "respond-empty",
    "respond-not-allowed",
    "edit-missing-action",
    "edit-action-none",
    "edit-no-args",
    "edit-no-name",
    "edit-renamed-tool",
    "edit-wrong-call-args",
    "edit-wrong-type",
    "edit-missing-arg",
    "edit-unknown-arg",
    "edit-args-not-object",
)


@st.composite
def invalid_decision(draw, pending: Pending):
    """A (kind, decision) that no gate may accept for this call."""
    name = pending.name
    kinds = [k for k in INVALID_KINDS if k != "respond-not-allowed" or "respond" not in pending.allowed]
    kind = pick(draw, kinds)
    args = draw(VALID_ARGS[name])
    other = pick(draw, [n for n in TOOL_NAMES if n != name])
    field = pick(draw, FIELDS[name])

    def edit(edited):
        return {"type": "edit", "edited_action": edited}

    make = {
        "none": lambda: None,
        "empty-dict": lambda: {},
        "empty-list": lambda: [],
        "string": lambda: pick(draw, ("approve", "reject", "")),
        "number": lambda: pick(draw, (0, 1, 42, 1.5)),
        "bool": lambda: pick(draw, (True, False)),
        "unknown-type": lambda: {"type": pick(draw, ("APPROVE", "accept", "yes", "", "skip"))},
        "null-type": lambda: {"type": None},
        "no-type": lambda: {"action": "approve"},
        "tutorial-edit": lambda: {"action": "edit", "correction": args},
        "approve-with-extra": lambda: {"type": "approve", "args": args},
        "reject-message-not-text": lambda: {"type": "reject", "message": pick(draw, (5, ["no"], {"why": "no"}))},
        "respond-empty": lambda: {"type": "respond", "message": ""},
        "respond-not-allowed": lambda: {"type": "respond", "message": "Already ordered."},
        "edit-missing-action": lambda: {"type": "edit"},
        "edit-action-none": lambda: edit(None),
        "edit-no-args": lambda: edit({"name": name}),
        "edit-no-name": lambda: edit({"args": args}),
        "edit-renamed-tool": lambda: edit({"name": other, "args": draw(VALID_ARGS[other])}),
        "edit-wrong-call-args": lambda: edit({"name": name, "args": draw(VALID_ARGS[other])}),
        "edit-wrong-type": lambda: edit({"name": name, "args": {**args, field: pick(draw, WRONG_TYPES[field])}}),
        "edit-missing-arg": lambda: edit({"name": name, "args": {k: v for k, v in args.items() if k != field}}),
        "edit-unknown-arg": lambda: edit({"name": name, "args": {**args, "urgent": True}}),
        "edit-args-not-object": lambda: edit({"name": name, "args": pick(draw, ("item=widget-x", ["widget-x"], 3))}),
    }
    return kind, make[kind]()


# -- the world: a panel over a fresh graph, and what the test has sent ------------------------
class World:
    def __init__(self, flavor: str, prompt: str) -> None:
        self.flavor = flavor
        self.store = InventoryStore()
        self.graph = build_graph(flavor, self.store)
        self.panel = ApprovalPanel(self.graph, CONFIG)
        self.sent: list[tuple[str, str, str, dict | None]] = []
        """(call id, tool, decision type, arguments that may run) per decision sent to the graph."""
        self.drafts: dict[str, dict[int, tuple[str, dict]]] = {}
        """Decisions made in a batch that is not complete yet: interrupt id -> action -> (kind, decision)."""
        self.answered: set[str] = set()
        self.old_views: list[tuple[str, widgets.Box]] = []
        self.seen: dict[tuple[str, int], Pending] = {}
        self._pending_key: tuple | None = None
        self._pending: list[Pending] = []
        self.panel.run(prompt)
        assert panel_error(self.panel) == "", panel_error(self.panel)

    def pending(self) -> list[Pending]:
        # Interrupts change only when the graph resumes (which logs a decision) or runs (which
        # changes the status line): that pair is a safe key for reading the checkpoint once.
        key = (len(self.panel.decisions), self.panel.status)
        if self._pending_key != key:
            found = pending_actions(self.graph)
            self.seen.update({(p.interrupt_id, p.index): p for p in found})
            self._pending_key, self._pending = key, found
        return list(self._pending)

    def live_ids(self) -> set[str]:
        return {i for p in self.pending() for i in (p.interrupt_id, p.call_id)}

    def snapshot(self):
        return (
            [(p.interrupt_id, p.call_id) for p in self.pending()],
            self.store.tool_runs(),
            len(self.panel.decisions),
        )

    def first_undecided(self, interrupt_id: str) -> Pending:
        drafted = self.drafts.get(interrupt_id, {})
        return next(p for p in self.pending() if p.interrupt_id == interrupt_id and p.index not in drafted)

    def record(self, target: Pending, kind: str, decision: dict) -> None:
        """What an accepted decision does: draft it, or send it (and the batch it completes)."""
        if target.batch > 1:
            drafts = self.drafts.setdefault(target.interrupt_id, {})
            drafts[target.index] = (kind, decision)
            if len(drafts) < target.batch:
                return
            group = [self.seen[target.interrupt_id, index] for index in range(target.batch)]
            decided = [(p, *drafts[p.index]) for p in group]
            del self.drafts[target.interrupt_id]
        else:
            decided = [(target, kind, decision)]
        for pending, kind, decision in decided:
            runs = {"approve": pending.args, "edit": (decision.get("edited_action") or {}).get("args")}.get(kind)
            self.sent.append((pending.call_id, pending.name, kind, runs))
            self.answered |= {pending.interrupt_id, pending.call_id}

    # -- the invariants ----------------------------------------------------------------------
    def check(self) -> None:
        ran = Counter((run["tool"], canon(run["args"])) for run in self.store.tool_runs())
        allowed = Counter((name, canon(args)) for _, name, kind, args in self.sent if kind in ("approve", "edit"))
        assert not ran - allowed, f"ran without an approve or edit for it: {ran - allowed}"
        ids = [call_id for call_id, *_ in self.sent]
        assert len(ids) == len(set(ids)), f"a call was decided twice: {ids}"
        log = [(r.call_id, r.tool, r.decision["type"], r.edited_args) for r in self.panel.decisions]
        expected = [(c, n, k, a if k == "edit" else None) for c, n, k, a in self.sent]
        assert log == expected, "the decision log differs from what was sent"
        if self.pending():
            return
        assert ran == allowed, f"approved but did not run exactly once: {allowed - ran} / ran extra: {ran - allowed}"
        messages = self.graph.get_state(CONFIG).values.get("messages", [])
        answers = Counter(m.tool_call_id for m in messages if isinstance(m, ToolMessage))
        for call_id, _, kind, _ in self.sent:
            assert answers[call_id] == 1, f"{call_id} ({kind}) has {answers[call_id]} tool messages"
        rejected = {call_id for call_id, _, kind, _ in self.sent if kind == "reject"}
        for message in messages:
            if isinstance(message, ToolMessage) and message.tool_call_id in rejected:
                assert message.status == "error" and "reject" in message.text.lower(), message.text


# -- one step, through decide() or through the buttons ----------------------------------------
def expect_step(world: World, accept: bool, target: Pending | None, act) -> None:
    """Run `act`, then check it was accepted or refused as expected (and a refusal changed nothing)."""
    before = world.snapshot()
    view = action_view(world.panel, target.call_id) if target else None
    card = card_of(world.panel, view) if view is not None else None
    act()
    shown = "\n".join(filter(None, [panel_error(world.panel), card_error(card)]))
    assert "Unexpected error" not in shown, shown
    if accept:
        assert not shown, f"refused a valid step: {shown}"
    else:
        assert shown, "an invalid step was refused without a message"
        assert world.snapshot() == before, "a refused step changed the thread"
        event(f"refused: {shown.split(':')[0][:40]}")


def decide_step(world: World, data) -> None:
    pending = world.pending()
    target = pick(data.draw, pending)
    address = pick(data.draw, ("interrupt", "call", "call", "implicit", "stale", "unknown", "double", "list"))
    event(f"address: {address}")
    interrupts = {p.interrupt_id for p in pending}
    if address in ("interrupt", "implicit") and target.batch > 1:
        target = world.first_undecided(target.interrupt_id)  # what the session picks too
    if address == "list":
        group = [p for p in pending if p.interrupt_id == target.interrupt_id]
        size = pick(data.draw, (len(group), len(group), len(group) + 1, max(len(group) - 1, 1)))
        picks = [data.draw(valid_decision(group[i % len(group)])) for i in range(size)]
        batch = [decision for _, decision in picks]
        payload = batch if pick(data.draw, (True, False)) else {"decisions": batch}
        accept = world.flavor == "batched" and size == len(group)  # a list answers a HITLRequest only

        def act() -> None:
            world.panel.decide(payload, target.interrupt_id)

        expect_step(world, accept, target, act)
        if accept:
            world.drafts.pop(target.interrupt_id, None)
            for p, (kind, decision) in zip(group, picks, strict=False):
                world.record(p, kind, decision)
        return
    if address in ("stale", "unknown"):
        stale = sorted(world.answered - world.live_ids())
        wanted = pick(data.draw, stale) if address == "stale" and stale else "call_not_a_real_id_0"
        expect_step(world, False, None, lambda: world.panel.decide({"type": "approve"}, wanted))
        return
    valid = pick(data.draw, (True, False))
    if valid:
        kind, decision = data.draw(valid_decision(target))
    else:
        kind, decision = data.draw(invalid_decision(target))
    event(f"decision: {kind}")
    note(f"{address} {target.name} {target.call_id}: {decision!r}")
    wanted = {"interrupt": target.interrupt_id, "implicit": None}.get(address, target.call_id)
    accept = valid and (address != "implicit" or len(interrupts) == 1)
    expect_step(world, accept, target, lambda: world.panel.decide(decision, wanted))
    if accept:
        world.record(target, kind, decision)
    if address == "double" and accept:
        # The same decision again, at once: a stale id unless a batch is still collecting.
        again = target.batch > 1 and target.interrupt_id in world.drafts
        expect_step(world, again, target, lambda: world.panel.decide(decision, wanted))
        if again:
            world.record(target, kind, decision)


def click_step(world: World, data) -> None:
    pending = world.pending()
    target = pick(data.draw, pending)
    view = action_view(world.panel, target.call_id)
    assert view is not None, f"no card shows {target.call_id}"
    world.old_views.append((target.call_id, view))
    found = buttons(view)
    moves = ["approve", "reject", "form-edit", "json-edit", "json-edit", "double-approve", "stale-click", "mode-switch"]
    if "Respond" in found:
        moves.append("respond")
    move = pick(data.draw, moves)
    event(f"click: {move}")
    note(f"{move} on {target.name} {target.call_id}")

    if move in ("approve", "double-approve"):
        expect_step(world, True, target, lambda: approve(view))
        world.record(target, "approve", {"type": "approve"})
        if move == "double-approve":
            again = target.batch > 1 and target.interrupt_id in world.drafts
            expect_step(world, again, target, lambda: approve(view))  # the same card, clicked again
            if again:
                world.record(target, "approve", {"type": "approve"})
    elif move in ("reject", "respond"):
        text = pick(data.draw, (REJECT_MESSAGES if move == "reject" else ("", "On hold.")))
        message_box(view).value = text
        decision = {"type": move, **({"message": text} if text or move == "respond" else {})}
        accept = move == "reject" or bool(text)
        expect_step(world, accept, target, lambda: decide_meaning_it(view, move.capitalize()))
        if accept:
            world.record(target, move, decision)
    elif move == "stale-click":
        live = world.live_ids()
        stale = [(c, v) for c, v in world.old_views if c in world.answered and c not in live]
        if not stale:
            return
        _, old = pick(data.draw, stale)
        expect_step(world, False, None, lambda: approve(old))
    elif move == "mode-switch":
        mode = json_mode(view, target)
        raw_json(view).value = pick(data.draw, ("{", "[]", json.dumps({"name": target.name, "args": target.args})))
        if "Form" in mode.options:
            mode.value = "Form"  # a malformed edit stays in the text and is reported; nothing is sent
        assert world.snapshot()[2] == len(world.sent)
    else:
        mode = open_editor(view)
        found = buttons(view)
        if move == "form-edit" and "Form" in mode.options:
            if mode.value == "JSON":
                # Back to what the form can show first: JSON it cannot hold breaks the switch
                # (test_json_the_form_cannot_hold_is_reported_when_switching_to_the_form).
                raw_json(view).value = json.dumps({"name": target.name, "args": target.args})
            mode.value = "Form"
            args = data.draw(valid_args(target.name))
            for name, widget in zip(FIELDS[target.name], form_inputs(view), strict=True):
                widget.value = args[name]
            decision = {"type": "edit", "edited_action": {"name": target.name, "args": args}}
            accept = "" not in args.values()  # the form refuses an emptied required field (JSON does not)
            expect_step(world, accept, target, lambda: decide_meaning_it(view, "Send edit"))
            if accept:
                world.record(target, "edit", decision)
            return
        json_mode(view, target)
        if pick(data.draw, (True, False)):
            decision = {
                "type": "edit",
                "edited_action": {"name": target.name, "args": data.draw(VALID_ARGS[target.name])},
            }
            raw_json(view).value = json.dumps(decision["edited_action"])
            expect_step(world, True, target, lambda: decide_meaning_it(view, "Send edit"))
            world.record(target, "edit", decision)
        else:
            kind, text = invalid_json_edit(data.draw, target)
            event(f"json: {kind}")
            raw_json(view).value = text
            expect_step(world, False, target, lambda: decide_meaning_it(view, "Send edit"))


JSON_EDIT_KINDS = (
    "malformed",
    "empty",
    "not-an-object",
    "renamed-tool",
    "wrong-call-args",
    "wrong-type",
    "missing-arg",
    "no-args",
)


def invalid_json_edit(draw, pending: Pending) -> tuple[str, str]:
    """(kind, text) for the editor's JSON box that no gate may accept."""
    name = pending.name
    kind = pick(draw, JSON_EDIT_KINDS)
    args = draw(VALID_ARGS[name])
    other = pick(draw, [n for n in TOOL_NAMES if n != name])
    field = pick(draw, FIELDS[name])
    make = {
        "malformed": lambda: pick(draw, ("{", '{"name": ', "{'name': 'x'}", "name: x", "{,}")),
        "empty": lambda: "",
        "not-an-object": lambda: pick(draw, ("[]", "null", "42", '"approve"')),
        "renamed-tool": lambda: json.dumps({"name": other, "args": draw(VALID_ARGS[other])}),
        "wrong-call-args": lambda: json.dumps({"name": name, "args": draw(VALID_ARGS[other])}),
        "wrong-type": lambda: json.dumps({"name": name, "args": {**args, field: pick(draw, WRONG_TYPES[field])}}),
        "missing-arg": lambda: json.dumps({"name": name, "args": {k: v for k, v in args.items() if k != field}}),
        "no-args": lambda: json.dumps({"name": name}),
    }
    return kind, make[kind]()


def play(flavor: str, step, data) -> None:
    prompt = pick(data.draw, PROMPTS)
    world = World(flavor, prompt)
    world.check()
    for _ in range(1 + data.draw(_index(6))):
        if not world.pending():
            break
        step(world, data)
        world.check()
    # Finish the thread with plain approvals and rejections, so the end state is checked too.
    for _ in range(12):
        pending = world.pending()
        if not pending:
            break
        target = next(p for p in pending if p.index not in world.drafts.get(p.interrupt_id, {}))
        kind = pick(data.draw, ("approve", "reject", "reject"))
        decision = {"type": kind}
        expect_step(world, True, target, lambda d=decision, t=target: world.panel.decide(d, t.call_id))
        world.record(target, kind, {"type": kind})
        world.check()
    assert not world.pending(), "the thread did not finish"
    event(f"ran {len(world.store.tool_runs())} tools")


@pytest.mark.parametrize("flavor", FLAVORS)
@RELIABLE
@given(data=st.data())
def test_decide_fails_closed(flavor, data):
    play(flavor, decide_step, data)


@pytest.mark.parametrize("flavor", FLAVORS)
@RELIABLE
@given(data=st.data())
def test_clicks_fail_closed(flavor, data):
    play(flavor, click_step, data)


# -- a catalogue of bad inputs: each refused with a clear message, the interrupt still answerable --
def at_first_review(flavor: str = "kit", prompt: str = PROMPTS[0], approvals: int = 0) -> World:
    """A world paused on a review (after approving `approvals` earlier calls)."""
    world = World(flavor, prompt)
    for _ in range(approvals):
        target = world.pending()[0]
        world.panel.decide({"type": "approve"}, target.call_id)
        world.record(target, "approve", {"type": "approve"})
    return world


def edit(name, args):
    return {"type": "edit", "edited_action": {"name": name, "args": args}}


LOOKUP = {"item": "widget-x", "warehouse": "SF-01"}
ORDER = {"item": "widget-x", "qty": 100, "vendor": "Acme Supply"}
NOTE = {"channel": "slack", "message": "Stock is low."}

# (kind, flavor, approvals before, decision, address, expected message)
CATALOGUE = [
    ("none", "kit", 0, None, "call", r"No decision given"),
    ("empty-dict", "kit", 0, {}, "call", r"No decision given"),
    ("empty-list", "kit", 0, [], "call", r"No decision given"),
    ("empty-tuple", "kit", 0, (), "call", r"No decision given"),
    ("bare-string", "kit", 0, "approve", "call", r"must be a dict.*got str"),
    ("number", "kit", 0, 42, "call", r"must be a dict.*got int"),
    ("bool", "kit", 0, True, "call", r"must be a dict.*got bool"),
    ("unknown-type", "kit", 0, {"type": "APPROVE"}, "call", r"Unknown decision type 'APPROVE'"),
    ("null-type", "kit", 0, {"type": None}, "call", r"Unknown decision type None"),
    ("tutorial-string-action", "kit", 0, {"action": "approve"}, "call", r"Unknown decision type None"),
    (
        "approve-with-extra-key",
        "kit",
        0,
        {"type": "approve", "args": LOOKUP},
        "call",
        r"approve decision .* not valid: args: Extra inputs",
    ),
    (
        "reject-message-not-text",
        "kit",
        0,
        {"type": "reject", "message": 5},
        "call",
        r"reject decision .* not valid: message: Input should be a valid string",
    ),
    (
        "respond-not-allowed",
        "kit",
        0,
        {"type": "respond", "message": "done"},
        "call",
        r"'respond' is not allowed for lookup_inventory",
    ),
    (
        "respond-empty",
        "per_call",
        0,
        {"type": "respond", "message": ""},
        "call",
        r"respond decision .* not valid: message",
    ),
    (
        "edit-without-action",
        "kit",
        0,
        {"type": "edit"},
        "call",
        r"edit decision .* not valid: edited_action: Field required",
    ),
    (
        "edit-action-none",
        "kit",
        0,
        {"type": "edit", "edited_action": None},
        "call",
        r"edited_action: Input should be an object|edited_action: Input should be a valid dictionary",
    ),
    (
        "edit-without-args",
        "kit",
        0,
        {"type": "edit", "edited_action": {"name": "lookup_inventory"}},
        "call",
        r"edited_action.args: Field required",
    ),
    (
        "edit-without-name",
        "kit",
        0,
        {"type": "edit", "edited_action": {"args": LOOKUP}},
        "call",
        r"edited_action.name: Field required",
    ),
    ("edit-renames-tool", "kit", 0, edit("send_notification", NOTE), "call", r"An edit cannot change the tool"),
    (
        "edit-renames-tool-batched",
        "batched",
        0,
        edit("create_purchase_order", ORDER),
        "call",
        r"An edit cannot change the tool",
    ),
    (
        "edit-args-of-another-call",
        "kit",
        0,
        edit("lookup_inventory", ORDER),
        "call",
        r"edit decision .* not valid: edited_action.args",
    ),
    (
        "edit-item-wrong-type",
        "kit",
        0,
        edit("lookup_inventory", {**LOOKUP, "item": 5}),
        "call",
        r"edited_action.args.item: Input should be a valid string",
    ),
    (
        "edit-missing-arg",
        "kit",
        0,
        edit("lookup_inventory", {"item": "widget-x"}),
        "call",
        r"edited_action.args.warehouse: Field required",
    ),
    (
        "edit-unknown-arg",
        "kit",
        0,
        edit("lookup_inventory", {**LOOKUP, "urgent": True}),
        "call",
        r"edited_action.args.urgent: Extra inputs are not permitted",
    ),
    (
        "edit-args-not-object",
        "kit",
        0,
        edit("lookup_inventory", "item=widget-x"),
        "call",
        r"edited_action.args: Input should be",
    ),
    (
        "edit-qty-not-a-number",
        "kit",
        1,
        edit("create_purchase_order", {**ORDER, "qty": "many"}),
        "call",
        r"edited_action.args.qty: Input should be a valid integer",
    ),
    (
        "edit-qty-fraction",
        "kit",
        1,
        edit("create_purchase_order", {**ORDER, "qty": 1.5}),
        "call",
        r"edited_action.args.qty: Input should be a valid integer",
    ),
    (
        "edit-channel-not-allowed",
        "kit",
        2,
        edit("send_notification", {**NOTE, "channel": "pager"}),
        "call",
        r"edited_action.args.channel: Input should be 'email', 'slack' or 'sms'",
    ),
    (
        "edit-per-call-wrong-type",
        "per_call",
        0,
        edit("lookup_inventory", {**LOOKUP, "warehouse": None}),
        "call",
        r"edited_action.args.warehouse: Input should be a valid string",
    ),
    ("unknown-id", "kit", 0, {"type": "approve"}, "not-a-real-id", r"Unknown id 'not-a-real-id'"),
    ("stale-id", "kit", 1, {"type": "approve"}, "stale", r"no longer pending"),
    (
        "list-for-a-single-request",
        "kit",
        0,
        [{"type": "approve"}],
        "call",
        r"A list of decisions answers a batched request only",
    ),
    (
        "batch-too-short",
        "batched",
        0,
        {"decisions": []},
        "interrupt",
        r"one decision for each|No decision given|has 2 actions",
    ),
    (
        "batch-too-long",
        "batched",
        0,
        [{"type": "approve"}] * 3,
        "interrupt",
        r"send one decision for each, in order \(got 3\)",
    ),
    (
        "batch-with-a-bad-member",
        "batched",
        0,
        [{"type": "approve"}, {"type": "maybe"}],
        "interrupt",
        r"Unknown decision type 'maybe'",
    ),
    (
        "implicit-with-two-pending",
        "per_call",
        0,
        {"type": "approve"},
        "implicit",
        r"2 interrupts are pending; say which one",
    ),
]
BATCH_PROMPT = PROMPTS[1]  # two lookups in one model turn


def run_catalogue_case(flavor, approvals, decision, address):
    multi = flavor in ("batched",) or address == "implicit"
    world = at_first_review(flavor, BATCH_PROMPT if multi else PROMPTS[0], approvals)
    stale = sorted(world.answered - world.live_ids())
    target = world.pending()[0]
    wanted = {
        "call": target.call_id,
        "interrupt": target.interrupt_id,
        "implicit": None,
        "stale": stale[0] if stale else None,
    }.get(address, address)
    before = world.snapshot()
    view = action_view(world.panel, target.call_id)
    card = card_of(world.panel, view)
    world.panel.decide(decision, wanted)
    shown = "\n".join(filter(None, [panel_error(world.panel), card_error(card)]))
    return world, target, before, shown


@pytest.mark.parametrize(
    "flavor, approvals, decision, address, message",
    [case[1:] for case in CATALOGUE],
    ids=[case[0] for case in CATALOGUE],
)
def test_bad_input_is_refused_and_the_interrupt_stays_answerable(flavor, approvals, decision, address, message):
    world, target, before, shown = run_catalogue_case(flavor, approvals, decision, address)
    assert re.search(message, shown), f"expected /{message}/ in: {shown!r}"
    assert world.snapshot() == before, "a refused decision changed the thread"
    # Still answerable: an approval of the same call goes through and runs it once.
    world.panel.decide({"type": "approve"}, target.call_id)
    assert not panel_error(world.panel), panel_error(world.panel)
    world.record(target, "approve", {"type": "approve"})
    world.check()
    if target.batch == 1:
        assert target.call_id not in world.live_ids()


# Inputs only a person at the panel can produce (typed text, clicks on old cards).
def click_case(kind: str):
    flavor = "per_call" if kind == "respond-empty-click" else "kit"
    world = World(flavor, PROMPTS[0])
    target = world.pending()[0]
    view = action_view(world.panel, target.call_id)
    card = card_of(world.panel, view)
    found = buttons(view)
    if kind == "respond-empty-click":
        return world, target, card, found["Respond"].click
    open_editor(view).value = "JSON"
    found = buttons(view)
    raw_json(view).value = {
        "json-malformed": '{"name": "lookup_inventory", "args": {"item": "widget-x",',
        "json-not-an-object": "[1, 2]",
        "json-renamed-tool": json.dumps({"name": "create_purchase_order", "args": ORDER}),
        "json-empty": "",
    }[kind]
    return world, target, card, found["Send edit"].click


CLICK_CATALOGUE = [
    ("json-malformed", r"Malformed JSON edit: .* line 1, column \d+\. Nothing was sent\."),
    ("json-not-an-object", r"The JSON edit must be an object"),
    ("json-renamed-tool", r"An edit cannot change the tool"),
    ("json-empty", r"Malformed JSON edit: Expecting value"),
    ("respond-empty-click", r"respond decision .* not valid: message"),
]


@pytest.mark.parametrize("kind, message", CLICK_CATALOGUE, ids=[c[0] for c in CLICK_CATALOGUE])
def test_bad_input_typed_in_the_panel_is_refused(kind, message):
    world, target, card, act = click_case(kind)
    before = world.snapshot()
    act()
    shown = "\n".join(filter(None, [panel_error(world.panel), card_error(card)]))
    assert re.search(message, shown), f"expected /{message}/ in: {shown!r}"
    assert world.snapshot() == before
    approve(action_view(world.panel, target.call_id))
    world.record(target, "approve", {"type": "approve"})
    world.check()


def test_approve_after_typing_a_message_asks_first_then_approves():
    """A reviewer types a reason, then decides to approve after all: Approve first says the
    message will not be sent and sends nothing; confirmed, it approves.

    In a batch the message box keeps what was typed for an earlier Reject, too.
    """
    world = World("batched", BATCH_PROMPT)
    first, second = world.pending()
    view = action_view(world.panel, first.call_id)
    message_box(view).value = "Too expensive."
    before = world.snapshot()
    buttons(view)["Approve"].click()
    assert "Approve without the message" in buttons(view) and world.snapshot() == before
    buttons(view)["Approve without the message"].click()
    assert not card_error(card_of(world.panel, view)), card_error(card_of(world.panel, view))
    world.record(first, "approve", {"type": "approve"})
    approve(action_view(world.panel, second.call_id))
    world.record(second, "approve", {"type": "approve"})
    world.check()


def test_json_the_form_cannot_hold_is_reported_when_switching_to_the_form():
    """A reviewer types `"qty": "many"` in the JSON view, then switches to the form.

    The switch must not raise (in the browser ipywidgets swallows it: the toggle says
    Form, the JSON stays, and no message says why): it says what does not fit, and
    nothing is sent.
    """
    world = at_first_review("kit", PROMPTS[0], approvals=1)
    target = world.pending()[0]
    view = action_view(world.panel, target.call_id)
    mode = open_editor(view)
    mode.value = "JSON"
    raw_json(view).value = json.dumps({"name": target.name, "args": {**target.args, "qty": "many"}})
    before = world.snapshot()
    mode.value = "Form"
    assert re.search(r"qty", card_error(card_of(world.panel, view))), card_error(card_of(world.panel, view))
    assert world.snapshot() == before


def test_an_edit_beyond_the_tools_range_is_refused_and_not_logged():
    """qty=10**20 is more than the tool's schema allows (and more than a checkpoint can store).

    It is refused at the gate, so the question stays open and the log does not say the
    call was edited (a later Approve would otherwise leave two decisions for one call).
    """
    world = at_first_review("kit", PROMPTS[0], approvals=1)
    order = world.pending()[0]
    world.panel.decide(edit("create_purchase_order", {**ORDER, "qty": 10**20}), order.call_id)
    assert order.call_id in world.live_ids(), "the order was taken"
    logged = [r.decision["type"] for r in world.panel.decisions if r.call_id == order.call_id]
    assert logged == [], f"the log says {logged} for a call that is still waiting"


def test_a_button_of_an_answered_card_is_refused():
    world = World("kit", PROMPTS[0])
    first = world.pending()[0]
    old = action_view(world.panel, first.call_id)
    approve(old)
    world.record(first, "approve", {"type": "approve"})
    before = world.snapshot()
    buttons(old)["Reject"].click()
    assert re.search(r"no longer pending", panel_error(world.panel)), panel_error(world.panel)
    assert world.snapshot() == before
    target = world.pending()[0]
    approve(action_view(world.panel, target.call_id))
    world.record(target, "approve", {"type": "approve"})
    world.check()


def test_run_while_waiting_is_refused_and_the_review_stays_answerable():
    world = World("kit", PROMPTS[0])
    target = world.pending()[0]
    before = world.snapshot()
    world.panel.run("Check gadget-y in NY-02.")
    assert re.search(r"waiting for 1 decision", panel_error(world.panel)), panel_error(world.panel)
    world.panel.run(Command(resume={"type": "approve"}))
    assert re.search(r"run\(\) takes new input", panel_error(world.panel)), panel_error(world.panel)
    assert world.snapshot() == before
    world.panel.decide({"type": "approve"}, target.call_id)
    world.record(target, "approve", {"type": "approve"})
    world.check()


# -- governance: policies, grants, revocations, named reviewers (notebook 16) ----------------------
# Random sequences of runs, answers (any reviewer, any scope, a right or a wrong fingerprint,
# edits within and beyond the policy), revocations and runs on a second thread, straight
# against the governed graph. After every step, from the store and the audit trail:
# no order the policy denies ran, no order that needs two approvals ran without two distinct
# named human approvals of exactly what ran, no call ran twice, every order the store holds
# has its execution record, and a grant only ever answered calls on its own thread while it
# was not revoked.
GOVERNANCE_EXAMPLES = int(os.environ.get("HITL_GOVERNANCE_EXAMPLES", "1000"))
"""At least 1,000 by default: the issue asks for it; lower it only when debugging."""
GOVERNED_VENDORS = {"Acme Supply"}
GOVERNED_POLICY_RULES = (
    ("lookups", "lookup_inventory", lambda c, x: True, "allow"),
    (
        "small order",
        "create_purchase_order",
        lambda c, x: c.args["qty"] <= 50 and c.args["vendor"] in GOVERNED_VENDORS,
        "allow",
    ),
    ("unapproved vendor", "create_purchase_order", lambda c, x: c.args["vendor"] not in GOVERNED_VENDORS, "deny"),
    ("large order", "create_purchase_order", lambda c, x: c.args["qty"] > 1000, "ask2"),
)
GOVERNED_THREADS = ("gov", "gov-other")
REVIEWERS = ("alice", "bob", "carol", None)


def governed_policy():
    from hitl_widgets.policy import Policy, allow, ask, deny, rule

    outcomes = {"allow": allow(), "deny": deny("unapproved vendor"), "ask2": ask(approvals=2)}
    return Policy([rule(n, tool=t, when=w, then=outcomes[o]) for n, t, w, o in GOVERNED_POLICY_RULES], default=ask())


def governed_prompt(qty: int, vendor: str) -> str:
    return f"Check widget-x in SF-01. If stock is below 10 units, order {qty} from '{vendor}'."


def check_governance(graph, policy, store) -> None:
    audit = graph.audit
    records = audit.records()
    ran = [r for r in records if r["event"] == "execution" and r["outcome"] == "ran"]
    orders_ran = [r for r in ran if r["call"]["tool"] == "create_purchase_order"]
    runs = [run for run in store.tool_runs() if run["tool"] == "create_purchase_order"]
    assert len(runs) == len(orders_ran), "an order ran without an execution record"
    assert [r["args"] for r in runs] == [r["ran_args"] for r in orders_ran]
    ids = [(r["thread_id"], r["call"]["id"]) for r in ran]
    assert len(ids) == len(set(ids)), "a call ran twice"
    grants = {g["id"]: g for g in audit.grants(include_revoked=True)}
    for record in orders_ran:
        verdict = policy.check("create_purchase_order", **record["ran_args"])
        assert verdict.kind != "deny", f"a denied order ran: {record}"
        decisions = [
            r
            for r in records
            if r["event"] == "decision"
            and r["thread_id"] == record["thread_id"]
            and r["call"]["id"] == record["call"]["id"]
        ]
        human_approvals = {r["actor"] for r in decisions if not r["automatic"] and r["decision"] == "approve"}
        if verdict.kind == "ask" and verdict.outcome.approvals > 1:
            assert len(human_approvals) >= 2 and None not in human_approvals, f"no quorum: {record} {decisions}"
            assert all(r["fingerprint"] == record["fingerprint"] for r in decisions if r["decision"] == "approve")
        elif verdict.kind == "ask":
            assert any(r["decision"] in ("approve", "edit") for r in decisions), f"ran unasked: {record}"
    for record in records:
        if record["event"] == "decision" and record.get("grant") is not None:
            grant = grants[record["grant"]]
            assert grant["thread_id"] == record["thread_id"], "a grant answered another thread"
            assert not grant["revoked_at"] or record["at"] < grant["revoked_at"], "a revoked grant answered"
    assert audit.verify() == []


@settings(RELIABLE, max_examples=GOVERNANCE_EXAMPLES)
@given(data=st.data())
def test_no_sequence_of_decisions_grants_and_revocations_runs_what_the_policy_forbids(data):
    from hitl_widgets.audit import FixedClock

    policy = governed_policy()
    store = InventoryStore()
    graph = build_review_graph(
        OfflineChatModel(), make_tools(store), InMemorySaver(), policy=policy, clock=FixedClock()
    )
    for _ in range(data.draw(st.integers(1, 10), label="steps")):
        thread = data.draw(st.sampled_from(GOVERNED_THREADS), label="thread")
        config = {"configurable": {"thread_id": thread, "requester": "carol"}}
        interrupts = graph.get_state(config).interrupts
        action = data.draw(st.sampled_from(("answer", "answer", "answer", "revoke", "run")), label="action")
        if action == "revoke":
            live = graph.audit.grants(include_revoked=False)
            if live:
                graph.audit.revoke(data.draw(st.sampled_from([g["id"] for g in live]), label="grant"), by="alice")
        elif not interrupts:
            qty = data.draw(st.sampled_from((20, 100, 2000)), label="qty")
            vendor = data.draw(st.sampled_from(("Acme Supply", "Globex")), label="vendor")
            graph.invoke({"messages": [("user", governed_prompt(qty, vendor))]}, config)
        else:
            item = interrupts[0]
            kind = data.draw(st.sampled_from(("approve", "approve", "reject", "edit")), label="decision")
            decision: dict = {"type": kind}
            if kind == "edit":
                args = {
                    "item": "widget-x",
                    "qty": data.draw(st.sampled_from((10, 300, 5000)), label="edit qty"),
                    "vendor": data.draw(st.sampled_from(("Acme Supply", "Globex")), label="edit vendor"),
                }
                decision["edited_action"] = {"name": "create_purchase_order", "args": args}
            envelope = {"decision": decision, "fingerprint": item.value.get("fingerprint", "")}
            if data.draw(st.booleans(), label="wrong fingerprint") and data.draw(st.booleans()):
                envelope["fingerprint"] = "f" * 32
            reviewer = data.draw(st.sampled_from(REVIEWERS), label="reviewer")
            if reviewer:
                envelope["reviewer"] = reviewer
            scope = data.draw(st.sampled_from(("once", "thread", "pattern", "bad pattern")), label="scope")
            if scope == "thread":
                envelope["scope"] = {"kind": "thread"}
            elif scope == "pattern":
                envelope["scope"] = {"kind": "pattern", "pattern": item.value["governance"]["suggested_pattern"]}
            elif scope == "bad pattern":
                envelope["scope"] = {"kind": "pattern", "pattern": {"qty": {"max": 1}}}
            note(f"{thread}: {envelope}")
            try:
                graph.invoke(Command(resume={item.id: envelope}), config)
            except Exception as error:  # a schema refusal (an edit the tool's schema refuses): nothing saved
                assert "validation" in type(error).__name__.lower() or "Validation" in str(error), error
                assert graph.get_state(config).interrupts[0].id == item.id
        check_governance(graph, policy, store)
    event(f"orders ran: {len(store.purchase_orders())}")
