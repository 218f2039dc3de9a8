def resume_if_pending(graph, config, interrupt_id, decision):
    pending = [interrupt.id for interrupt in graph.get_state(config).interrupts]
    if interrupt_id not in pending:
        return None
    return graph.invoke(Command(resume={interrupt_id: decision}), config, version="v2")
