def make_strict_review(tools):
    by_name = {tool.name: tool for tool in tools}

    def review(state: ReviewState) -> dict:
        update = {"approved_calls": [], "messages": []}
        for call in last_tool_calls(state):
            tool = by_name[call["name"]]
            answer = interrupt(review_request(call, tool, ALLOWED), response_schema=decision_schema(tool, ALLOWED))
            for key, values in decide(call, as_dict(answer)).items():
                update[key] += values
        return update

    return review
