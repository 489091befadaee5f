// Server push: an EventSource per page section, closed when the page is left. The header's dot
// shows whether the stream is open; EventSource reconnects by itself after a drop.

const open = new Set();

function showState() {
  const states = [...open].map((source) => source.readyState);
  document.body.dataset.live = states.includes(EventSource.OPEN)
    ? "open" : states.length ? "retrying" : "";
}

/** Listen to `event` messages on `path`; returns close(). */
export function subscribe(path, handlers) {
  const source = new EventSource(path);
  open.add(source);
  for (const [event, handler] of Object.entries(handlers)) {
    source.addEventListener(event, (message) => handler(JSON.parse(message.data)));
  }
  source.addEventListener("open", showState);
  source.addEventListener("error", () => {
    // A 404 or a refused connection closes it for good; a drop reconnects.
    if (source.readyState === EventSource.CLOSED) open.delete(source);
    showState();
  });
  showState();
  return () => { source.close(); open.delete(source); showState(); };
}

/** Run updates: one run's (with stages) or every run's summary. */
export function runUpdates(run, onUpdate) {
  const query = run ? `?run=${encodeURIComponent(run)}` : "";
  let close = null;
  // One run's stream ends with `end` after its stored final state: closed here, or EventSource
  // would reconnect.
  close = subscribe(`/dashboard/api/stream${query}`, { run: onUpdate, end: () => close() });
  return () => close();
}
