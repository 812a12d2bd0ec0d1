// The library view: a run's one-shots in a list per role (sortable by confidence, each with
// its waveform: the server's peak envelope), and the library map (the library map picture's
// coordinates) as a scatter. Hover names a sample, a click auditions it; a role menu or a
// drag from one role's list to another moves a sample (the server writes a new pools file).

const SVG = 'http://www.w3.org/2000/svg';
const MAP_WIDTH = 460;
const MAP_HEIGHT = 340;
const MAP_MARGIN = 14;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A peak envelope (0..1 per bin) drawn as mirrored bars on a small canvas. */
function waveform(peaks, colour) {
  const canvas = element('canvas', 'waveform');
  canvas.width = 96;
  canvas.height = 24;
  const context = canvas.getContext('2d');
  context.fillStyle = colour;
  if (!peaks) {
    context.fillRect(0, canvas.height / 2, canvas.width, 1);
    return canvas;
  }
  const width = canvas.width / peaks.length;
  peaks.forEach((peak, i) => {
    const height = Math.max(1, peak * canvas.height);
    context.fillRect(i * width, (canvas.height - height) / 2, Math.max(1, width - 0.5), height);
  });
  return canvas;
}

export class LibraryView {
  /**
   * @param {HTMLElement} lists  where the role lists go
   * @param {SVGElement} map  the scatter's <svg>
   * @param {HTMLElement} label  the map's hover label
   * @param {object} handlers  onAudition(sample), onPrefetch(sample), onMove(sampleId, role),
   *   onSort(role): what a click, a hover, a move and a sort button do
   */
  constructor(lists, map, label, handlers) {
    Object.assign(this, { lists, map, label, handlers });
    this.painted = null;
  }

  /** Paint `library` (the /api/library answer) sorted as `sort` says ({role: 'asc'}; the
   *  default is most confident first); nothing is redone when neither changed. */
  paint(library, sort, rules) {
    if (this.painted?.library === library && this.painted?.sort === sort) return;
    this.painted = { library, sort };
    this.paintLists(library, sort, rules);
    this.paintMap(library, rules);
  }

  paintLists(library, sort, rules) {
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
      list.append(...samples.map((sample) => this.row(sample, role, rules)));
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
    item.append(
      waveform(sample.peaks, rules.colours[role]),
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

  paintMap(library, rules) {
    const placed = rules.roles.flatMap((role) =>
      library.roles[role].filter((s) => s.x !== null).map((s) => ({ ...s, role })),
    );
    this.map.setAttribute('viewBox', `0 0 ${MAP_WIDTH} ${MAP_HEIGHT}`);
    if (!placed.length) {
      this.map.replaceChildren();
      this.label.textContent = 'no map: the run has no per_sample file (stage 2 features)';
      return;
    }
    const span = (values) => {
      const low = Math.min(...values);
      const high = Math.max(...values);
      return [low, high - low || 1];
    };
    const [x0, dx] = span(placed.map((s) => s.x));
    const [y0, dy] = span(placed.map((s) => s.y));
    const inner = (size) => size - 2 * MAP_MARGIN;
    const dots = placed.map((sample) => {
      const dot = document.createElementNS(SVG, 'circle');
      const x = MAP_MARGIN + ((sample.x - x0) / dx) * inner(MAP_WIDTH);
      const y = MAP_HEIGHT - MAP_MARGIN - ((sample.y - y0) / dy) * inner(MAP_HEIGHT);
      Object.entries({ cx: x, cy: y, r: 6, fill: rules.colours[sample.role] }).forEach(
        ([name, value]) => dot.setAttribute(name, value),
      );
      dot.classList.add('dot');
      dot.dataset.sample = sample.sample_id;
      const title = document.createElementNS(SVG, 'title');
      title.textContent = `${sample.sample_id} (${sample.role}, ${sample.confidence.toFixed(2)})`;
      dot.append(title);
      dot.addEventListener('pointerenter', () => {
        this.label.textContent = title.textContent;
        this.handlers.onPrefetch(sample);
      });
      dot.addEventListener('click', () => this.handlers.onAudition(sample));
      return dot;
    });
    this.map.replaceChildren(...dots);
    const [ex, ey] = library.map.explained.map((e) => Math.round(e * 100));
    this.label.textContent = `similar sounds lie close together (PCA: ${ex}% and ${ey}% of variance)`;
  }
}
