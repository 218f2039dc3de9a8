reroute = {
    "type": "reject",
    "message": "Do not order anything yet. Send a notification to the team on slack instead.",
}
