// The library view: a run's one-shots in a list per role (sortable by confidence, each with
// its waveform: the server's peak envelope), and the library map (the library map picture's
// coordinates) as a scatter. Hover names a sample, a click auditions it; a role menu or a
// drag from one role's list to another moves a sample (the server writes a new pools file).
// A library of thousands: each list shows a page of rows at a time ("more" adds a page),
// the waveforms of the rows shown are asked for as they appear (and kept), and the map is
// drawn when its coordinates arrive, after the lists.

const SVG = 'http://www.w3.org/2000/svg';
const MAP_WIDTH = 460;
const MAP_HEIGHT = 340;
const MAP_MARGIN = 14;
export const PAGE_ROWS = 50; // rows a role's list shows at first, and adds at each "more"

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A small canvas for a waveform (`drawWaveform`). */
function waveformCanvas() {
  const canvas = element('canvas', 'waveform');
  canvas.width = 96;
  canvas.height = 24;
  return canvas;
}

/** A peak envelope (0..1 per bin) drawn as mirrored bars; none (not known yet, or the file
 *  cannot be read): a flat line. */
function drawWaveform(canvas, peaks, colour) {
  const context = canvas.getContext('2d');
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = colour;
  if (!peaks) {
    context.fillRect(0, canvas.height / 2, canvas.width, 1);
    return;
  }
  const width = canvas.width / peaks.length;
  peaks.forEach((peak, i) => {
    const height = Math.max(1, peak * canvas.height);
    context.fillRect(i * width, (canvas.height - height) / 2, Math.max(1, width - 0.5), height);
  });
}

export class LibraryView {
  /**
   * @param {HTMLElement} lists  where the role lists go
   * @param {SVGElement} map  the scatter's <svg>
   * @param {HTMLElement} label  the map's hover label
   * @param {object} handlers  onAudition(sample), onPrefetch(sample), onMove(sampleId, role),
   *   onSort(role), onMore(role), onNeedPeaks(sampleIds): what a click, a hover, a move, a
   *   sort button and a "more" button do, and where the waveforms of new rows come from
   */
  constructor(lists, map, label, handlers) {
    Object.assign(this, { lists, map, label, handlers });
    this.painted = null;
    this.peaks = new Map(); // sample id -> its envelope (null: unreadable), once known
    this.canvases = new Map(); // sample id -> [canvas, colour] of the rows shown
    this.dots = new Map(); // sample id -> {sample, role} of the map's dots
    // one listener each for the thousands of dots
    this.map.addEventListener('pointerover', (event) => {
      const dot = this.dots.get(event.target.dataset?.sample);
      if (!dot) return;
      this.label.textContent = dotTitle(dot);
      this.handlers.onPrefetch(dot.sample);
    });
    this.map.addEventListener('click', (event) => {
      const dot = this.dots.get(event.target.dataset?.sample);
      if (dot) this.handlers.onAudition(dot.sample);
    });
  }

  /** Paint `library` (the /api/library lists) sorted as `sort` says ({role: 'asc'}; the
   *  default is most confident first), `rows` rows a role ({role: n}; default
   *  `PAGE_ROWS`), and the map's `places` (the /api/library/map answer; null: not here
   *  yet). Nothing is redone that did not change. */
  paint(library, sort, rows, places, rules) {
    const was = this.painted;
    this.painted = { library, sort, rows, places };
    if (was?.library !== library || was?.sort !== sort || was?.rows !== rows) {
      this.paintLists(library, sort, rows, rules);
    }
    if (was?.library !== library || was?.places !== places) this.paintMap(library, places, rules);
  }

  /** The envelopes of `peaks` ({sample id: envelope}) are here: draw the rows shown. */
  setPeaks(peaks) {
    for (const [id, envelope] of Object.entries(peaks)) {
      this.peaks.set(id, envelope);
      const shown = this.canvases.get(id);
      if (shown) drawWaveform(shown[0], envelope, shown[1]);
    }
  }

