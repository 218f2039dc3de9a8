def edit_from(call: dict, **changes) -> dict:
    unknown = sorted(set(changes) - set(call["args"]))
    if unknown:
        raise ValueError(f"{call['name']} has no argument {', '.join(unknown)}; it takes {', '.join(call['args'])}.")
    return {"type": "edit", "edited_action": {"name": call["name"], "args": {**call["args"], **changes}}}
