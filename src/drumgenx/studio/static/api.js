// Talks to the studio's server: every request carries the per-launch token (the server
// also checks the page's Origin, which the browser adds itself). Errors arrive as
// {"error": "one line"} and are thrown as ApiError.

const token = document.querySelector('meta[name="drumgenx-token"]')?.content ?? '';

export class ApiError extends Error {
  constructor(status, body) {
    super(body.error ?? `request failed (${status})`);
    this.status = status;
    this.body = body;
  }
}

async function call(method, url, body) {
  const options = { method, headers: { 'X-Drumgenx-Token': token } };
  if (body instanceof FormData) {
    options.body = body; // the browser sets the multipart type and its boundary
  } else if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  let data;
  try {
    data = await response.json();
  } catch {
    data = { error: `${response.status} ${response.statusText}` };
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

const query = (name, value) => `${name}=${encodeURIComponent(value)}`;

/** The URL of a file under OUT (a path relative to OUT, '/'-separated). */
export const fileUrl = (path) => '/files/' + path.split('/').map(encodeURIComponent).join('/');

export const api = {
  runs: () => call('GET', '/api/runs'),
  run: (record) => call('GET', `/api/run?${query('record', record)}`),
  events: (path) => call('GET', `/api/events?${query('path', path)}`),
  save: (request) => call('POST', '/api/save', request),
  groove: (request) => call('POST', '/api/groove', request),
  library: (record, pools, { waveforms = true, places = true } = {}) =>
    call(
      'GET',
      `/api/library?${query('record', record)}${pools ? `&${query('pools', pools)}` : ''}` +
        (waveforms ? '' : '&waveforms=0') +
        (places ? '' : '&places=0'),
    ),
  libraryPeaks: (record, pools, ids) =>
    call(
      'GET',
      `/api/library/peaks?${query('record', record)}&${query('pools', pools)}&` +
        ids.map((id) => query('id', id)).join('&'),
    ),
  libraryMap: (record) => call('GET', `/api/library/map?${query('record', record)}`),
  moveSample: (request) => call('POST', '/api/library/move', request),
  exportLoop: (request) => call('POST', '/api/export', request),
  newRun: (form) => call('POST', '/api/new-run', form),
  newRunState: () => call('GET', '/api/new-run'),
  stopRun: (run) => call('POST', '/api/new-run/stop', { run }),
};

/** The event stream of a new run (server-sent events; GETs need no token). */
export const runEvents = (run) => new EventSource(`/api/new-run/events?${query('run', run)}`);
