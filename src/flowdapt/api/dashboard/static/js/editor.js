// Editing a resource as YAML: the server parses and validates it (the same validation as the
// REST API) and answers 422 with the problems — shown under the text, and for a YAML syntax
// error the cursor jumps to the line. Nothing is stored unless it is valid.

import { ApiError, request } from "./api.js";
import { h, replace } from "./dom.js";

function lineRange(text, line) {
  const lines = text.split("\n");
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  return [start, start + (lines[line - 1] ?? "").length];
}

function showProblem(box, textarea, err) {
  const body = err instanceof ApiError ? err.body : {};
  const where = body.line ? `line ${body.line}${body.column ? `, column ${body.column}` : ""}` : null;
  const problems = (body.problems || []).filter((p) => p !== body.detail);
  replace(box, h("div", { class: "error-box", role: "alert", dataset: { testid: "editor-error" } },
    h("strong", null, err.status === 422 ? "Not applied: " : `Not applied (HTTP ${err.status}): `),
    err.detail,
    where ? h("div", { dataset: { testid: "editor-error-line" } }, `at ${where}`) : null,
    problems.length > 1 ? h("ul", null, problems.map((p) => h("li", null, p))) : null));
  if (body.line) {
    const [start, end] = lineRange(textarea.value, body.line);
    textarea.focus();
    textarea.setSelectionRange(start, end);
  }
}

/**
 * A YAML editor for `kind`: PUT to the resource named `name`, or POST a new one when name is null.
 * onApplied(document) gets the stored resource ({resource, yaml}).
 */
export function yamlEditor({ kind, name, text, onApplied }) {
  const textarea = h("textarea", { class: "editor", spellcheck: false, value: text, dataset: { testid: "yaml-editor" } });
  const message = h("div", { class: "editor-message" });
  const original = text;
  const apply = h("button", { dataset: { testid: "apply" } }, name ? "Apply" : "Create");
  const revert = h("button", { class: "secondary", onclick: () => { textarea.value = original; replace(message); } }, "Revert");
  apply.addEventListener("click", async () => {
    apply.disabled = true;
    replace(message);
    try {
      const path = name
        ? `/dashboard/api/resources/${kind}/${encodeURIComponent(name)}`
        : `/dashboard/api/resources/${kind}`;
      const stored = await request(name ? "PUT" : "POST", path, { text: textarea.value });
      textarea.value = stored.yaml;
      replace(message, h("div", { class: "ok-box", dataset: { testid: "editor-ok" } },
        `Applied at ${new Date().toLocaleTimeString()}.`));
      onApplied?.(stored);
    } catch (err) {
      showProblem(message, textarea, err);
    } finally {
      apply.disabled = false;
    }
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Tab") { // two spaces, as YAML wants, instead of leaving the field
      event.preventDefault();
      textarea.setRangeText("  ", textarea.selectionStart, textarea.selectionEnd, "end");
    }
  });
  return h("div", { class: "yaml-editor" }, textarea, message, h("div", { class: "toolbar" }, apply, revert));
}
