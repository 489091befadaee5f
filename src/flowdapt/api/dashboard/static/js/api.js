// The server's REST API (the same the original's client speaks) and the dashboard's own JSON.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.body = body ?? {};
    this.detail = this.body.detail ?? this.message;
  }
}

function url(path, query) {
  const target = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(key, value);
  }
  return target;
}

export async function request(method, path, { query, json, text } = {}) {
  const headers = {};
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (text !== undefined) { headers["Content-Type"] = "application/yaml"; body = text; }
  let response;
  try {
    response = await fetch(url(path, query), { method, headers, body });
  } catch (err) {
    throw new ApiError(0, { detail: `the server cannot be reached (${err.message})` });
  }
  const type = response.headers.get("content-type") || "";
  const payload = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(response.status, typeof payload === "object" ? payload : { detail: payload });
  return payload;
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, json, query) => request("POST", path, { json, query });

export const runPath = (id) => `/workflows/run/${encodeURIComponent(id)}`;
