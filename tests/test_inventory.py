"""InventoryStore and make_tools: the scenario's tools and the side effects a learner checks."""

import sqlite3
from contextlib import closing

import pytest
from pydantic import ValidationError

from hitl_widgets.inventory import SEED_STOCK, InventoryStore, make_tools


@pytest.fixture
def store() -> InventoryStore:
    return InventoryStore()


def order_tool(store: InventoryStore):
    return next(tool for tool in make_tools(store) if tool.name == "create_purchase_order")


def test_make_tools_gives_the_three_scenario_tools(tools_by_name):
    assert sorted(tools_by_name) == ["create_purchase_order", "lookup_inventory", "send_notification"]
    assert all(tool.description for tool in tools_by_name.values())


# -- seed ------------------------------------------------------------------------------
def test_seed_stock_matches_the_scenario(store):
    assert SEED_STOCK  # the table below must not be vacuous
    for (item, warehouse), units in SEED_STOCK.items():
        assert store.stock(item, warehouse) == units
    assert store.stock("widget-x", "SF-01") == 7
    assert store.stock("widget-x", "NY-02") == 120


def test_seed_lists_items_and_warehouses_sorted(store):
    assert store.items() == ["gadget-y", "sprocket-z", "widget-x"]
    assert store.warehouses() == ["NY-02", "SF-01"]


def test_unknown_stock_is_none(store):
    assert store.stock("widget-x", "LA-03") is None
    assert store.stock("gizmo-q", "SF-01") is None


def test_a_fresh_store_has_no_orders_outbox_or_runs(store):
    assert store.purchase_orders() == []
    assert store.outbox() == []
    assert store.tool_runs() == []


# -- each tool's effect -----------------------------------------------------------------
def test_lookup_reports_units_and_writes_nothing_but_the_run_log(store, tools_by_name):
    result = tools_by_name["lookup_inventory"].invoke({"item": "gadget-y", "warehouse": "NY-02"})
    assert result == "gadget-y in NY-02: 3 units in stock."
    assert store.purchase_orders() == []
    assert store.outbox() == []
    assert store.tool_runs() == [{"tool": "lookup_inventory", "args": {"item": "gadget-y", "warehouse": "NY-02"}}]


def test_purchase_order_writes_exactly_one_row(store, tools_by_name):
    result = tools_by_name["create_purchase_order"].invoke({"item": "widget-x", "qty": 100, "vendor": "Acme Supply"})
    assert result == "Purchase order PO-0001 created: 100 x widget-x from Acme Supply."
    assert store.purchase_orders() == [{"id": 1, "item": "widget-x", "qty": 100, "vendor": "Acme Supply"}]
    assert store.outbox() == []


def test_purchase_orders_are_numbered_in_order(store, tools_by_name):
    order = tools_by_name["create_purchase_order"]
    first = order.invoke({"item": "widget-x", "qty": 1, "vendor": "Acme Supply"})
    second = order.invoke({"item": "gadget-y", "qty": 2, "vendor": "Globex"})
    assert "PO-0001" in first and "PO-0002" in second
    assert [(po["item"], po["vendor"]) for po in store.purchase_orders()] == [
        ("widget-x", "Acme Supply"),
        ("gadget-y", "Globex"),
    ]


def test_purchase_order_does_not_change_stock(store, tools_by_name):
    tools_by_name["create_purchase_order"].invoke({"item": "widget-x", "qty": 100, "vendor": "Acme Supply"})
    assert store.stock("widget-x", "SF-01") == 7


def test_notification_writes_exactly_one_outbox_row(store, tools_by_name):
    result = tools_by_name["send_notification"].invoke({"channel": "email", "message": "Stock is low."})
    assert result == "Notification N-0001 sent via email: Stock is low."
    assert store.outbox() == [{"id": 1, "channel": "email", "message": "Stock is low."}]
    assert store.purchase_orders() == []


def test_qty_given_as_a_numeric_string_is_coerced_by_the_schema(store, tools_by_name):
    tools_by_name["create_purchase_order"].invoke({"item": "widget-x", "qty": "50", "vendor": "Acme Supply"})
    assert store.purchase_orders()[0]["qty"] == 50


# -- errors come back as text, and nothing is written ------------------------------------
@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("lookup_inventory", {"item": "gizmo-q", "warehouse": "SF-01"}, "unknown item 'gizmo-q'"),
        ("lookup_inventory", {"item": "widget-x", "warehouse": "LA-03"}, "unknown warehouse 'LA-03'"),
        ("create_purchase_order", {"item": "gizmo-q", "qty": 5, "vendor": "Acme Supply"}, "unknown item 'gizmo-q'"),
        ("create_purchase_order", {"item": "widget-x", "qty": 5, "vendor": ""}, "vendor must not be empty"),
        ("create_purchase_order", {"item": "widget-x", "qty": 5, "vendor": "   "}, "vendor must not be empty"),
        ("send_notification", {"channel": "slack", "message": ""}, "message must not be empty"),
        ("send_notification", {"channel": "slack", "message": " \n"}, "message must not be empty"),
    ],
    ids=[
        "lookup-unknown-item",
        "lookup-unknown-warehouse",
        "order-unknown-item",
        "order-empty-vendor",
        "order-blank-vendor",
        "notify-empty",
        "notify-blank",
    ],
)
def test_bad_arguments_return_error_text_and_write_no_row(store, tools_by_name, tool, args, expected):
    result = tools_by_name[tool].invoke(args)
    assert result.startswith("Error: ")
    assert expected in result
    assert store.purchase_orders() == []
    assert store.outbox() == []
    assert store.tool_runs() == [{"tool": tool, "args": args}]  # the attempt is still logged


