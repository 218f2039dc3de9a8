halved = {
    "type": "edit",
    "edited_action": {
        "name": ex_call["name"],
        "args": {**ex_call["args"], "qty": ex_call["args"]["qty"] // 2},
    },
}
