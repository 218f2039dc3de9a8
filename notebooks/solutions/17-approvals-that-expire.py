on_call_then_reject = Escalate(
    after=timedelta(minutes=10),
    to="on-call",
    then=Reject(after=timedelta(minutes=5), message="on-call did not answer"),
)
exercise_expiry = Expiry({"create_purchase_order": on_call_then_reject}, clock=clock)
exercise_graph = build_review_graph(OfflineChatModel(), make_tools(store), InMemorySaver(), expiry=exercise_expiry)
exercise_config = at_order(exercise_graph, "exercise")
for minutes in (10, 5):  # nobody answers the order, then nobody answers the escalation
    clock.advance(timedelta(minutes=minutes))
    sweep(exercise_graph, worker="cron")
