// A run's logs (what its stages logged or printed), from the logs API: paged, filtered by stage,
// followed live while the run goes on. A server without logs for the run (404) shows "no logs".

import { ApiError, get, runPath } from "../api.js";
import { FINAL_STATES, h, replace } from "../dom.js";
import { subscribe } from "../live.js";

const PAGE = 500;
const MAX_LINES = 5000; // the oldest lines leave the page beyond this (the API keeps them)

function lineEl(line) {
  const time = line.time ? line.time.slice(11, 23) : "";
  const where = [line.stage, line.item === null || line.item === undefined ? null : `#${line.item}`].filter(Boolean).join(" ");
  return h("div", { class: `line src-${line.source}`, dataset: { seq: line.seq } },
    h("span", { class: "meta" }, time),
    h("span", { class: `lvl-${line.level}` }, line.level),
    h("span", { class: "meta" }, where || "run"),
    h("span", { class: "msg" }, line.message));
}

/** The logs panel of `run` (filterable by the `stages` named); returns {el, ended, stop}. */
export function logsPanel(run, stages) {
  const output = h("div", { class: "logs", dataset: { testid: "logs" } });
  const note = h("div", { class: "muted" });
  const more = h("button", { class: "secondary", hidden: true }, "Load more");
  const stageSelect = h("select", { dataset: { testid: "logs-stage" } }, h("option", { value: "" }, "all stages"),
    stages.map((name) => h("option", { value: name }, name)));
  let offset = 0, total = 0, lastSeq = null, follow = null, pending = [], frame = null, stopped = false;
  let live = !FINAL_STATES.has(run.state);

  const flush = () => {
    frame = null;
    output.append(...pending.map(lineEl));
    pending = [];
    while (output.childElementCount > MAX_LINES) output.firstElementChild.remove();
    output.scrollTop = output.scrollHeight;
  };
  const add = (lines) => {
    if (!lines.length) return;
    if (output.querySelector(".empty")) output.replaceChildren();
    pending.push(...lines);
    lastSeq = lines.at(-1).seq;
    frame ??= requestAnimationFrame(flush); // many lines in one frame: one layout
  };
  const empty = (text) => replace(output, h("div", { class: "empty", dataset: { testid: "logs-empty" } }, text));
  const stopFollowing = () => { follow?.(); follow = null; };
  const settled = () => { if (output.querySelector(".empty")) empty("No logs for this run."); };
  const startFollowing = () => {
    if (!live || follow || stopped) return;
    const query = new URLSearchParams();
    if (stageSelect.value) query.set("stage", stageSelect.value);
    if (lastSeq !== null) query.set("after", lastSeq);
    follow = subscribe(`${runPath(run.uid)}/logs/stream?${query}`, {
      log: (line) => add([line]),
      end: () => { live = false; stopFollowing(); settled(); },
    });
  };
  const load = async () => {
    const stage = stageSelect.value || undefined;
    let page;
    try {
      page = await get(`${runPath(run.uid)}/logs`, { stage, offset, limit: PAGE });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) { empty("No logs for this run."); return; }
      replace(output, h("div", { class: "error-box" }, `Logs unavailable: ${err.detail}`));
      return;
    }
    if (stopped) return;
    total = page.total;
    offset += page.lines.length;
    add(page.lines);
    if (!page.lines.length && !offset) empty(live ? "No logs yet." : "No logs for this run.");
    note.textContent = page.truncated ? "The logs of this run were capped by the server; the rest was dropped." : "";
    more.hidden = offset >= total;
    if (offset >= total) startFollowing(); // from the end onwards only: nothing twice
  };
  more.addEventListener("click", load);
  stageSelect.addEventListener("change", () => {
    stopFollowing();
    offset = 0; total = 0; lastSeq = null; pending = [];
    output.replaceChildren();
    load();
  });
  load();
  const el = h("div", { class: "logs-panel" }, h("div", { class: "toolbar" }, stageSelect, more), output, note);
  return {
    el,
    /** The run ended: the stream sends `end` itself; only a page that never followed stays. */
    ended: () => { if (!follow) { live = false; settled(); } },
    stop: () => { stopped = true; stopFollowing(); if (frame) cancelAnimationFrame(frame); },
  };
}
