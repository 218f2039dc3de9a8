def pending_tools(client, thread_id):
    thread = client.threads.get(thread_id)
    interrupts = thread["interrupts"] or {}
    return [pending["value"]["tool_call"]["name"] for found in interrupts.values() for pending in found]
