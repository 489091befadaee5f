// Moving between pages without the router's import (pages import this, the router listens).

import { h, replace } from "./dom.js";

export function navigate(path) {
  history.pushState(null, "", path);
  window.dispatchEvent(new Event("dashboard:navigate"));
}

/** The page for something that does not exist (an unknown run, workflow, path…). */
export function notFound(target, what) {
  document.title = "Not found · Flowdapt";
  replace(target, h("section", { class: "not-found", dataset: { testid: "not-found" } },
    h("h1", null, "Not found"),
    h("p", null, what),
    h("p", null, h("a", { href: "/dashboard/runs" }, "All runs"), " · ",
      h("a", { href: "/dashboard/workflows" }, "All workflows"))));
}

/** Draw the current page again (after a change the page itself made). */
export function reload() {
  window.dispatchEvent(new Event("dashboard:navigate"));
}
