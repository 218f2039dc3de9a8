def pending_approvals(path):
    saver = open_checkpointer(path)  # a new connection, as a process that just started opens it
    graph = build_review_graph(model, make_tools(InventoryStore()), saver)
    threads = sorted({checkpoint.config["configurable"]["thread_id"] for checkpoint in saver.list(None)})
    waiting = {}
    for thread_id in threads:
        snapshot = graph.get_state({"configurable": {"thread_id": thread_id}})
        if snapshot.interrupts:
            waiting[thread_id] = [pending.value["tool_call"]["name"] for pending in snapshot.interrupts]
    saver.conn.close()
    return waiting
