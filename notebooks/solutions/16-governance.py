my_policy = Policy(
    [
        rule("lookups", tool="lookup_inventory", then=allow()),
        rule(
            "Globex on hold",
            tool="create_purchase_order",
            when=lambda call, ctx: call.args["vendor"] == "Globex",
            then=deny("Globex is on hold"),
        ),
        rule(
            "four-eyes over 500 units",
            tool="create_purchase_order",
            when=lambda call, ctx: call.args["qty"] > 500,
            then=ask(approvals=2),
        ),
    ],
    default=ask(),
)
