// The page: the prompt form, one card per job with a live progress bar, the 3D viewer and the
// gallery. Jobs are followed through the service's server-sent events, with polling as the
// fallback when the stream breaks.

import * as api from './api.js';
import { Gallery } from './gallery.js';

const $ = (id) => document.getElementById(id);
const FINISHED = ['done', 'failed', 'cancelled'];
const POLL_MS = 1000;

let viewer = null;   // null when three.js did not load: the rest of the page still works
let latestJob = null; // the job submitted last from this page: its caption and first asset are shown
const cards = new Map();
let gallery;

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = !message;
}

function cell(text, className = '') {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'asset';
}

function jobCard(id) {
  let card = cards.get(id);
  if (card) return card;
  card = document.createElement('div');
  card.className = 'job';
  card.dataset.job = id;
  card.innerHTML = `<div class="job-head"><span class="state"></span><progress max="1" value="0"></progress>
    <span class="count"></span><button type="button" class="cancel">cancel</button></div>
    <div class="error-line"></div><table><tbody></tbody></table>`;
  card.querySelector('.cancel').addEventListener('click', () =>
    api.request(`v1/jobs/${id}`, { method: 'DELETE' }).then((r) => r.json()).then(update).catch((e) => showError(e.message)));
  cards.set(id, card);
  return card;
}

// Draw a job's status (GET /v1/jobs/{id} or one progress event) into its card.
function update(status) {
  const card = jobCard(status.id);
  const { total, done, failed } = status.progress;
  card.dataset.state = status.state;
  const state = card.querySelector('.state');
  state.textContent = status.state;
  state.className = `state ${status.state}`;
  const bar = card.querySelector('progress');
  bar.value = total ? (done + failed) / total : 0;
  card.querySelector('.count').textContent = `${done + failed}/${total}${failed ? ` (${failed} failed)` : ''}`;
  card.querySelector('.cancel').hidden = FINISHED.includes(status.state);
  card.querySelector('.error-line').textContent = status.error || '';
  const rows = status.items.map((item) => {
    const row = document.createElement('tr');
    const seconds = Object.values(item.seconds || {}).reduce((a, b) => a + b, 0);
    row.append(cell(item.prompt), cell(item.caption, 'caption-cell'),
      cell(item.state === 'failed' ? `failed: ${item.error}` : item.state),
      cell(seconds ? `${seconds.toFixed(1)} s` : ''));
    const actions = cell('');
    if (item.state === 'done') {
      const view = document.createElement('button');
      view.type = 'button';
      view.textContent = 'view';
      view.addEventListener('click', () => open(status.id, item.index, item.prompt, item.caption));
      actions.append(view);
    }
    row.append(actions);
    return row;
  });
  card.querySelector('tbody').replaceChildren(...rows);
  if (status.id === latestJob) showLatest(status);
}

// The caption beside the prompt box, and the first finished asset in the viewer.
function showLatest(status) {
  const first = status.items.find((item) => item.caption) || status.items[0];
  if (first?.caption) showCaption(first.caption);
  const ready = status.items.find((item) => item.state === 'done');
  if (ready && $('viewer').dataset.job !== status.id && !$('viewer').dataset.opening) {
    open(status.id, ready.index, ready.prompt, ready.caption);
  }
}

const following = new Set();

async function follow(id) {
  if (following.has(id)) return;
  following.add(id);
  let status;
  try {
    try {
      for await (const { event, data } of api.events(`v1/jobs/${id}/events`)) {
        if (event === 'progress') update(data);
        if (event === 'end') break;
      }
    } catch (error) {
      if (error.status === 401) throw error;  // polling would be refused too
    }
    status = await api.getJSON(`v1/jobs/${id}`);
    while (!FINISHED.includes(status.state)) {  // the stream broke early: poll instead
      update(status);
      await api.sleep(POLL_MS);
      status = await api.getJSON(`v1/jobs/${id}`);
    }
    update(status);
  } catch (error) {
    showError(error.message);
    return;
  } finally {
    following.delete(id);
  }
  await gallery.refreshJobs(id === latestJob ? id : null);
}

function showCaption(caption) {
  $('caption').textContent = caption;
  $('caption').classList.remove('muted');
}

