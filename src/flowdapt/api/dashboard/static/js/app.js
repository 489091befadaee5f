// The dashboard's router: history-API paths under /dashboard/ (the server answers the page for
// every one of them, so reloads and pasted links work). A page is render(view, params, page)
// where page.onLeave(fn) registers what to stop (streams, timers) when the user navigates away.

import { ApiError } from "./api.js";
import { h, replace } from "./dom.js";
import { navigate, notFound } from "./nav.js";
import * as resources from "./pages/resources.js";
import * as run from "./pages/run.js";
import * as runs from "./pages/runs.js";
import * as system from "./pages/system.js";
import * as workflow from "./pages/workflow.js";
import * as workflows from "./pages/workflows.js";

const ROUTES = [
  [/^(workflows)?$/, "workflows", workflows.render],
  [/^workflows\/([^/]+)$/, "workflows", workflow.render],
  [/^runs$/, "runs", runs.render],
  [/^runs\/([^/]+)$/, "runs", run.render],
  [/^configs$/, "configs", resources.renderList("config")],
  [/^configs\/new$/, "configs", resources.renderNew("config")],
  [/^configs\/([^/]+)$/, "configs", resources.renderOne("config")],
  [/^triggers$/, "triggers", resources.renderList("trigger_rule")],
  [/^triggers\/new$/, "triggers", resources.renderNew("trigger_rule")],
  [/^triggers\/([^/]+)$/, "triggers", resources.renderOne("trigger_rule")],
  [/^system$/, "system", system.render],
];

const view = document.getElementById("view");
let leaving = [];
let generation = 0;

function leave() {
  for (const stop of leaving) {
    try { stop(); } catch (err) { console.error(err); }
  }
  leaving = [];
}

async function route() {
  leave();
  const mine = ++generation;
  delete view.dataset.ready; // the page shown is the previous route's until this one renders
  const path = decodeURI(location.pathname).replace(/^\/dashboard\/?/, "").replace(/\/$/, "");
  const query = new URLSearchParams(location.search);
  const page = {
    query,
    onLeave: (stop) => { if (mine === generation) leaving.push(stop); else stop(); },
    get current() { return mine === generation; },
  };
  for (const a of document.querySelectorAll("header nav a")) a.classList.remove("active");
  for (const [pattern, section, render] of ROUTES) {
    const match = path.match(pattern);
    if (!match) continue;
    document.querySelector(`header nav a[data-nav="${section}"]`)?.classList.add("active");
    try {
      await render(view, match.slice(1).map((part) => part && decodeURIComponent(part)), page);
      if (!page.current) return;
      view.dataset.ready = String(mine); // tests wait for this
      performance.mark("dashboard:ready"); // the benchmark's "usable"
    } catch (err) {
      if (!page.current) return;
      if (err instanceof ApiError && err.status === 404) notFound(view, err.detail);
      else replace(view, h("h1", null, "Something went wrong"), h("div", { class: "error-box", role: "alert" }, err.detail ?? String(err)));
      view.dataset.ready = String(mine);
      if (!(err instanceof ApiError)) console.error(err);
    }
    return;
  }
  notFound(view, `The dashboard has no page at /dashboard/${path}.`);
  view.dataset.ready = String(mine);
}

document.addEventListener("click", (event) => {
  const a = event.target.closest("a[href]");
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || a.target) return;
  const target = new URL(a.href, location.href);
  if (target.origin !== location.origin || !target.pathname.startsWith("/dashboard")) return;
  event.preventDefault();
  if (target.pathname + target.search !== location.pathname + location.search) navigate(target.pathname + target.search);
});
window.addEventListener("popstate", route);
window.addEventListener("dashboard:navigate", route);
route();
