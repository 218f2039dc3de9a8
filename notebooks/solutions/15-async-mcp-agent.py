def reject_with_reason(panel, reason):
    panel.decide({"type": "reject", "message": reason})
