"""Policy as code: three outcomes, first match wins, a closed default, and failing closed."""

import pytest

from hitl_widgets.policy import (
    Context,
    Policy,
    ToolCall,
    allow,
    ask,
    deny,
    describe_pattern,
    matches,
    rule,
    suggest_pattern,
)

APPROVED = {"Acme Supply"}
ORDER = "create_purchase_order"


@pytest.fixture
def policy():
    return Policy(
        [
            rule(
                "small order, approved vendor",
                tool=ORDER,
                when=lambda c, x: c.args["qty"] <= 50 and c.args["vendor"] in APPROVED,
                then=allow(),
            ),
            rule(
                "unapproved vendor",
                tool=ORDER,
                when=lambda c, x: c.args["vendor"] not in APPROVED,
                then=deny("unapproved vendor"),
            ),
            rule("large order", tool=ORDER, when=lambda c, x: c.args["qty"] > 1000, then=ask(approvals=2)),
            rule("lookups", tool="lookup_inventory", then=allow()),
        ],
        default=ask(),
    )


def test_the_three_outcomes_and_the_rule_that_gave_them(policy):
    small = policy.check(ORDER, item="widget-x", qty=50, vendor="Acme Supply")
    assert (small.kind, small.rule) == ("allow", "small order, approved vendor")
    other = policy.check(ORDER, item="widget-x", qty=5, vendor="Globex")
    assert (other.kind, other.rule, other.outcome.reason) == ("deny", "unapproved vendor", "unapproved vendor")
    big = policy.check(ORDER, item="widget-x", qty=2000, vendor="Acme Supply")
    assert (big.kind, big.outcome.approvals, big.outcome.decisions) == ("ask", 2, ("approve", "reject"))
    middle = policy.check(ORDER, item="widget-x", qty=51, vendor="Acme Supply")
    assert (middle.kind, middle.rule) == ("ask", "default")


def test_first_match_wins():
    first = Policy([rule("a", then=deny("first")), rule("b", then=allow())])
    assert first.check("anything").outcome.reason == "first"


def test_the_default_closes_the_list_and_is_never_allow():
    assert Policy([], default=deny("closed")).check("x").kind == "deny"
    with pytest.raises(ValueError, match="never"):
        Policy([], default=allow())


@pytest.mark.parametrize(
    ("when", "why"),
    [(lambda c, x: c.args["missing"], "KeyError"), (lambda c, x: "yes", "returned 'yes'"), (lambda c, x: None, "None")],
)
def test_a_rule_that_raises_or_returns_a_non_bool_denies_and_says_which(when, why):
    verdict = Policy([rule("broken", when=when, then=allow())]).check("t", a=1)
    assert verdict.kind == "deny" and verdict.error and "broken" in verdict.outcome.reason and why in verdict.error


def test_an_unknown_outcome_is_refused_when_written_and_denied_when_smuggled_in():
    with pytest.raises(TypeError, match="allow"):
        rule("bad", then="allow")  # type: ignore[arg-type]
    policy = Policy([rule("r", then=allow())])
    object.__setattr__(policy.rules[0], "then", "allow")
    assert policy.check("t").kind == "deny"


def test_rules_see_the_context():
    policy = Policy([rule("self-service", when=lambda c, x: x.requester == "carol", then=deny("not carol"))])
    assert policy.evaluate(ToolCall("t", {}), Context(requester="carol")).kind == "deny"
    assert policy.evaluate(ToolCall("t", {}), Context(requester="dave")).kind == "ask"


def test_bad_arguments_to_the_outcomes_are_refused():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            ask(approvals=bad)
    with pytest.raises(ValueError):
        ask(approvals=2, decisions=("approve", "edit"))
    with pytest.raises(ValueError):
        deny("  ")
    with pytest.raises(ValueError, match="share a name"):
        Policy([rule("a", then=allow()), rule("a", then=allow())])


def test_the_old_table_becomes_rules():
    policy = Policy.from_table({"lookup_inventory": "auto", ORDER: ["approve", "reject"]})
    assert policy.check("lookup_inventory").kind == "allow"
    assert policy.check(ORDER).outcome.decisions == ("approve", "reject")
    assert policy.check("send_notification").kind == "ask"
    with pytest.raises(ValueError):
        Policy.from_table({"x": "auto-approve"})


def test_patterns_match_fail_closed_and_read_as_words():
    pattern = suggest_pattern({"item": "widget-x", "qty": 100, "vendor": "Acme Supply"})
    assert pattern == {"item": "widget-x", "qty": {"max": 100}, "vendor": "Acme Supply"}
    assert matches(pattern, {"item": "widget-x", "qty": 40, "vendor": "Acme Supply"})
    assert not matches(pattern, {"item": "widget-x", "qty": 101, "vendor": "Acme Supply"})
    assert not matches(pattern, {"item": "widget-x", "vendor": "Acme Supply"})
    assert not matches(pattern, {"item": "widget-x", "qty": "40", "vendor": "Acme Supply"})
    assert not matches({"qty": {"approx": 3}}, {"qty": 3})
    assert not matches({"qty": 1}, {"qty": True})
    assert describe_pattern(ORDER, pattern) == (
        "create_purchase_order where item == 'widget-x' and qty <= 100 and vendor == 'Acme Supply'"
    )
