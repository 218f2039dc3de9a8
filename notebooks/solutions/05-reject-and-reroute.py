def vendor_reviewer(call: dict) -> dict:
    if call["name"] == "lookup_inventory":
        return {"type": "approve"}
    if call["name"] == "create_purchase_order" and call["args"]["vendor"] == "Globex":
        return {"type": "approve"}
    return {"type": "reject", "message": "We order widgets only from 'Globex': order the same from them instead."}
