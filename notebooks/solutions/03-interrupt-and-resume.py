def ask_vendor(state: VendorState) -> dict:
    vendor = interrupt(f"Which vendor should supply {state['item']}?")
    return {"vendor": vendor}


vendor_builder = StateGraph(VendorState)
vendor_builder.add_node("ask_vendor", ask_vendor)
vendor_builder.add_edge(START, "ask_vendor")
vendor_builder.add_edge("ask_vendor", END)
vendor_graph = vendor_builder.compile(checkpointer=InMemorySaver())

ex_config = {"configurable": {"thread_id": "ex-03"}}
first = vendor_graph.invoke({"item": "widget-x"}, ex_config, version="v2")
final = vendor_graph.invoke(Command(resume="Globex"), ex_config, version="v2")
