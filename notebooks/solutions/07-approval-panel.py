def review_all(panel):
    for pending in panel.pending:
        if pending.value["name"] == "lookup_inventory":
            panel.decide({"type": "approve"}, pending.id)
        else:
            panel.decide({"type": "reject", "message": "Lookups only, please."}, pending.id)
