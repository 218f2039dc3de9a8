from langchain_core.tools import tool


@tool
def check_reorder_point(item: str, warehouse: str, minimum: int) -> str:
    """Check whether an item's stock in a warehouse is below a minimum (its reorder point)."""
    units = store.stock(item, warehouse)
    if units is None:
        return f"Error: no stock record for {item!r} in {warehouse!r}."
    if units < minimum:
        return f"{item} in {warehouse}: {units} units, below the reorder point of {minimum}."
    return f"{item} in {warehouse}: {units} units, at or above the reorder point of {minimum}."


exercise_reply = model.bind_tools([check_reorder_point]).invoke(
    "Call check_reorder_point with item=widget-x, warehouse=SF-01 and minimum=10"
)