def test_unknown_item_error_lists_the_known_items(tools_by_name):
    result = tools_by_name["lookup_inventory"].invoke({"item": "gizmo-q", "warehouse": "SF-01"})
    assert "Known items: gadget-y, sprocket-z, widget-x." in result


def test_unknown_warehouse_error_lists_the_known_warehouses(tools_by_name):
    result = tools_by_name["lookup_inventory"].invoke({"item": "widget-x", "warehouse": "LA-03"})
    assert "Known warehouses: NY-02, SF-01." in result


def test_a_channel_outside_the_enum_is_refused_before_the_tool_runs(store, tools_by_name):
    with pytest.raises(ValidationError, match="channel"):
        tools_by_name["send_notification"].invoke({"channel": "fax", "message": "hi"})
    assert store.outbox() == []
    assert store.tool_runs() == []


@pytest.mark.parametrize("qty", ["lots", 0, -3], ids=["not-a-number", "zero", "negative"])
def test_a_qty_the_schema_refuses_never_reaches_the_tool(store, tools_by_name, qty):
    # the schema's bounds (1 <= qty): an edit form and the model see them, and nothing runs
    with pytest.raises(ValidationError, match="qty"):
        tools_by_name["create_purchase_order"].invoke({"item": "widget-x", "qty": qty, "vendor": "Acme Supply"})
    assert store.tool_runs() == [] and store.purchase_orders() == []


# -- the run log ------------------------------------------------------------------------
def test_tool_runs_log_every_run_in_order(store, tools_by_name):
    calls = [
        ("lookup_inventory", {"item": "widget-x", "warehouse": "SF-01"}),
        ("create_purchase_order", {"item": "widget-x", "qty": 100, "vendor": "Acme Supply"}),
        ("send_notification", {"channel": "slack", "message": "Ordered."}),
        ("lookup_inventory", {"item": "widget-x", "warehouse": "SF-01"}),
    ]
    for name, args in calls:
        tools_by_name[name].invoke(args)
    assert store.tool_runs() == [{"tool": name, "args": args} for name, args in calls]
    assert len(store.purchase_orders()) == 1
    assert len(store.outbox()) == 1


def test_two_in_memory_stores_are_independent():
    first, second = InventoryStore(), InventoryStore()
    order_tool(first).invoke({"item": "widget-x", "qty": 1, "vendor": "Acme Supply"})
    assert len(first.purchase_orders()) == 1
    assert second.purchase_orders() == []


# -- a file shared by two stores ----------------------------------------------------------
def test_file_backed_stores_on_one_path_see_the_same_rows(tmp_path):
    path = tmp_path / "inventory.db"
    writer, reader = InventoryStore(path), InventoryStore(str(path))
    by_name = {tool.name: tool for tool in make_tools(writer)}
    by_name["create_purchase_order"].invoke({"item": "widget-x", "qty": 100, "vendor": "Acme Supply"})
    by_name["send_notification"].invoke({"channel": "sms", "message": "Ordered."})

    assert (
        reader.purchase_orders()
        == writer.purchase_orders()
        == [{"id": 1, "item": "widget-x", "qty": 100, "vendor": "Acme Supply"}]
    )
    assert reader.outbox() == [{"id": 1, "channel": "sms", "message": "Ordered."}]
    assert len(reader.tool_runs()) == 2


def test_opening_a_file_again_does_not_reseed_or_duplicate(tmp_path):
    path = tmp_path / "inventory.db"
    InventoryStore(path)
    again = InventoryStore(path)
    assert again.stock("widget-x", "SF-01") == 7
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT COUNT(*) FROM stock").fetchone()[0] == len(SEED_STOCK)


def test_writes_from_both_stores_interleave_with_unique_ids(tmp_path):
    path = tmp_path / "inventory.db"
    first, second = InventoryStore(path), InventoryStore(path)
    order_tool(first).invoke({"item": "widget-x", "qty": 1, "vendor": "A"})
    order_tool(second).invoke({"item": "gadget-y", "qty": 2, "vendor": "B"})
    assert [po["id"] for po in first.purchase_orders()] == [1, 2]
    assert first.purchase_orders() == second.purchase_orders()


# -- schemas the model and the review form see ------------------------------------------
def test_tool_schemas_name_types_and_required_arguments(tools_by_name):
    lookup = tools_by_name["lookup_inventory"].tool_call_schema.model_json_schema()
    order = tools_by_name["create_purchase_order"].tool_call_schema.model_json_schema()
    assert lookup["required"] == ["item", "warehouse"]
    assert order["required"] == ["item", "qty", "vendor"]
    assert order["properties"]["qty"]["type"] == "integer"
    assert order["properties"]["vendor"]["type"] == "string"


def test_notification_channel_is_an_enum(tools_by_name):
    schema = tools_by_name["send_notification"].tool_call_schema.model_json_schema()
    assert schema["properties"]["channel"]["enum"] == ["email", "slack", "sms"]
    assert schema["required"] == ["channel", "message"]