// Fetch item `index` of job `id` with the token, show it (its caption beside the prompt box), and
// offer the same bytes for download.
async function open(id, index, prompt, caption) {
  if (!viewer) return;
  const box = $('viewer');
  box.dataset.opening = `${id}/${index}`;
  try {
    const blob = await api.getBlob(`v1/jobs/${id}/items/${index}/asset.glb`);
    await viewer.load(await blob.arrayBuffer());
    const link = $('download');
    if (link.href) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([blob], { type: 'model/gltf-binary' }));
    link.download = `${slug(prompt)}.glb`;
    link.hidden = false;
    $('viewer-title').textContent = prompt;
    if (caption) showCaption(caption);
    box.dataset.job = id;
    box.dataset.loaded = `${id}/${index}`;
    $('viewer-error').hidden = true;
  } catch (error) {
    $('viewer-error').textContent = `asset ${index} of job ${id}: ${error.message}`;
    $('viewer-error').hidden = false;
  } finally {
    delete box.dataset.opening;
  }
}

async function submit(event) {
  event.preventDefault();
  const prompts = $('prompt').value.split('\n').map((line) => line.trim()).filter(Boolean);
  if (!prompts.length) return;
  const body = {
    augment: $('augment').value.trim() || 'embedded',
    backend: $('backend').value.trim() || 'embedded',
    seed: Number($('seed').value || 0),
    options: { resolution: Number($('resolution').value), gif: $('gif').checked },
    ...(prompts.length === 1 ? { prompt: prompts[0] } : { prompts }),
  };
  $('submit').disabled = true;
  try {
    const accepted = await api.postJSON('v1/jobs', body);
    showError('');
    latestJob = accepted.id;
    $('caption').textContent = 'Waiting for the caption…';
    $('caption').classList.add('muted');
    $('jobs').prepend(jobCard(accepted.id));
    update(await api.getJSON(`v1/jobs/${accepted.id}`));
    follow(accepted.id);
  } catch (error) {
    showError(error.message);
  } finally {
    $('submit').disabled = false;
  }
}

async function loadJobs() {
  const { jobs } = await api.getJSON('v1/jobs?limit=20');
  $('jobs').replaceChildren(...jobs.map((job) => jobCard(job.id)));
  for (const job of jobs) {
    update(await api.getJSON(`v1/jobs/${job.id}`));
    if (!FINISHED.includes(job.state)) follow(job.id);
  }
  await gallery.refreshJobs();
}

async function loadOptions() {
  const fill = (list, names) => $(list).replaceChildren(...names.map((name) => Object.assign(document.createElement('option'), { value: name })));
  try {
    const options = await api.getJSON('v1/options');
    fill('backends', options.backends);
    fill('augmenters', options.augmenters);
  } catch (_) { /* the fields still take any name */ }
  try {
    const health = await api.getJSON('v1/health');
    $('health').textContent = `v${health.version} · ${health.workers} worker(s) · queue ${health.queue_size}`;
  } catch (error) {
    showError(error.message);
  }
}

async function startViewer() {
  try {
    const { Viewer } = await import('./viewer.js');
    viewer = new Viewer($('viewer'));
    viewer.setBackground($('background').value);
  } catch (error) {
    $('viewer-error').textContent = `3D viewer unavailable (three.js did not load; run scripts/setup.sh): ${error.message}`;
    $('viewer-error').hidden = false;
    return;
  }
  $('wireframe').addEventListener('change', () => viewer.setWireframe($('wireframe').checked));
  $('background').addEventListener('input', () => viewer.setBackground($('background').value));
  $('reset-view').addEventListener('click', () => viewer.resetView());
  $('viewer').dataset.ready = '1';
}

async function main() {
  gallery = new Gallery({
    select: $('gallery-job'), filter: $('kind-filter'), grid: $('gallery'), count: $('gallery-count'),
    report: $('report'), refresh: $('gallery-refresh'), onOpen: open,
  });
  $('token').value = api.token();
  $('token').addEventListener('change', () => {
    api.setToken($('token').value.trim());
    loadJobs().then(() => showError('')).catch((error) => showError(error.message));
  });
  $('token-form').addEventListener('submit', (event) => {  // Enter in the token field
    event.preventDefault();
    $('token').dispatchEvent(new Event('change'));
  });
  $('job-form').addEventListener('submit', submit);
  await startViewer();
  await loadOptions();
  try {
    await loadJobs();
  } catch (error) {
    showError(error.message);
  }
  document.body.dataset.ready = '1';
}

main();
