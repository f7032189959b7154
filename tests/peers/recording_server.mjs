// An MCP server on stdio that writes every line it receives to the file named by its
// first argument, for holdpoint's tests: what reached the upstream, and what did not.
//
// It has tools (`echo`, and `ask-roots`, `ask-sampling`, `ask-elicitation`, which send
// that request to the client and answer with what came back), two resources
// (`file:///public/a.txt` and `file:///secret/card.txt`), two prompts (`greet` and
// `secret`) and completions.
import { appendFileSync } from "node:fs";
import { createInterface } from "node:readline";

const log = process.argv[2];
const ASKS = {
  "ask-roots": ["roots/list", {}],
  "ask-sampling": ["sampling/createMessage", {
    messages: [{ role: "user", content: { type: "text", text: "hi" } }],
    maxTokens: 10,
  }],
  "ask-elicitation": ["elicitation/create", {
    message: "your name?",
    requestedSchema: { type: "object", properties: { name: { type: "string" } } },
  }],
};
const asked = new Map();
let next = 0;

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

function askClient(method, params) {
  const id = `ask-${next++}`;
  send({ jsonrpc: "2.0", id, method, params });
  return new Promise((resolve) => asked.set(id, resolve));
}

async function answer(method, params) {
  switch (method) {
    case "initialize":
      return {
        protocolVersion: params.protocolVersion,
        capabilities: { tools: {}, resources: {}, prompts: {}, completions: {} },
        serverInfo: { name: "recording", version: "1" },
      };
    case "tools/list":
      return {
        tools: ["echo", ...Object.keys(ASKS)].map((name) => ({
          name, inputSchema: { type: "object" }, annotations: { readOnlyHint: true },
        })),
      };
    case "tools/call": {
      const ask = ASKS[params.name];
      const text = ask
        ? JSON.stringify(await askClient(...ask))
        : "called " + JSON.stringify(params.arguments ?? {});
      return { content: [{ type: "text", text }] };
    }
    case "resources/list":
      return { resources: [
        { uri: "file:///public/a.txt", name: "a" },
        { uri: "file:///secret/card.txt", name: "card" },
      ] };
    case "resources/read":
      return { contents: [{ uri: params.uri, text: "contents of " + params.uri }] };
    case "prompts/list":
      return { prompts: [{ name: "greet" }, { name: "secret" }] };
    case "prompts/get":
      return { messages: [{ role: "user", content: { type: "text", text: "prompt " + params.name } }] };
    case "completion/complete":
      return { completion: { values: ["one"], total: 1, hasMore: false } };
    default:
      return {};
  }
}

createInterface({ input: process.stdin }).on("line", async (line) => {
  appendFileSync(log, line + "\n");
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    return;
  }
  if (message.method === undefined) {
    asked.get(message.id)?.(message);
    asked.delete(message.id);
    return;
  }
  if (!("id" in message)) return;
  send({ jsonrpc: "2.0", id: message.id, result: await answer(message.method, message.params ?? {}) });
});
