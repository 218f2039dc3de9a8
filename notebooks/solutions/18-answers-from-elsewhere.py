notifications = inbox.items(tool="send_notification")
exercise_results = inbox.answer_all({"type": "reject", "message": "No notifications today."}, notifications, by="ops")
