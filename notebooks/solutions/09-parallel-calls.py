def decide_all(interrupts):
    answers = {}
    for pending in interrupts:
        if pending.value["tool_call"]["args"]["item"] == "sprocket-z":
            answers[pending.id] = {"type": "approve"}
        else:
            answers[pending.id] = {"type": "reject", "message": "Enough stock for now."}
    return answers
