DECISIONS = ("approve", "edit", "reject", "respond")


def check_policy(policy: dict, tools) -> None:
    names = {tool.name for tool in tools}
    for name, rule in policy.items():
        if name not in names:
            raise ValueError(f"The policy names {name!r}, which is not a tool here; the tools are {sorted(names)}.")
        unknown = [decision for decision in rule if decision not in DECISIONS] if rule != AUTO_APPROVE else []
        if unknown:
            raise ValueError(f"The rule for {name!r} lists {unknown}; a decision is one of {list(DECISIONS)}.")
