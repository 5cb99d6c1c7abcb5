// memsoak report.html: draws the charts (uPlot) and the flame graph of growth from the page's
// embedded data. Every string from the run is set as text, never as markup.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('memsoak-data').textContent);
  const palette = ['#0b5cad', '#d1495b', '#2a9d8f', '#e09f1f', '#7b4fb3', '#5c6b73', '#c06c84', '#6a994e',
    '#1d7874', '#9c6644'];
  const color = (i) => palette[i % palette.length];

  function bytes(v) {
    if (v == null || !isFinite(v)) return '';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let x = Math.abs(v);
    let i = 0;
    while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
    return (v < 0 ? '-' : '') + (i === 0 ? x.toFixed(0) : x.toFixed(x < 10 ? 2 : 1)) + ' ' + units[i];
  }

  function element(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text != null) e.textContent = text;
    return e;
  }

  // Warm-up shaded; a tick at the top where a new worker process took over; a red mark at the
  // bottom for each failed run.
  function drawMarks(u, strategies) {
    const ctx = u.ctx;
    const top = u.bbox.top;
    const height = u.bbox.height;
    const dpr = uPlot.pxRatio;
    ctx.save();
    const warmupEnd = Math.max(...strategies.map((s) => s.first_analysed_run));
    if (warmupEnd > u.scales.x.min) {
      const x0 = u.valToPos(Math.max(u.scales.x.min, 0), 'x', true);
      const x1 = u.valToPos(Math.min(warmupEnd, u.scales.x.max), 'x', true);
      ctx.fillStyle = 'rgba(128,128,128,0.15)';
      ctx.fillRect(x0, top, x1 - x0, height);
    }
    strategies.forEach((s, i) => {
      ctx.fillStyle = color(s.index);
      // Ticks closer than 4 px apart would merge into a bar that reads as data: zoom in to see them.
      let last = -Infinity;
      for (const run of s.replacements) {
        if (run < u.scales.x.min || run > u.scales.x.max) continue;
        const x = u.valToPos(run, 'x', true);
        if (x - last < 4 * dpr) continue;
        last = x;
        ctx.fillRect(x - dpr / 2, top + i * 3 * dpr, dpr, 6 * dpr);
      }
      ctx.fillStyle = '#d92d20';
      for (const run of s.failed) {
        if (run < u.scales.x.min || run > u.scales.x.max) continue;
        const x = u.valToPos(run, 'x', true);
        ctx.fillRect(x - 1.5 * dpr, top + height - 8 * dpr, 3 * dpr, 8 * dpr);
      }
    });
    ctx.restore();
  }

  // Axis steps in whole binary units (1, 2, 4 … 512 B, KiB, MiB, GiB), so ticks read 256 KiB, not 244.1.
  const byteIncrs = [];
  for (let unit = 1; unit <= 2 ** 40; unit *= 1024) {
    for (let k = 1; k < 1024; k *= 2) byteIncrs.push(k * unit);
  }

  // Tick labels in one unit, with as many decimals as the step between ticks needs.
  function axisBytes(u, ticks, axis, space, incr) {
    const top = Math.max(...ticks.map(Math.abs), 1);
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (top >= 1024 ** (i + 1) && i < units.length - 1) i++;
    const step = (incr || top) / 1024 ** i;
    // The fewest decimals that write the step exactly (0.25 MiB needs two).
    let decimals = 0;
    while (i > 0 && decimals < 3 && Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-6) decimals++;
    return ticks.map((v) => (v / 1024 ** i).toFixed(decimals) + ' ' + units[i]);
  }

  // Run indices are whole numbers: 1, 2, 5, 10, 20, 50 …
  const runIncrs = [];
  for (let unit = 1; unit <= 1e9; unit *= 10) runIncrs.push(unit, 2 * unit, 5 * unit);

  const plots = [];
  function drawChart(container, key, title) {
    const present = data.strategies.filter((s) => s[key] && s[key].x.length > 0);
    if (present.length === 0) return 0;
    const box = element('div', 'chart');
    box.id = 'chart-' + key;
    box.appendChild(element('h3', null, title + ' after each run'));
    container.appendChild(box);
    const tables = present.map((s) => [s[key].x, s[key].y]);
    const aligned = tables.length > 1 ? uPlot.join(tables) : tables[0];
    const series = [{ label: 'run' }];
    present.forEach((s) => series.push({
      label: s.label, stroke: color(s.index), width: 1.5, spanGaps: true, dash: s.dashed ? [6, 4] : undefined,
      value: (u, v) => bytes(v), points: { show: false },
    }));
    const opts = {
      width: Math.max(320, container.clientWidth - 8), height: 300, series,
      scales: { x: { time: false } },
      axes: [{ label: 'run index', incrs: runIncrs }, { size: 90, incrs: byteIncrs, values: axisBytes }],
      legend: { live: true },
      hooks: { draw: [(u) => drawMarks(u, present)] },
    };
    const plot = new uPlot(opts, aligned, box);
    plots.push([plot, container]);
    let points = 0;
    present.forEach((s) => { points += s[key].x.length; });
    box.dataset.points = String(points);
    box.dataset.lines = String(present.length);
    return 1;
  }

  // An icicle of the suspects' growth per run, outermost frame on top, one per strategy.
  function drawFlame(container, flame) {
    const box = element('div');
    box.appendChild(element('h3', null, flame.label + ': growth per run by call stack (the workload\'s frames, outermost on top)'));
    const graph = element('div', 'flame');
    box.appendChild(graph);
    container.appendChild(box);
    const root = { name: 'all', value: 0, children: new Map() };
    for (const stack of flame.stacks) {
      root.value += stack.bytes_per_run;
      let node = root;
      for (const frame of stack.frames) {
        if (!node.children.has(frame)) node.children.set(frame, { name: frame, value: 0, children: new Map() });
        node = node.children.get(frame);
        node.value += stack.bytes_per_run;
      }
    }
    if (root.value <= 0) return 0;
    let cells = 0;
    const rows = [];
    function place(node, depth, left) {
      if (!rows[depth]) { rows[depth] = element('div', 'flame-row'); graph.appendChild(rows[depth]); }
      const cell = element('div', 'flame-cell' + (node.children.size === 0 ? ' own' : ''),
        node.name + ' ' + bytes(node.value) + '/run');
      cell.title = node.name + '\n' + bytes(node.value) + '/run (' +
        (100 * node.value / root.value).toFixed(1) + '%)';
      cell.style.left = (100 * left / root.value) + '%';
      cell.style.width = (100 * node.value / root.value) + '%';
      rows[depth].appendChild(cell);
      cells++;
      let offset = left;
      for (const child of [...node.children.values()].sort((a, b) => b.value - a.value)) {
        place(child, depth + 1, offset);
        offset += child.value;
      }
    }
    place(root, 0, 0);
    box.dataset.cells = String(cells);
    return 1;
  }

  let charts = 0;
  const chartBox = document.getElementById('charts');
  if (chartBox) {
    for (const [key, title] of [['rss', 'RSS'], ['heap', 'Live heap'], ['pss', 'PSS'], ['uss', 'USS']]) {
      charts += drawChart(chartBox, key, title);
    }
  }
  let flames = 0;
  const flameBox = document.getElementById('flame');
  if (flameBox) for (const f of data.flame || []) flames += drawFlame(flameBox, f);
  document.body.dataset.chartsDrawn = String(charts);
  document.body.dataset.flamesDrawn = String(flames);

  window.addEventListener('resize', () => {
    for (const [plot, container] of plots) plot.setSize({ width: Math.max(320, container.clientWidth - 8), height: 300 });
  });
})();
