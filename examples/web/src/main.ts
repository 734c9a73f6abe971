// A live map in a web page: WebSocketRemote (the browser's own WebSocket)
// registers the map, follows it with `watch` (the server pushes each new
// update id, so nothing polls) and sends the built-in KvEvent Set of
// `syncstate serve` (the fixture Rust server's KvEvent starts with the same
// variant, so the page works through `syncstate gateway` too).
//
// Settings come from the page's fragment, never sent to the web server:
//   #url=ws://127.0.0.1:7879/&token=…&map={"color":"red"}
// or from the form.
import { t, toHex } from '@syncstate-ts/codec';
import { Event, kinds, StateMap } from '@syncstate-ts/core';
import { WebSocketRemote } from '@syncstate-ts/remote/websocket';

/** enum KvEvent { Set(String, String), SetMany(Vec<(String, String)>) }, variant for variant. */
const kvEvent = t.enumOf({
  Set: t.tuple(t.string, t.string),
  SetMany: t.vec(t.tuple(t.string, t.string)),
});

const $ = <T extends HTMLElement>(selector: string): T => {
  const element = document.querySelector<T>(selector);
  if (element === null) throw new Error(`the page lacks ${selector}`);
  return element;
};
const ui = {
  connect: $<HTMLFormElement>('#connect'),
  url: $<HTMLInputElement>('#url'),
  token: $<HTMLInputElement>('#token'),
  initial: $<HTMLTextAreaElement>('#initial'),
  status: $<HTMLElement>('#status'),
  hash: $<HTMLElement>('#hash'),
  updateId: $<HTMLElement>('#update-id'),
  rows: $<HTMLTableSectionElement>('#pairs tbody'),
  edit: $<HTMLFormElement>('#edit'),
  key: $<HTMLSelectElement>('#key'),
  value: $<HTMLInputElement>('#value'),
  set: $<HTMLButtonElement>('#set'),
  error: $<HTMLElement>('#error'),
};

interface Live {
  remote: WebSocketRemote<string, string>;
  map: StateMap<string, string>;
  stop: AbortController;
}
let live: Live | undefined;

function setState(state: 'idle' | 'connecting' | 'live' | 'stopped', text: string): void {
  document.body.dataset.state = state;
  ui.status.textContent = text;
}

function showError(err: unknown): void {
  const e = err as { name?: string; code?: string; message?: string };
  ui.error.textContent = `${e.name ?? 'Error'}${e.code !== undefined ? ` (${e.code})` : ''}: ${e.message ?? String(err)}`;
  ui.error.dataset.code = e.code ?? '';
  ui.error.hidden = false;
}

function clearError(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
  delete ui.error.dataset.code;
}

function render(map: StateMap<string, string>, changed: ReadonlySet<string> = new Set()): void {
  ui.updateId.textContent = String(map.getUpdateId());
  const keys = [...map.entries()].map(([key]) => key).sort();
  ui.rows.replaceChildren(
    ...keys.map((key) => {
      const row = document.createElement('tr');
      row.dataset.key = key;
      if (changed.has(key)) row.className = 'changed';
      const k = document.createElement('td');
      k.textContent = key;
      const v = document.createElement('td');
      v.className = 'value';
      v.textContent = map.get(key) ?? '';
      row.append(k, v);
      return row;
    }),
  );
  if (ui.key.options.length !== keys.length) {
    ui.key.replaceChildren(...keys.map((key) => new Option(key, key)));
  }
}

function parseInitial(text: string): Array<[string, string]> {
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError('the initial map must be a JSON object');
  return Object.entries(value).map(([k, v]) => {
    if (typeof v !== 'string') throw new TypeError(`the value of ${JSON.stringify(k)} must be a string`);
    return [k, v];
  });
}

async function connect(url: string, token: string, initial: string): Promise<void> {
  live?.stop.abort();
  live?.remote.close();
  live = undefined;
  clearError();
  ui.set.disabled = true;
  setState('connecting', `connecting to ${url}…`);
  const remote = new WebSocketRemote({ url, token, key: kinds.string, value: kinds.string });
  const stop = new AbortController();
  const current: Live = { remote, map: new StateMap({ key: kinds.string, value: kinds.string, remote }), stop };
  live = current;
  try {
    const session = await remote.connect({ signal: stop.signal });
    for (const [k, v] of parseInitial(initial)) current.map.push(k, v);
    // GetUpdateId, and Init with the whole map when the server does not have it yet.
    await current.map.freeze();
    ui.hash.textContent = toHex(current.map.hash()!).slice(0, 16) + '…';
    await remote.sync(current.map, { signal: stop.signal });
    render(current.map);
    ui.set.disabled = false; // with a read-only token too: the server refuses the event, and the page shows why
    setState('live', `live · ${session.readOnly ? 'read only' : 'read and write'}`);
    for await (const change of remote.watch(current.map, {
      signal: stop.signal,
      onRetry: (err, ms) => setState('connecting', `connection lost (${(err as Error).message}); retrying in ${ms} ms`),
    })) {
      render(current.map, new Set(change.changes.map((c) => c.key)));
      if (document.body.dataset.state !== 'live') setState('live', `live · ${session.readOnly ? 'read only' : 'read and write'}`);
    }
  } catch (err) {
    if (stop.signal.aborted) return;
    showError(err);
    setState('stopped', 'stopped');
  }
}

ui.connect.addEventListener('submit', (event) => {
  event.preventDefault();
  void connect(ui.url.value.trim(), ui.token.value, ui.initial.value);
});

ui.edit.addEventListener('submit', (event) => {
  event.preventDefault();
  const current = live;
  if (current === undefined) return;
  clearError();
  const set = new Event(kvEvent, { type: 'Set', value: [ui.key.value, ui.value.value] });
  // The server answers once it accepted the event; the change itself arrives through watch.
  current.remote.sendEvent(set, current.map.hash()!).catch(showError);
});

// Settings from the fragment: connect at once when it names a server and a token.
const params = new URLSearchParams(location.hash.slice(1));
ui.url.value = params.get('url') ?? '';
ui.token.value = params.get('token') ?? '';
if (params.has('map')) ui.initial.value = params.get('map')!;
setState('idle', 'not connected');
if (ui.url.value !== '' && ui.token.value !== '') void connect(ui.url.value, ui.token.value, ui.initial.value);
