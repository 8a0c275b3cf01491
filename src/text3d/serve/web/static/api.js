// The service's REST API as the page uses it: every request carries the bearer token when one
// is set, refusals become one-line Errors (the service's `detail`), and progress is read from
// the server-sent events endpoint with fetch() (EventSource cannot send an Authorization header).

const TOKEN_KEY = 'text3d.token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra = {}) {
  const all = { ...extra };
  if (token()) all.Authorization = `Bearer ${token()}`;
  return all;
}

// The service's one-line refusal, or the HTTP status when the body is not its JSON.
async function refusal(response, path) {
  let detail = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && body.detail) detail = typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail);
  } catch (_) { /* not JSON: keep the status line */ }
  const error = new Error(`${path}: ${detail}`);
  error.status = response.status;
  return error;
}

// fetch() relative to the page (so a proxy prefix works) with the token; throws on 4xx/5xx.
export async function request(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if (!response.ok) throw await refusal(response, path);
  return response;
}

export async function getJSON(path) {
  return (await request(path)).json();
}

export async function postJSON(path, body) {
  return (await request(path, {
    method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' },
  })).json();
}

export async function getBlob(path) {
  return (await request(path)).blob();
}

// Server-sent events of `path` as {event, data} objects, until the stream ends.
export async function* events(path, signal) {
  const response = await request(path, { headers: { Accept: 'text/event-stream' }, signal });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length) yield { event, data: JSON.parse(data.join('\n')) };
    }
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
