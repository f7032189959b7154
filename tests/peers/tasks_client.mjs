// An MCP client that calls one tool as a task, with the official TypeScript SDK client
// and its Tasks package (`@modelcontextprotocol/ext-tasks`), for holdpoint's tests.
//
//   node tasks_client.mjs URL TOKEN TOOL ARGUMENTS_JSON [settle|cancel]
//
// It prints one JSON line when the call is made (`{"event":"made","kind":…,"taskId":…}`)
// and one when it ends: `{"event":"settled","result":…}` or `{"event":"failed",…}`.
// With `cancel` it cancels the task as soon as it has one.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import {
  createTaskSessionFromClient,
  resultFromTaskOutcome,
} from "@modelcontextprotocol/ext-tasks/client";

const [url, token, tool, argumentsJson, mode = "settle"] = process.argv.slice(2);
const say = (line) => process.stdout.write(JSON.stringify(line) + "\n");

const client = new Client({ name: "tasks-client", version: "1" });
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { authorization: `Bearer ${token}` } },
});
await client.connect(transport);
const { tools } = await client.listTools();
const declared = tools.find((t) => t.name === tool);
say({ event: "listed", execution: declared?.execution ?? null,
  capabilities: client.getServerCapabilities()?.tasks ?? null });

const session = createTaskSessionFromClient(client, { endpointId: "holdpoint" });
try {
  const execution = await session.callTool(tool, JSON.parse(argumentsJson), {
    task: { preference: "prefer", retentionMs: 600000 },
  });
  say({ event: "made", kind: execution.kind, taskId: execution.handle?.taskId ?? null });
  if (mode === "cancel" && execution.kind === "task") {
    await execution.cancel();
  }
  const { outcome, lastTask } = await execution.settle();
  say({ event: "settled", status: outcome.status, lastTask: lastTask ?? null,
    result: outcome.status === "completed" ? resultFromTaskOutcome(outcome) : null,
    error: outcome.status === "failed" ? String(outcome.error?.message) : null });
} catch (error) {
  say({ event: "failed", message: String(error?.message ?? error) });
} finally {
  await session.close();
  await client.close();
}
