// One workflow: its stage graph, start a run with JSON input, its YAML (editable), recent runs.

import { get, post } from "../api.js";
import { encode, formatTime, h, link, replace } from "../dom.js";
import { yamlEditor } from "../editor.js";
import { drawGraph } from "../graph.js";
import { runUpdates } from "../live.js";
import { navigate, reload } from "../nav.js";
import { liveRunsTable } from "./runs.js";

function startForm(name) {
  const input = h("textarea", { class: "input", spellcheck: false, value: "{}", dataset: { testid: "run-input" } });
  const message = h("div");
  const start = h("button", { dataset: { testid: "start-run" } }, "Start run");
  start.addEventListener("click", async () => {
    replace(message);
    let payload;
    try {
      payload = JSON.parse(input.value || "{}");
      if (payload === null || typeof payload !== "object" || Array.isArray(payload)) throw new Error("the input must be a JSON object");
    } catch (err) {
      replace(message, h("div", { class: "error-box", role: "alert" }, `Input is not a JSON object: ${err.message}`));
      return;
    }
    start.disabled = true;
    try {
      const run = await post(`/workflows/${encode(name)}/run`, payload, { wait: "False" });
      navigate(`/dashboard/runs/${encode(run.name)}`);
    } catch (err) {
      replace(message, h("div", { class: "error-box", role: "alert" }, err.detail));
      start.disabled = false;
    }
  });
  return h("div", { class: "card" }, h("h2", { style: "margin-top:0" }, "Start a run"),
    h("label", { class: "muted" }, "Input (JSON object, passed to the first stages as keyword arguments)"),
    input, message, h("div", { class: "toolbar", style: "margin-top:8px" }, start));
}

export async function render(view, [name], page) {
  document.title = `${name} · Flowdapt`;
  const [doc, runs] = await Promise.all([
    get(`/dashboard/api/resources/workflow/${encode(name)}`),
    get("/dashboard/api/runs", { workflow: name, limit: 10 }),
  ]);
  if (!page.current) return;
  const workflow = doc.resource;
  const stages = workflow.spec.stages;
  const graph = drawGraph(stages);
  const yamlArea = h("div", null, h("pre", { dataset: { testid: "workflow-yaml" } }, doc.yaml));
  const edit = h("button", { class: "secondary", onclick: () => {
    replace(yamlArea, yamlEditor({ kind: "workflow", name, text: doc.yaml, onApplied: reload }));
  } }, "Edit YAML");
  const recent = liveRunsTable(runs.runs, { limit: 10, accepts: (r) => r.workflow === name, empty: "No runs yet.", workflowColumn: false });
  replace(view,
    h("h1", null, name, Object.entries(workflow.metadata.annotations || {}).map(([k, v]) => h("span", { class: "badge tag" }, `${k}: ${v}`))),
    h("p", { class: "muted" }, `${stages.length} stages · updated ${formatTime(workflow.metadata.updated_at)} · uid ${workflow.metadata.uid}`),
    h("h2", null, "Stage graph"),
    h("div", { class: "graph-wrap", dataset: { testid: "graph" } }, graph.svg),
    h("p", { class: "muted" }, "Stacked cards are parameterized stages: one call per item of their input."),
    h("div", { class: "split" },
      h("div", null, h("h2", null, "Definition ", edit), yamlArea),
      h("div", null, h("h2", { style: "margin-top:22px" }, "Run it"), startForm(name),
        h("h2", null, "Recent runs ", link(`runs?workflow=${encode(name)}`, "all")), recent.el)));
  page.onLeave(recent.stop);
  page.onLeave(runUpdates(null, recent.apply));
}
