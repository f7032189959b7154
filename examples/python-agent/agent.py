"""An agent that asks holdpoint before it acts, through a client generated from the
gateway's own OpenAPI document.

    openapi-python-client generate --url http://127.0.0.1:8470/openapi.json \
        --output-path holdpoint-client --config generate.yaml
    PYTHONPATH=holdpoint-client HOLDPOINT_TOKEN=hp_... python agent.py \
        --kind db.ddl --resource postgres/prod/customers --env prod \
        --params '{"sql": "CREATE INDEX ..."}' --why "add index for the slow report"

It submits the action, waits for a held one to be decided (long-polling, so a reviewer's
decision wakes it at once), then acts only if holdpoint says `proceed`. Exit codes follow
the CLI: 0 proceed, 3 denied or rejected, 4 still pending, 1 error.
"""

import argparse
import json
import os
import sys

import httpx
from holdpoint_client import AuthenticatedClient
from holdpoint_client.api.default import get_action, submit
from holdpoint_client.models import ErrorBody, SubmitBody, SubmitBodyParams


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", required=True)
    parser.add_argument("--resource", required=True)
    parser.add_argument("--env", default="")
    parser.add_argument("--params", default="{}", help="a JSON object")
    parser.add_argument("--why", default="", help="shown to reviewers")
    parser.add_argument("--polls", type=int, default=10, help="long-polls of 60s at most")
    args = parser.parse_args()

    client = AuthenticatedClient(
        base_url=os.environ.get("HOLDPOINT_URL", "http://127.0.0.1:8470"),
        token=os.environ["HOLDPOINT_TOKEN"],
        timeout=httpx.Timeout(90.0),
    )
    body = SubmitBody(
        kind=args.kind,
        resource=args.resource,
        environment=args.env,
        params=SubmitBodyParams.from_dict(json.loads(args.params)),
        justification=args.why,
    )
    action = submit.sync(client=client, body=body)
    for _ in range(args.polls):
        if isinstance(action, ErrorBody) or action is None:
            break
        if action.status.value != "pending":
            break
        print(f"held for approval as {action.id}: {action.verdict.reason}", file=sys.stderr)
        action = get_action.sync(action.id, client=client, wait="60s")

    if isinstance(action, ErrorBody) or action is None:
        message = action.error.message if action else "no answer"
        print(f"holdpoint refused the request: {message}", file=sys.stderr)
        return 1
    if action.proceed:
        # The real work goes here: run the migration, call the API, ...
        print(f"proceeding with {action.kind} on {action.resource} ({action.id})")
        return 0
    if action.status.value == "pending":
        print(f"still held as {action.id}; ask again later", file=sys.stderr)
        return 4
    print(f"{action.status.value}: {action.verdict.reason} ({action.id})", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main())