  paintLists(library, sort, rows, rules) {
    this.canvases.clear();
    const columns = rules.roles.map((role) => {
      const column = element('section', 'role-list');
      column.dataset.role = role;
      column.style.setProperty('--role-colour', rules.colours[role]);
      const samples = [...library.roles[role]];
      const ascending = sort[role] === 'asc';
      samples.sort((a, b) => (ascending ? a.confidence - b.confidence : b.confidence - a.confidence));
      const head = element('h4', '', `${role} (${samples.length})`);
      const sorter = element('button', 'sort', ascending ? 'confidence ▲' : 'confidence ▼');
      sorter.type = 'button';
      sorter.title = 'sort by confidence';
      sorter.addEventListener('click', () => this.handlers.onSort(role));
      head.append(sorter);
      const list = element('ol', 'samples');
      const shown = rows[role] ?? PAGE_ROWS;
      list.append(...samples.slice(0, shown).map((sample) => this.row(sample, role, rules)));
      const left = samples.length - shown;
      if (left > 0) {
        const more = element('button', 'more', `${Math.min(left, PAGE_ROWS)} more of ${left}`);
        more.type = 'button';
        more.addEventListener('click', () => this.handlers.onMore(role));
        list.append(more);
      }
      // a row dragged here from another role's list moves its sample to this role
      column.addEventListener('dragover', (event) => event.preventDefault());
      column.addEventListener('drop', (event) => {
        event.preventDefault();
        const [id, from] = event.dataTransfer.getData('text/plain').split('\n');
        if (id && from !== role) this.handlers.onMove(id, role);
      });
      column.append(head, list);
      return column;
    });
    this.lists.replaceChildren(...columns);
    const missing = [...this.canvases.keys()].filter((id) => !this.peaks.has(id));
    if (missing.length) this.handlers.onNeedPeaks(missing);
  }

  row(sample, role, rules) {
    const item = element('li', 'sample');
    Object.assign(item.dataset, { sample: sample.sample_id, role });
    item.draggable = true;
    item.title = sample.file ? `${sample.sample_id}: click to hear it` : `${sample.sample_id}: no file`;
    const menu = element('select', 'role-menu');
    menu.title = 'move to another role (writes a new pools file)';
    menu.append(...rules.roles.map((r) => new Option(r, r, r === role, r === role)));
    menu.addEventListener('change', () => this.handlers.onMove(sample.sample_id, menu.value));
    menu.addEventListener('click', (event) => event.stopPropagation());
    const canvas = waveformCanvas();
    const colour = rules.colours[role];
    if (sample.peaks) this.peaks.set(sample.sample_id, sample.peaks);
    drawWaveform(canvas, this.peaks.get(sample.sample_id) ?? null, colour);
    if (sample.file) this.canvases.set(sample.sample_id, [canvas, colour]);
    item.append(
      canvas,
      element('span', 'id', sample.sample_id),
      element('span', 'confidence', sample.confidence.toFixed(2)),
      menu,
    );
    item.addEventListener('click', () => this.handlers.onAudition(sample));
    item.addEventListener('pointerenter', () => this.handlers.onPrefetch(sample));
    item.addEventListener('dragstart', (event) => {
      event.dataTransfer.setData('text/plain', `${sample.sample_id}\n${role}`);
    });
    return item;
  }

  paintMap(library, places, rules) {
    this.map.setAttribute('viewBox', `0 0 ${MAP_WIDTH} ${MAP_HEIGHT}`);
    this.dots.clear();
    if (!places) {
      this.map.replaceChildren();
      this.label.textContent = 'the library map is on its way ...';
      return;
    }
    const placed = rules.roles.flatMap((role) =>
      library.roles[role]
        .filter((s) => places.places[s.sample_id])
        .map((s) => {
          const [x, y] = places.places[s.sample_id];
          return { sample: s, role, x, y };
        }),
    );
    if (!placed.length) {
      this.map.replaceChildren();
      this.label.textContent = 'no map: the run has no per_sample file (stage 2 features)';
      return;
    }
    const span = (values) => {
      const low = values.reduce((a, b) => Math.min(a, b)); // no spread: thousands of arguments
      const high = values.reduce((a, b) => Math.max(a, b));
      return [low, high - low || 1];
    };
    const [x0, dx] = span(placed.map((s) => s.x));
    const [y0, dy] = span(placed.map((s) => s.y));
    const inner = (size) => size - 2 * MAP_MARGIN;
    const radius = placed.length > 1000 ? 2.5 : 6; // thousands of dots: smaller, less overlap
    const dots = placed.map((dot) => {
      const circle = document.createElementNS(SVG, 'circle');
      const x = MAP_MARGIN + ((dot.x - x0) / dx) * inner(MAP_WIDTH);
      const y = MAP_HEIGHT - MAP_MARGIN - ((dot.y - y0) / dy) * inner(MAP_HEIGHT);
      circle.setAttribute('cx', x.toFixed(1));
      circle.setAttribute('cy', y.toFixed(1));
      circle.setAttribute('r', radius);
      circle.setAttribute('fill', rules.colours[dot.role]);
      circle.classList.add('dot');
      circle.dataset.sample = dot.sample.sample_id;
      this.dots.set(dot.sample.sample_id, dot);
      return circle;
    });
    this.map.replaceChildren(...dots);
    const [ex, ey] = places.explained.map((e) => Math.round(e * 100));
    this.label.textContent = `similar sounds lie close together (PCA: ${ex}% and ${ey}% of variance)`;
  }
}

/** What a dot's hover says: the sample, its role and confidence. */
const dotTitle = ({ sample, role }) => `${sample.sample_id} (${role}, ${sample.confidence.toFixed(2)})`;
