def ask_again(graph, config):
    history = graph.get_state_history(config)  # newest first
    last_review = next(snap for snap in history if snap.interrupts)
    return graph.invoke(None, last_review.config, version="v2")
