"""LangGraph server's custom auth for the kit's served agent (`langgraph.json` "auth").

Where a reviewer's identity comes from in production: not from a name typed in a notebook
(that is a claim) but from the user the server authenticated. The server runs
`authenticate` on every request and puts the user into the run's config
(`configurable.langgraph_auth_user_id`), where the governed review node reads it: the
audit trail then records the authenticated name, and a name in the answer is ignored.

- `HITL_AUTH=required`: every request needs `Authorization: Bearer <token>`; unset, a
  request without one is the "anonymous" user (so notebook 13 runs without tokens).
- Tokens: `HITL_AUTH_USERS` (JSON `{token: {"identity": ..., "permissions": [...]}}`),
  else the demo users below. Demo tokens in a file are for a lesson only: in production
  `authenticate` verifies a signed token (OIDC, your SSO) instead.
- Only a user with the "reviewer" permission may resume a run (answer an interrupt) or
  change a thread's state; the server refuses anyone else with 403, before the graph runs.
"""

from __future__ import annotations

import json
import os
from typing import Any

from langgraph_sdk import Auth

DEMO_USERS: dict[str, dict[str, Any]] = {
    "alice-token": {"identity": "alice", "permissions": ["requester", "reviewer"]},
    "bob-token": {"identity": "bob", "permissions": ["requester", "reviewer"]},
    "carol-token": {"identity": "carol", "permissions": ["requester"]},
}
ANONYMOUS = {"identity": "anonymous", "permissions": ["requester", "reviewer"]}

auth = Auth()


def _users() -> dict[str, dict[str, Any]]:
    configured = os.environ.get("HITL_AUTH_USERS")
    return json.loads(configured) if configured else DEMO_USERS


@auth.authenticate
async def authenticate(authorization: str | None) -> dict[str, Any]:
    if not authorization:
        if os.environ.get("HITL_AUTH") == "required":
            raise Auth.exceptions.HTTPException(status_code=401, detail="Send Authorization: Bearer <your token>.")
        return ANONYMOUS
    scheme, _, token = authorization.partition(" ")
    user = _users().get(token) if scheme.lower() == "bearer" else None
    if user is None:
        raise Auth.exceptions.HTTPException(status_code=401, detail="Unknown token; nothing was run.")
    return user


@auth.on.threads.create_run
async def only_reviewers_answer(ctx: Auth.types.AuthContext, value: Any) -> None:
    command = (value.get("kwargs") or {}).get("command") or {}
    if command:
        if "reviewer" not in ctx.permissions:
            raise Auth.exceptions.HTTPException(
                status_code=403,
                detail=f"{ctx.user.identity} is not a reviewer, so cannot answer a review; nothing was sent.",
            )
    elif "requester" not in ctx.permissions:
        raise Auth.exceptions.HTTPException(status_code=403, detail=f"{ctx.user.identity} may not start runs.")


@auth.on.threads.update
async def only_reviewers_change_state(ctx: Auth.types.AuthContext, value: Any) -> None:
    if "reviewer" not in ctx.permissions:
        raise Auth.exceptions.HTTPException(status_code=403, detail=f"{ctx.user.identity} may not change a thread.")
