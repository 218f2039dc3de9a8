"""The official LangGraph docs' human-in-the-loop examples, answered through the panel's widgets.

Each graph restates its doc example's shape (state, nodes, the interrupt payload, how the
answer is read); only the LLM is a scripted model. Sources (langchain-ai/docs):
- I: https://docs.langchain.com/oss/python/langgraph/interrupts (src/oss/langgraph/interrupts.mdx)
- H: https://docs.langchain.com/oss/python/langgraph/add-human-in-the-loop (src/oss/langgraph/add-human-in-the-loop.mdx)
- F: https://docs.langchain.com/oss/python/langgraph/functional-api-human-in-the-loop
- G: https://docs.langchain.com/oss/python/langgraph/graph-api (src/oss/langgraph/graph-api.mdx), "Send"
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal

import pytest
from driver import (
    ScriptedChat,
    aio,
    answer,
    answer_form,
    call,
    card,
    cards,
    click,
    decision_types,
    panel_for,
    state,
    tool_messages,
    turns,
    variants,
)
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.func import entrypoint, task
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command, Send, interrupt
from pydantic import BaseModel
from typing_extensions import TypedDict


def node(function, mode: str):
    return aio(function) if mode == "async" else function


# -- I: "Approve or reject", the full example: `Command(goto="proceed" if approved else "cancel")`
class ApprovalState(TypedDict):
    action_details: str
    status: Literal["pending", "approved", "rejected"]


def approval_graph(mode: str, effects: list[str]):
    def approval_node(state: ApprovalState) -> Command[Literal["proceed", "cancel"]]:
        decision = interrupt({"question": "Approve this action?", "details": state["action_details"]})
        return Command(goto="proceed" if decision else "cancel")

    def proceed_node(state: ApprovalState):
        effects.append(state["action_details"])  # the "critical action"
        return {"status": "approved"}

    def cancel_node(state: ApprovalState):
        return {"status": "rejected"}

    builder = StateGraph(ApprovalState)
    builder.add_node("approval", node(approval_node, mode), destinations=("proceed", "cancel"))
    builder.add_node("proceed", node(proceed_node, mode))
    builder.add_node("cancel", node(cancel_node, mode))
    builder.add_edge(START, "approval")
    builder.add_edge("proceed", END)
    builder.add_edge("cancel", END)
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("mode", variants())
def test_approve_routes_to_proceed(mode):
    effects: list[str] = []
    panel = panel_for(approval_graph(mode, effects))
    panel.run({"action_details": "Transfer $500", "status": "pending"})
    assert "Transfer $500" in str(panel) and len(cards(panel)) == 1
    click(card(panel), "Yes")
    assert effects == ["Transfer $500"]
    assert state(panel)["status"] == "approved" and panel.status == "Done."
    assert decision_types(panel) == ["respond"]


def test_reject_routes_to_cancel():
    effects: list[str] = []
    panel = panel_for(approval_graph("sync", effects))
    panel.run({"action_details": "Transfer $500", "status": "pending"})
    click(card(panel), "No")
    assert state(panel)["status"] == "rejected"
    assert effects == []


# -- I: "Review and edit state": the reviewer's text replaces the generated text
class ReviewState(TypedDict):
    generated_text: str


def review_graph(mode: str):
    def review_node(state: ReviewState):
        updated = interrupt({"instruction": "Review and edit this content", "content": state["generated_text"]})
        return {"generated_text": updated}

    builder = StateGraph(ReviewState)
    builder.add_node("review", node(review_node, mode))
    builder.add_edge(START, "review")
    builder.add_edge("review", END)
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("mode", variants())
def test_review_and_edit_state(mode):
    panel = panel_for(review_graph(mode))
    panel.run({"generated_text": "Initial draft"})
    assert "Initial draft" in str(panel)
    answer(panel, "Improved draft after review")
    assert state(panel) == {"generated_text": "Improved draft after review"}
    assert panel.decisions[0].message == "Improved draft after review"


# -- I: "Interrupts in tools": send_email asks inside the tool, reads response["action"]
class AgentState(TypedDict):
    messages: Annotated[list[AnyMessage], operator.add]


def email_agent(sent: list[dict[str, str]]):
    @tool
    def send_email(to: str, subject: str, body: str):
        """Send an email to a recipient."""
        response = interrupt(
            {
                "action": "send_email",
                "to": to,
                "subject": subject,
                "body": body,
                "message": "Approve sending this email?",
            }
        )
        if response.get("action") == "approve":
            final = {k: response.get(k, v) for k, v in {"to": to, "subject": subject, "body": body}.items()}
            sent.append(final)
            return f"Email sent to {final['to']}"
        return "Email cancelled by user"

    model = turns([call("send_email", to="alice@example.com", subject="Meeting", body="At 3pm.")]).bind_tools(
        [send_email]
    )
    tools_by_name = {"send_email": send_email}

    def agent_node(state: AgentState):
        return {"messages": [model.invoke(state["messages"])]}

    def tool_node(state: AgentState):
        result = []
        for tool_call in state["messages"][-1].tool_calls:
            observation = tools_by_name[tool_call["name"]].invoke(tool_call["args"])
            result.append(ToolMessage(content=observation, tool_call_id=tool_call["id"]))
        return {"messages": result}

    def should_continue(state: AgentState) -> Literal["tool_node", "__end__"]:
        return "tool_node" if state["messages"][-1].tool_calls else END

    builder = StateGraph(AgentState)
    builder.add_node("agent", agent_node)
    builder.add_node("tool_node", tool_node)
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", should_continue, ["tool_node", END])
    builder.add_edge("tool_node", "agent")
    return builder.compile(checkpointer=InMemorySaver())  # the docs use SqliteSaver; in memory here


def test_interrupt_in_a_tool_approves_with_an_edited_subject():
    sent: list[dict[str, str]] = []
    panel = panel_for(email_agent(sent))
    panel.run({"messages": [{"role": "user", "content": "Send an email to alice@example.com about the meeting"}]})
    assert "alice@example.com" in str(panel)
    answer(panel, '{"action": "approve", "subject": "Updated subject"}', read_as="JSON")
    assert sent == [{"to": "alice@example.com", "subject": "Updated subject", "body": "At 3pm."}]
    assert tool_messages(state(panel))[-1].content == "Email sent to alice@example.com"


# -- I: "Validating human input", conditional-edge pattern: re-ask until a positive int
class FormState(TypedDict):
    age: int | None
    pending_question: str | None


def age_graph():
    def collect_age(state: FormState):
        question = state.get("pending_question") or "What is your age?"
        answer = interrupt(question)
        if isinstance(answer, int) and answer > 0:
            return {"age": answer, "pending_question": None}
        return {"pending_question": f"'{answer}' is not a valid age. Please enter a positive number."}

    builder = StateGraph(FormState)
    builder.add_node("collect_age", collect_age)
    builder.add_edge(START, "collect_age")
    builder.add_conditional_edges("collect_age", lambda s: END if s.get("age") is not None else "collect_age")
    return builder.compile(checkpointer=InMemorySaver())


def test_validation_reasks_after_an_invalid_answer():
    panel = panel_for(age_graph())
    panel.run({"age": None, "pending_question": None})
    answer(panel, "thirty")
    assert "'thirty' is not a valid age" in str(panel) and len(cards(panel)) == 1


def test_validation_accepts_a_number():
    panel = panel_for(age_graph())
    panel.run({"age": None, "pending_question": None})
    answer(panel, "30", read_as="number")
    assert state(panel)["age"] == 30 and panel.status == "Done."


# -- H (earlier revision): "Validate human input" with a loop inside the node
class NameState(TypedDict):
    name: str


def name_graph():
    def human_node(state: NameState):
        question = "What is your name?"
        while True:
            answer = interrupt(question)
            if not isinstance(answer, str) or not answer.strip():
                question = f"'{answer}' is not a valid name. What is your name?"
                continue
            break
        return {"name": answer.strip()}

    builder = StateGraph(NameState)
    builder.add_node("human_node", human_node)
    builder.add_edge(START, "human_node")
    return builder.compile(checkpointer=InMemorySaver())


def test_validation_loop_inside_a_node():
    panel = panel_for(name_graph())
    panel.run({"name": ""})
    answer(panel, "   ")
    assert "is not a valid name" in str(panel)
    answer(panel, "Ada")
    assert state(panel) == {"name": "Ada"}
    assert [r.message for r in panel.decisions] == ["   ", "Ada"]


# -- I: "Handling multiple interrupts": two parallel nodes ask at once, resumed by id
class ValsState(TypedDict):
    vals: Annotated[list[str], operator.add]


def parallel_questions(mode: str):
    def node_a(state: ValsState):
        return {"vals": [f"a:{interrupt('question_a')}"]}

    def node_b(state: ValsState):
        return {"vals": [f"b:{interrupt('question_b')}"]}

    builder = StateGraph(ValsState)
    builder.add_node("a", node(node_a, mode))
    builder.add_node("b", node(node_b, mode))
    builder.add_edge(START, "a")
    builder.add_edge(START, "b")
    builder.add_edge("a", END)
    builder.add_edge("b", END)
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("mode", variants())
def test_multiple_interrupts_each_answered_on_its_card(mode):
    panel = panel_for(parallel_questions(mode))
    panel.run({"vals": []})
    assert len(cards(panel)) == 2
    questions = {i.value: i.id for i in panel.pending}
    assert set(questions) == {"question_a", "question_b"}
    first = "question_a" if "question_a" in str(card(panel, 0).children[0].value) else "question_b"
    answer(panel, f"answer for {first}", 0)
    assert len(cards(panel)) == 1
    answer(panel, "answer for the other", 0)
    other = "b" if first == "question_a" else "a"
    assert sorted(state(panel)["vals"]) == sorted([f"{first[-1]}:answer for {first}", f"{other}:answer for the other"])
    assert panel.status == "Done." and len(panel.decisions) == 2


# -- I: "Define an interrupt response schema": a form, and the node gets the validated model
class Decision(BaseModel):
    approved: bool
    note: str | None = None


class AnswerState(TypedDict):
    answer: Any


def schema_graph():
    def ask(state: AnswerState) -> AnswerState:
        return {"answer": interrupt({"question": "approve?"}, response_schema=Decision)}

    builder = StateGraph(AnswerState)
    builder.add_node("node", ask)
    builder.add_edge(START, "node")
    return builder.compile(checkpointer=InMemorySaver())


def test_response_schema_form():
    panel = panel_for(schema_graph())
    panel.run({"answer": None})
    answer_form(panel, Approved=True, Note="looks fine")
    assert state(panel)["answer"] == Decision(approved=True, note="looks fine")
    assert panel.decisions[0].message == {"approved": True, "note": "looks fine"}


# -- I: "Do not reorder interrupt calls": three questions in one node, matched by index
class PersonState(TypedDict):
    name: str
    age: str
    city: str


def person_graph():
    def node_a(state: PersonState):
        name = interrupt("What's your name?")
        age = interrupt("What's your age?")
        city = interrupt("What's your city?")
        return {"name": name, "age": age, "city": city}

    builder = StateGraph(PersonState)
    builder.add_node("node_a", node_a)
    builder.add_edge(START, "node_a")
    return builder.compile(checkpointer=InMemorySaver())


def test_three_interrupts_in_one_node():
    panel = panel_for(person_graph())
    panel.run({"name": "", "age": "", "city": ""})
    for question, reply in [("name", "Ada"), ("age", "36"), ("city", "London")]:
        assert question in str(panel)
        answer(panel, reply)
    assert state(panel) == {"name": "Ada", "age": "36", "city": "London"}
    assert len(panel.decisions) == 3


# -- F: functional API, "Basic usage": a task writes an essay, the entrypoint asks for approval
def essay_workflow(mode: str, written: list[str]):
    @task
    def write_essay(topic: str) -> str:
        written.append(topic)
        return f"An essay about topic: {topic}"

    if mode == "async":

        @entrypoint(checkpointer=InMemorySaver())
        async def workflow(topic: str) -> dict:
            essay = await write_essay(topic)
            is_approved = interrupt({"essay": essay, "action": "Please approve/reject the essay"})
            return {"essay": essay, "is_approved": is_approved}

    else:

        @entrypoint(checkpointer=InMemorySaver())
        def workflow(topic: str) -> dict:
            essay = write_essay(topic).result()
            is_approved = interrupt({"essay": essay, "action": "Please approve/reject the essay"})
            return {"essay": essay, "is_approved": is_approved}

    return workflow


@pytest.mark.parametrize(
    "mode",
    [
        "sync",
        "async",
    ],
)
def test_functional_essay_is_asked_about_once(mode):
    written: list[str] = []
    panel = panel_for(essay_workflow(mode, written))
    panel.run("cat")
    assert "An essay about topic: cat" in str(panel)
    answer(panel, "yes")
    assert written == ["cat"]  # the task's result was reused on resume, not written again
    assert state(panel) == {"essay": "An essay about topic: cat", "is_approved": "yes"}
    assert panel.status == "Done." and "Answer:" in str(panel)  # issue 12 item 6 too


# -- F: "Review tool calls": an entrypoint agent; each call reviewed with {"action": ..., "data": ...}
def functional_agent(weather: list[str]):
    @tool
    def get_weather(location: str):
        """Call to get the weather from a specific location."""
        weather.append(location)
        return "It's sunny!" if "san francisco" in location.lower() else f"It's rainy in {location}!"

    model = turns([call("get_weather", location="san francisco")])
    tools_by_name = {"get_weather": get_weather}

    @task
    def call_model(messages):
        return model.bind_tools([get_weather]).invoke(messages)

    @task
    def call_tool(tool_call):
        observation = tools_by_name[tool_call["name"]].invoke(tool_call["args"])
        return ToolMessage(content=observation, tool_call_id=tool_call["id"])

    def review_tool_call(tool_call):
        human_review = interrupt({"question": "Is this correct?", "tool_call": tool_call})
        review_action, review_data = human_review["action"], human_review.get("data")
        if review_action == "continue":
            return tool_call
        if review_action == "update":
            return {**tool_call, "args": review_data}
        return ToolMessage(content=review_data, name=tool_call["name"], tool_call_id=tool_call["id"])

    @entrypoint(checkpointer=InMemorySaver())
    def agent(messages, previous):
        if previous is not None:
            messages = add_messages(previous, messages)
        llm_response = call_model(messages).result()
        while True:
            if not llm_response.tool_calls:
                break
            tool_results, tool_calls = [], []
            for tool_call in llm_response.tool_calls:
                review = review_tool_call(tool_call)
                if isinstance(review, ToolMessage):
                    tool_results.append(review)
                else:
                    tool_calls.append(review)
            tool_results += [call_tool(tc) for tc in tool_calls]
            tool_results = [r.result() if hasattr(r, "result") else r for r in tool_results]
            messages = add_messages(messages, [llm_response, *tool_results])
            llm_response = call_model(messages).result()
        messages = add_messages(messages, llm_response)
        return entrypoint.final(value=llm_response, save=messages)

    return agent


def test_functional_review_tool_call_update():
    weather: list[str] = []
    panel = panel_for(functional_agent(weather))
    panel.run([{"role": "user", "content": "what's the weather in sf?"}])  # the docs send a list of messages
    answer(panel, '{"action": "update", "data": {"location": "SF, CA"}}', read_as="JSON")
    assert weather == ["SF, CA"] and panel.status == "Done."


# -- H: "Review tool calls" (graph API): human_review_node routes with Command(goto=...)
class ReviewToolState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def review_tool_graph(weather: list[str]):
    @tool
    def get_weather(city: str) -> str:
        """Get the weather for a city."""
        weather.append(city)
        return f"It's sunny in {city}!"

    model = turns([call("get_weather", city="sf")])

    def call_llm(state):
        return {"messages": [model.bind_tools([get_weather]).invoke(state["messages"])]}

    def human_review_node(state) -> Command[Literal["call_llm", "run_tool"]]:
        tool_call = state["messages"][-1].tool_calls[-1]
        human_review = interrupt({"question": "Is this correct?", "tool_call": tool_call})
        review_action, review_data = human_review["action"], human_review.get("data")
        if review_action == "continue":
            return Command(goto="run_tool")
        if review_action == "update":
            updated = {"role": "ai", "content": "", "tool_calls": [{**tool_call, "args": review_data}]}
            updated["id"] = state["messages"][-1].id
            return Command(goto="run_tool", update={"messages": [updated]})
        feedback = {"role": "tool", "content": review_data, "name": tool_call["name"], "tool_call_id": tool_call["id"]}
        return Command(goto="call_llm", update={"messages": [feedback]})

    def run_tool(state):
        results = []
        for tc in state["messages"][-1].tool_calls:
            results.append({"role": "tool", "content": get_weather.invoke(tc["args"]), "tool_call_id": tc["id"]})
        return {"messages": results}

    def route_after_llm(state) -> Literal["__end__", "human_review_node"]:
        return "human_review_node" if state["messages"][-1].tool_calls else END

    builder = StateGraph(ReviewToolState)
    builder.add_node(call_llm)
    builder.add_node(run_tool)
    builder.add_node(human_review_node)
    builder.add_edge(START, "call_llm")
    builder.add_conditional_edges("call_llm", route_after_llm)
    builder.add_edge("run_tool", "call_llm")
    return builder.compile(checkpointer=InMemorySaver())


def test_graph_review_tool_call_continue():
    weather: list[str] = []
    panel = panel_for(review_tool_graph(weather))
    panel.run("what's the weather in sf?")
    answer(panel, '{"action": "continue"}', read_as="JSON")
    assert weather == ["sf"] and panel.status == "Done."


# -- H: multi-turn conversation: a human node asks, then routes back with Command(goto=...)
class ChatState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def multi_turn_graph(mode: str):
    def script(messages):
        said = [m.content for m in messages if isinstance(m, HumanMessage)]
        return AIMessage("Paris it is: enjoy the trip!" if "Paris" in said else "What city are you travelling to?")

    model = ScriptedChat(script=script)

    def travel_advisor(state: ChatState) -> Command[Literal["human"]]:
        return Command(update={"messages": [model.invoke(state["messages"])]}, goto="human")

    def human(state: ChatState) -> Command[Literal["travel_advisor", "__end__"]]:
        user_input = interrupt(value="Ready for user input.")
        if user_input == "bye":
            return Command(goto=END)
        return Command(update={"messages": [HumanMessage(user_input)]}, goto="travel_advisor")

    builder = StateGraph(ChatState)
    builder.add_node("travel_advisor", node(travel_advisor, mode))
    builder.add_node("human", node(human, mode))
    builder.add_edge(START, "travel_advisor")
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("mode", variants())
def test_multi_turn_command_goto(mode):
    panel = panel_for(multi_turn_graph(mode))
    panel.run("I want to go somewhere warm.")
    assert "Ready for user input." in str(panel)
    answer(panel, "Paris")
    assert "Ready for user input." in str(panel)
    answer(panel, "bye")
    messages = state(panel)["messages"]
    assert [m.content for m in messages if isinstance(m, HumanMessage)] == ["I want to go somewhere warm.", "Paris"]
    assert isinstance(messages[-1], AIMessage) and "Paris it is" in messages[-1].content
    assert panel.status == "Done."


# -- I: "Rules of interrupts" (resume values are matched to interrupt() calls by their order in the
# task): a node that skips its first question on a condition of the state; the card shows, and the
# answer goes to, the question asked now
class SignupState(TypedDict):
    known_name: str | None
    name: str
    age: str


def signup_graph(mode: str):
    def collect(state: SignupState):
        name = state["known_name"] if state["known_name"] else interrupt("What's your name?")
        age = interrupt(f"What's your age, {name}?")
        return {"name": name, "age": age}

    builder = StateGraph(SignupState)
    builder.add_node("collect", node(collect, mode))
    builder.add_edge(START, "collect")
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("mode", variants())
@pytest.mark.parametrize("known", [None, "Ada"], ids=["asks-both", "skips-the-first"])
def test_conditionally_skipped_interrupt(mode, known):
    panel = panel_for(signup_graph(mode))
    panel.run({"known_name": known, "name": "", "age": ""})
    if known is None:
        assert "What's your name?" in str(panel) and "age" not in str(panel)
        answer(panel, "Grace")
    assert "What's your name?" not in str(panel) and f"What's your age, {known or 'Grace'}?" in str(panel)
    answer(panel, "36")
    assert state(panel) == {"known_name": known, "name": known or "Grace", "age": "36"}
    assert [r.message for r in panel.decisions] == ([] if known else ["Grace"]) + ["36"]


# -- G: "Send", the map-reduce joke example,
# with an interrupt in the mapped node for some subjects only: the others finish at once
class JokeState(TypedDict):
    subjects: list[str]
    jokes: Annotated[list[str], operator.add]


def jokes_graph(mode: str, written: list[str]):
    def generate_joke(state: dict):
        subject = state["subject"]
        if subject in ("politics", "religion"):  # sensitive: a human writes it
            joke = interrupt(f"Write the joke about {subject}, or say skip")
            if joke == "skip":
                return {"jokes": []}
        else:
            joke = f"Joke about {subject}"
        written.append(subject)
        return {"jokes": [joke]}

    def continue_to_jokes(state: JokeState):
        return [Send("generate_joke", {"subject": s}) for s in state["subjects"]]

    builder = StateGraph(JokeState)
    builder.add_node("generate_joke", node(generate_joke, mode))
    builder.add_conditional_edges(START, continue_to_jokes, ["generate_joke"])
    builder.add_edge("generate_joke", END)
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("mode", variants())
def test_send_map_where_some_branches_interrupt(mode):
    written: list[str] = []
    panel = panel_for(jokes_graph(mode, written))
    panel.run({"subjects": ["cats", "politics", "dogs", "religion"], "jokes": []})
    assert len(cards(panel)) == 2
    assert {i.value for i in panel.pending} == {
        "Write the joke about politics, or say skip",
        "Write the joke about religion, or say skip",
    }
    assert sorted(written) == ["cats", "dogs"]  # the branches that did not ask are done
    while cards(panel):  # answer what the first card shows
        shown = card(panel, 0).children[0].value
        answer(panel, "skip" if "religion" in shown else "Two parties walk into a bar.", 0)
    assert sorted(state(panel)["jokes"]) == ["Joke about cats", "Joke about dogs", "Two parties walk into a bar."]
    assert sorted(written) == ["cats", "dogs", "politics"] and len(panel.decisions) == 2
    assert panel.status == "Done."
