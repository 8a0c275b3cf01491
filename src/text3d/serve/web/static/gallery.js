// The gallery of one job's run folder (a thumbnail, the prompt kind, the caption and the
// per-asset metrics of every item, filtered by kind) and the run's evaluation report.

import * as api from './api.js';

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('data-')) node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children);
  return node;
}

export function formatNumber(key, value) {
  if (key === 'faces') return Math.round(value).toLocaleString('en');
  if (Math.abs(value) >= 100) return value.toFixed(1);
  return value.toPrecision(3);
}

function jobLabel(job) {
  const when = job.created.replace('T', ' ').replace(/\+00:00$/, ' UTC');
  const items = job.progress.total === 1 ? '1 item' : `${job.progress.total} items`;
  return `${when} · ${items} · ${job.backend} · ${job.state}`;
}

export class Gallery {
  // onOpen(jobId, index, prompt, caption): show an item in the viewer
  constructor({ select, filter, grid, count, report, refresh, onOpen }) {
    Object.assign(this, { select, filter, grid, count, report, onOpen });
    this.data = null;
    this.urls = [];
    select.addEventListener('change', () => this.load(select.value));
    refresh.addEventListener('click', () => this.refreshJobs(select.value || null));
    filter.addEventListener('change', () => this.render());
  }

  // Fill the run list; show `preferred` (or the one shown, or the newest) when it changed.
  async refreshJobs(preferred = null) {
    const { jobs } = await api.getJSON('v1/jobs?limit=100');
    const current = this.select.value;
    this.select.replaceChildren(...jobs.map((job) => element('option', { value: job.id, textContent: jobLabel(job) })));
    const chosen = [preferred, current, jobs[0]?.id].find((id) => id && jobs.some((job) => job.id === id));
    if (!chosen) {
      this.grid.replaceChildren();
      this.report.textContent = 'No runs yet.';
      return;
    }
    this.select.value = chosen;
    if (chosen !== this.data?.id || preferred) await this.load(chosen);
  }

  async load(jobId) {
    this.data = await api.getJSON(`v1/jobs/${jobId}/gallery`);
    const kept = this.filter.value;
    this.filter.replaceChildren(element('option', { value: '', textContent: 'all' }),
      ...this.data.kinds.map((kind) => element('option', { value: kind, textContent: kind })));
    this.filter.value = this.data.kinds.includes(kept) ? kept : '';
    this.render();
    await this.loadReport();
  }

  render() {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
    const kind = this.filter.value;
    const shown = this.data.items.filter((item) => !kind || item.kind === kind);
    this.count.textContent = `${shown.length} of ${this.data.items.length} assets`;
    this.grid.replaceChildren(...shown.map((item) => this.card(item)));
  }

  card(item) {
    const image = element('img', { alt: item.prompt });
    if (item.thumbnail) {
      api.getBlob(`v1/jobs/${this.data.id}/items/${item.index}/${item.thumbnail}`).then((blob) => {
        const url = URL.createObjectURL(blob);
        this.urls.push(url);
        image.src = url;
      }).catch(() => { image.alt = 'no thumbnail'; });
    }
    const rows = Object.entries(this.data.metric_names)
      .filter(([key]) => item.metrics[key] !== undefined)
      .map(([key, header]) => element('tr', { 'data-metric': key },
        element('td', { textContent: header }), element('td', { textContent: formatNumber(key, item.metrics[key]) })));
    const card = element('div', { class: 'card', 'data-kind': item.kind, 'data-index': String(item.index) },
      image,
      element('div', {}, element('b', { textContent: item.prompt }), ' ', element('span', { class: 'kind', textContent: item.kind })),
      element('div', { class: 'caption', textContent: item.caption || (item.state === 'done' ? '' : item.state) }),
      element('table', {}, ...rows));
    if (item.state === 'done') card.addEventListener('click', () => this.onOpen(this.data.id, item.index, item.prompt, item.caption));
    return card;
  }

  async loadReport() {
    const { id, evaluated } = this.data;
    if (!evaluated) {
      this.report.replaceChildren('This run has not been evaluated. ',
        element('code', { textContent: `text3d eval --generated DATA/jobs/${id}/run --out DATA/jobs/${id}/run` }),
        ' writes its report beside the run (DATA is the service\'s --data).');
      return;
    }
    const html = await (await api.request(`v1/jobs/${id}/report.html`)).text();
    // sandbox without allow-scripts: the report (text3d's own HTML) is shown, nothing in it runs
    const frame = element('iframe', { title: 'evaluation report', srcdoc: html });
    frame.setAttribute('sandbox', '');
    this.report.replaceChildren(frame);
  }
}
