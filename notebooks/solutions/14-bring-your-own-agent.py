# Solution for notebook 14's exercise: a threshold in your own gate.
# Run it inside the notebook with `%run -i solutions/14-bring-your-own-agent.py`: the names it uses
# (OrderAnswer, LIMIT, TWO_ORDERS, act_with, build, config, scripted_model, server, script...) are its own.


def threshold_gate(call: dict) -> bool:
    """Only orders above LIMIT ask; a big order runs only on approved=True."""
    if call["name"] != "create_purchase_order" or call["args"]["qty"] <= LIMIT:
        return True  # decided by the call alone, so every re-run asks the same questions in the same order
    answer = interrupt({"please_review": "purchase order", "order": call["args"]}, response_schema=OrderAnswer)
    return isinstance(answer, OrderAnswer) and answer.approved is True


exercise_graph = build(act_with(threshold_gate), scripted_model.bind_tools(tools))
exercise_panel = ApprovalPanel(exercise_graph, config("exercise"), tools=tools)
server.respond = script(calls(*TWO_ORDERS), says("[scripted] Done."))
exercise_panel.run("Restock.")
exercise_panel.decide({"approved": True})
