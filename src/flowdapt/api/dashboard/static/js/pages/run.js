// One run: state and timing of every stage on the graph, in a table and as a timeline; item
// progress of parameterized stages; the result or the error with its traceback; the logs.
// While the run goes on, the page follows its stream (coalesced by the server: a 10k-item
// fan-out arrives as a few progress updates a second, never item by item).

import { ApiError, get, post, runPath } from "../api.js";
import { FINAL_STATES, badge, durationOf, encode, formatDuration, formatTime, h, link, progress, replace, table } from "../dom.js";
import { drawGantt } from "../gantt.js";
import { drawGraph } from "../graph.js";
import { runUpdates } from "../live.js";
import { notFound } from "../nav.js";
import { logsPanel } from "./logs.js";

const RESULT_PREVIEW = 20000; // characters: a 10k-item result is shown in part until asked for

async function definitionStages(run) {
  try {
    const doc = await get(`/dashboard/api/resources/workflow/${encode(run.workflow)}`);
    const stages = doc.resource.spec.stages;
    const names = new Set(stages.map((st) => st.name));
    // The workflow may have changed since the run: draw it only if it still has the run's stages.
    if ((run.stages || []).every((st) => names.has(st.name))) return stages;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
  }
  return (run.stages || []).map((st) => ({ name: st.name, depends_on: [] }));
}

function facts(run) {
  return h("dl", { class: "facts" },
    h("dt", null, "Workflow"), h("dd", null, link(`workflows/${encode(run.workflow)}`, run.workflow)),
    h("dt", null, "Source"), h("dd", null, run.source ?? "—"),
    h("dt", null, "Started"), h("dd", null, formatTime(run.started_at)),
    h("dt", null, "Finished"), h("dd", null, formatTime(run.finished_at)),
    h("dt", null, "Duration"), h("dd", { dataset: { testid: "run-duration" } }, formatDuration(durationOf(run))),
    h("dt", null, "Server"), h("dd", null, run.server ?? "—"),
    h("dt", null, "uid"), h("dd", { class: "mono" }, run.uid));
}

function stagesTable(run) {
  return table([
    { title: "Stage", cell: (st) => st.name },
    { title: "State", cell: (st) => badge(st.state) },
    { title: "Attempts", class: "num", cell: (st) => st.attempts },
    { title: "Started", cell: (st) => formatTime(st.started_at) },
    { title: "Duration", class: "num", cell: (st) => formatDuration(durationOf(st)) },
    { title: "Items", cell: (st) => progress(st) },
    { title: "Error", cell: (st) => (st.error ? `${st.error.type}: ${st.error.message}` : "") },
  ], run.stages || [], { empty: "The run has not started its stages yet.", rowProps: (st) => ({ dataset: { stage: st.name, state: st.state } }) });
}

function outcome(run) {
  if (run.state === "failed" || run.state === "cancelled") {
    const error = run.error || { type: (run.result || [])[0], message: (run.result || [])[1] };
    return h("div", { dataset: { testid: "run-error" } },
      h("div", { class: "error-box" }, h("strong", null, `${error.type}: `), error.message,
        error.stage ? h("div", null, `in stage ${error.stage}${error.item === null || error.item === undefined ? "" : `, item ${error.item}`}`) : null),
      error.traceback ? h("pre", { dataset: { testid: "traceback" } }, error.traceback) : null);
  }
  if (run.state !== "finished") return h("p", { class: "muted" }, "The result appears when the run has finished.");
  const text = JSON.stringify(run.result, null, 2) ?? "null";
  const pre = h("pre", { dataset: { testid: "run-result" } }, text.length > RESULT_PREVIEW ? `${text.slice(0, RESULT_PREVIEW)}\n…` : text);
  if (text.length <= RESULT_PREVIEW) return pre;
  const all = h("button", { class: "secondary", onclick: () => { pre.textContent = text; all.remove(); } },
    `Show all (${Math.round(text.length / 1024)} KB)`);
  return h("div", null, pre, all);
}

export async function render(view, [id], page) {
  let run;
  try {
    run = await get(runPath(id));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      notFound(view, `There is no run named or with uid “${id}”. It may have been deleted or removed by retention.`);
      return;
    }
    throw err;
  }
  const stages = await definitionStages(run);
  if (!page.current) return;
  document.title = `${run.name} · Flowdapt`;
  const graph = drawGraph(stages);
  const title = h("h1", null, run.name, h("span", { dataset: { testid: "run-state" } }, badge(run.state)));
  const factsBox = h("div", { class: "card" }, facts(run));
  const message = h("div");
  const cancel = h("button", { class: "danger", dataset: { testid: "cancel-run" } }, "Cancel run");
  const stagesBox = h("div", null);
  const ganttBox = h("div", { class: "gantt-wrap", dataset: { testid: "gantt" } });
  const outcomeBox = h("div", null);
  const outcomeTitle = h("h2", null);
  const logs = logsPanel(run, stages.map((st) => st.name));
  page.onLeave(logs.stop);

  const draw = () => {
    replace(title.lastChild, badge(run.state));
    replace(factsBox, facts(run));
    graph.update(run.stages);
    replace(stagesBox, stagesTable(run));
    replace(ganttBox, drawGantt(run, Math.max(ganttBox.clientWidth - 2, 600)));
    outcomeTitle.textContent = run.state === "failed" || run.state === "cancelled" ? "Error" : "Result";
    replace(outcomeBox, outcome(run));
    cancel.hidden = FINAL_STATES.has(run.state);
  };
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    replace(message);
    try {
      await post(`/dashboard/api/runs/${encode(run.uid)}/cancel`);
      cancel.textContent = "Cancelling…";
    } catch (err) {
      replace(message, h("div", { class: "error-box", role: "alert" }, err.detail));
      cancel.disabled = false;
    }
  });

  replace(view, title,
    h("div", { class: "toolbar" }, cancel, link(`workflows/${encode(run.workflow)}`, "Run this workflow again")), message,
    factsBox,
    h("h2", null, "Stage graph"), h("div", { class: "graph-wrap", dataset: { testid: "graph" } }, graph.svg),
    h("h2", null, "Stages"), stagesBox,
    h("h2", null, "Timeline"), ganttBox,
    outcomeTitle, outcomeBox,
    h("h2", null, "Logs"), logs.el);
  draw();
  if (FINAL_STATES.has(run.state)) return;

  const ticker = setInterval(draw, 1000); // the running stages' bars and durations grow
  page.onLeave(() => clearInterval(ticker));
  const stop = runUpdates(run.uid, async (update) => {
    run = { ...run, ...update };
    if (update.stored) { // the final record is written: fetch it for the result and error
      stop();
      clearInterval(ticker);
      const stored = await get(runPath(run.uid));
      if (!page.current) return;
      run = stored;
      logs.ended();
    }
    draw();
  });
  page.onLeave(stop);
}
