// Configs and trigger rules: listed, viewed and edited as YAML (validated by the server, errors
// shown inline, nothing stored unless valid). Triggers show their last and next firing.

import { get } from "../api.js";
import { badge, encode, formatTime, h, link, replace, table } from "../dom.js";
import { yamlEditor } from "../editor.js";
import { navigate } from "../nav.js";

const KINDS = {
  config: { path: "configs", api: "/configs/", title: "Configs", one: "config" },
  trigger_rule: { path: "triggers", api: "/triggers/", title: "Triggers", one: "trigger" },
};

const TEMPLATES = {
  config: "kind: config\nmetadata:\n  name: my-config\nspec:\n  selector:\n    type: name\n    value: my-workflow\n  data:\n    key: value\n",
  trigger_rule: "kind: trigger_rule\nmetadata:\n  name: my-schedule\nspec:\n  type: schedule\n  rule: [\"*/5 * * * *\"]\n  action:\n    target: run_workflow\n    parameters:\n      workflow: my-workflow\n      input: {}\n",
};

function selectorText(selector) {
  if (!selector) return "every workflow";
  if (selector.type === "annotation") return `annotations ${Object.entries(selector.value || {}).map(([k, v]) => `${k}=${v}`).join(", ")}`;
  return `workflow ${selector.value}`;
}

function ruleText(spec) {
  if (spec.type === "schedule") return (spec.rule || []).join(" | ") + (spec.timezone ? ` (${spec.timezone})` : "");
  const text = JSON.stringify(spec.rule);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

function lastFiring(status) {
  if (!status?.last_fired_at) return h("span", { class: "muted" }, "never");
  return h("span", null, formatTime(status.last_fired_at), " ", status.last_state ? badge(status.last_state) : null,
    status.last_run ? [" ", link(`runs/${encode(status.last_run)}`, status.last_run)] : null);
}

const COLUMNS = {
  config: [
    { title: "Config", cell: (c) => link(`configs/${encode(c.metadata.name)}`, c.metadata.name) },
    { title: "Applies to", cell: (c) => selectorText(c.spec.selector) },
    { title: "Data keys", cell: (c) => Object.keys(c.spec.data || {}).join(", ") || "—" },
    { title: "Updated", cell: (c) => formatTime(c.metadata.updated_at) },
  ],
  trigger_rule: [
    { title: "Trigger", cell: (t) => link(`triggers/${encode(t.metadata.name)}`, t.metadata.name) },
    { title: "Type", cell: (t) => t.spec.type },
    { title: "Rule", cell: (t) => h("code", null, ruleText(t.spec)) },
    { title: "Action", cell: (t) => `${t.spec.action.target} ${t.spec.action.parameters?.workflow ?? ""}` },
    { title: "Last firing", cell: (t) => lastFiring(t.status) },
    { title: "Next firing", cell: (t) => (t.status?.next_fire_at ? formatTime(t.status.next_fire_at) : "—") },
  ],
};

export function renderList(kind) {
  const meta = KINDS[kind];
  return async (view, _params, page) => {
    document.title = `${meta.title} · Flowdapt`;
    const items = await get(meta.api, { limit: 1000 });
    if (!page.current) return;
    replace(view, h("h1", null, meta.title, h("a", { href: `/dashboard/${meta.path}/new`, class: "badge tag" }, `+ new ${meta.one}`)),
      table(COLUMNS[kind], items, { empty: `No ${meta.title.toLowerCase()} yet.`, rowProps: (r) => ({ dataset: { name: r.metadata.name } }) }));
  };
}

export function renderNew(kind) {
  const meta = KINDS[kind];
  return async (view) => {
    document.title = `New ${meta.one} · Flowdapt`;
    replace(view, h("h1", null, `New ${meta.one}`),
      yamlEditor({ kind, name: null, text: TEMPLATES[kind],
        onApplied: (stored) => navigate(`/dashboard/${meta.path}/${encode(stored.resource.metadata.name)}`) }));
  };
}

function triggerStatus(trigger, firings) {
  const status = trigger.status || {};
  return h("div", null,
    h("div", { class: "card" }, h("dl", { class: "facts" },
      h("dt", null, "Last firing"), h("dd", null, lastFiring(status)),
      status.last_error ? [h("dt", null, "Last error"), h("dd", null, status.last_error)] : null,
      h("dt", null, "Next firing"), h("dd", null, status.next_fire_at ? formatTime(status.next_fire_at) : "—"))),
    h("h2", null, "Firings"),
    table([
      { title: "Fired", cell: (f) => formatTime(f.fired_at) },
      { title: "State", cell: (f) => badge(f.state) },
      { title: "Run", cell: (f) => (f.run ? link(`runs/${encode(f.run)}`, f.run) : "—") },
      { title: "Error", cell: (f) => f.error ?? "" },
    ], firings, { empty: "It has not fired yet." }));
}

export function renderOne(kind) {
  const meta = KINDS[kind];
  return async (view, [name], page) => {
    document.title = `${name} · Flowdapt`;
    const loads = [get(`/dashboard/api/resources/${kind}/${encode(name)}`)];
    if (kind === "trigger_rule") {
      loads.push(get(`/triggers/${encode(name)}`), get(`/triggers/${encode(name)}/firings`, { limit: 20 }));
    }
    const [doc, trigger, firings] = await Promise.all(loads);
    if (!page.current) return;
    const resource = doc.resource;
    const stamp = (m) => `uid ${m.uid} · created ${formatTime(m.created_at)} · updated ${formatTime(m.updated_at)}`;
    const about = h("p", { class: "muted" }, stamp(resource.metadata));
    // The editor shows its own outcome; only the timestamps around it change.
    const onApplied = (stored) => { about.textContent = stamp(stored.resource.metadata); };
    replace(view,
      h("h1", null, h("a", { href: `/dashboard/${meta.path}` }, meta.title), " / ", name),
      about,
      h("div", { class: kind === "trigger_rule" ? "split" : "" },
        h("div", null, h("h2", null, "YAML"), yamlEditor({ kind, name, text: doc.yaml, onApplied })),
        kind === "trigger_rule" ? h("div", null, h("h2", null, "Status"), triggerStatus(trigger, firings)) : null));
  };
}
