"""An MCP server on stdio that dies in the middle of a tool call, for holdpoint's tests."""
import json
import sys

for line in sys.stdin:
    message = json.loads(line)
    method, ident = message.get("method"), message.get("id")
    if method == "initialize":
        result = {
            "protocolVersion": message["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "crash", "version": "1"},
        }
    elif method == "tools/list":
        result = {"tools": [{
            "name": "boom",
            "inputSchema": {"type": "object"},
            "annotations": {"readOnlyHint": True},
        }]}
    elif method == "tools/call":
        sys.exit(3)
    elif ident is None:
        continue
    else:
        result = {}
    print(json.dumps({"jsonrpc": "2.0", "id": ident, "result": result}), flush=True)
