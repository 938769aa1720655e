// A 2-D chart panel drawn by hand: SVG axes, titles, lines and markers, and a canvas for a loss surface's filled
// contours. It replaces Plotly.js in the figures that play runs, because drawing a panel anew is what a move with
// new data (noise, a dataset) waits for: Plotly.js took ~40 ms for the playground's three panels (over a trivial
// app's whole slider round trip, docs/performance.md), this takes a few. Only 3-D (the plane's data) still needs
// Plotly.js. Every number drawn comes from the payload; this file only maps them to pixels.

const PN_MARGIN = { l: 56, r: 14, t: 28, b: 42 };
const PN_COLORBAR = 64; // the colour bar's room on the right of a surface
// Plotly's YlGnBu (low = dark blue): the surfaces look as they did
const YLGNBU = [[0, [8, 29, 88]], [0.125, [37, 52, 148]], [0.25, [34, 94, 168]], [0.375, [29, 145, 192]],
  [0.5, [65, 182, 196]], [0.625, [127, 205, 187]], [0.75, [199, 233, 180]], [0.875, [237, 248, 217]],
  [1, [255, 255, 217]]];

function colorAt(scale, t) {
  const u = Math.min(1, Math.max(0, t));
  let i = 1;
  while (i < scale.length - 1 && scale[i][0] < u) i++;
  const [t0, c0] = scale[i - 1], [t1, c1] = scale[i], f = (u - t0) / (t1 - t0 || 1);
  return c0.map((c, j) => Math.round(c + f * (c1[j] - c)));
}

// ~n "nice" ticks (1, 2 or 5 times a power of ten) covering [lo, hi]
function niceTicks(lo, hi, n) {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return Number.isFinite(lo) ? [lo] : [];
  const raw = span / Math.max(n, 1), mag = 10 ** Math.floor(Math.log10(raw)), r = raw / mag;
  const step = (r >= Math.sqrt(50) ? 10 : r >= Math.sqrt(10) ? 5 : r >= Math.SQRT2 ? 2 : 1) * mag; // as d3 picks them
  const ticks = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

// ticks of a log axis whose range is in decades [lo, hi]: the decades (every k-th when there are many), and 2 and 5
// between them when there are few
function logTicks(lo, hi, n) {
  const decades = [], k = Math.max(1, Math.ceil((hi - lo) / Math.max(n, 1)));
  for (let e = Math.ceil(lo - 1e-9); e <= hi + 1e-9; e++) if (e % k === 0) decades.push(e);
  if (hi - lo > 2.5 && decades.length >= 2) return decades;
  const out = [];
  for (let e = Math.floor(lo) - 1; e <= Math.ceil(hi); e++) {
    for (const m of [1, 2, 5]) { const u = e + Math.log10(m); if (u >= lo - 1e-9 && u <= hi + 1e-9) out.push(u); }
  }
  return out;
}

// a tick's label: 0.001 to 99999 as plain numbers (on a log axis to 9999, so that its powers of ten read alike:
// 1000, 1e4, 1e6), others as 1e-5 or 2.5e6
function tickText(v, log = false) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-3 && a < (log ? 1e4 : 1e5)) return String(Number(v.toPrecision(6)));
  const [m, e] = v.toExponential().split("e");
  return `${Number(Number(m).toPrecision(3))}e${Number(e)}`;
}

// Marching squares: the segments of the level line z = c over a grid (z[i][j] at pixel X[j], Y[i]), as an SVG path.
// SEGMENTS[case]: the pairs of cell edges (0 bottom, 1 right, 2 top, 3 left) that the line joins.
const SEGMENTS = [[], [3, 0], [0, 1], [3, 1], [1, 2], [3, 2, 0, 1], [0, 2], [3, 2], [2, 3], [2, 0], [0, 3, 1, 2], [2, 1],
  [1, 3], [1, 0], [0, 3], []];

function contourPath(X, Y, z, c) {
  const out = [], r = (v) => Math.round(v * 10) / 10;
  for (let i = 0; i + 1 < Y.length; i++) {
    const za = z[i], zb = z[i + 1], y0 = Y[i], y1 = Y[i + 1];
    for (let j = 0; j + 1 < X.length; j++) {
      const z00 = za[j], z01 = za[j + 1], z10 = zb[j], z11 = zb[j + 1];
      const seg = SEGMENTS[(z00 > c) | ((z01 > c) << 1) | ((z11 > c) << 2) | ((z10 > c) << 3)];
      if (!seg.length) continue;
      const x0 = X[j], x1 = X[j + 1];
      const edge = (e) => {
        if (e === 0) return [x0 + ((c - z00) / (z01 - z00)) * (x1 - x0), y0];
        if (e === 1) return [x1, y0 + ((c - z01) / (z11 - z01)) * (y1 - y0)];
        if (e === 2) return [x0 + ((c - z10) / (z11 - z10)) * (x1 - x0), y1];
        return [x0, y0 + ((c - z00) / (z10 - z00)) * (y1 - y0)];
      };
      for (let k = 0; k < seg.length; k += 2) {
        const p = edge(seg[k]), q = edge(seg[k + 1]);
        out.push(`M${r(p[0])},${r(p[1])}L${r(q[0])},${r(q[1])}`);
      }
    }
  }
  return out.join("");
}

function starPath(cx, cy, r) {
  let d = "";
  for (let k = 0; k < 10; k++) {
    const rr = k % 2 ? r * 0.45 : r, t = -Math.PI / 2 + (k * Math.PI) / 5;
    d += `${k ? "L" : "M"}${(cx + rr * Math.cos(t)).toFixed(1)},${(cy + rr * Math.sin(t)).toFixed(1)}`;
  }
  return `${d}Z`;
}

class Panel {
  // el: the panel's element (its CSS gives the height). onTap(x, y): a click or tap in the plot area, in the axes'
  // units (none: the plot is not clickable). tapHint: what hovering the plot says after the coordinates. size:
  // [width, height] for a panel drawn off the page at a size of its own (RunPlayer.warmUp), which no resize redraws.
  constructor(el, { onTap = null, tapHint = "", size = null } = {}) {
    this.el = el;
    this.canvas = html("canvas", { class: "pn-canvas", "aria-hidden": "true" });
    this.svg = svg("svg", { class: "pn-svg", "aria-hidden": "true" });
    el.append(this.canvas, this.svg);
    this.spec = null;
    this.box = null;
    this.afterDraw = [];
    this.tapHint = tapHint;
    if (onTap) {
      this.svg.classList.add("pn-tappable");
      this.svg.addEventListener("click", (ev) => { const p = this.at(ev); if (p) onTap(p[0], p[1]); });
      this.svg.addEventListener("pointermove", (ev) => this.hover(ev));
      this.svg.addEventListener("pointerleave", () => { if (this.hint) this.hint.textContent = ""; });
    }
    // a new size (a phone turned, a window resized; CSS sets the height, so drawing never changes it) draws the panel
    // again, and the marks over it follow. The size is read here, after the browser's layout: read in draw(), it
    // would force a layout of the whole page first (2-4 ms a panel on a Streamlit page, three panels for new data).
    this.size = size; // [width, height] as the last layout left them
    this.drawn = [0, 0]; // the size it was drawn at
    if (size) return;
    new ResizeObserver(() => {
      const [W, H] = (this.size = [this.el.clientWidth, this.el.clientHeight]);
      if (this.spec && (W !== this.drawn[0] || H !== this.drawn[1])) requestAnimationFrame(() => this.draw(this.spec));
    }).observe(el);
  }

  // the point under a pointer event, in the axes' units (null outside the plot area)
  at(ev) {
    const b = this.box, r = this.svg.getBoundingClientRect();
    if (!b) return null;
    const x = ev.clientX - r.left - b.l, y = ev.clientY - r.top - b.t;
    if (x < 0 || y < 0 || x > b.w || y > b.h) return null;
    const u = b.xr[0] + (x / b.w) * (b.xr[1] - b.xr[0]), v = b.yr[0] + (1 - y / b.h) * (b.yr[1] - b.yr[0]);
    return [u, b.logy ? 10 ** v : v];
  }

  hover(ev) {
    const p = this.at(ev), s = this.spec;
    if (!this.hint || !s) return;
    this.hint.textContent = p ? `${s.x.title} ${fmt(p[0], 3)}, ${s.y.title} ${fmt(p[1], 3)}${this.tapHint}` : "";
  }

  px(x, y) { return boxPixel(this.box, x, y); }

  // spec: {title, x: {title, range}, y: {title, range (in decades when log), log, ticks: {tickvals, ticktext}},
  // heat: {a, b, z, title} (z rows along b; no title, no colour bar), series: [{type: "line" | "points" | "band", x,
  // y (a band: low, high, fill), color, width, dash, opacity, size, symbol ("star", "cross", "ring")}],
  // hline: {y, text}}
  draw(spec) {
    this.spec = spec;
    const [W, H] = this.size || [this.el.clientWidth, this.el.clientHeight];
    this.drawn = [W, H];
    const bar = spec.heat && spec.heat.title; // a colour bar (with its title) only when the surface has a title
    const m = { ...PN_MARGIN, r: PN_MARGIN.r + (bar ? PN_COLORBAR : 0) };
    const b = { l: m.l, t: m.t, w: Math.max(W - m.l - m.r, 10), h: Math.max(H - m.t - m.b, 10), width: W, height: H,
      xr: spec.x.range, yr: spec.y.range, logy: !!spec.y.log };
    this.box = b;
    const root = this.svg;
    root.setAttribute("width", W);
    root.setAttribute("height", H);
    root.replaceChildren();
    this.heat(spec.heat);
    const g = (cls) => root.appendChild(svg("g", { class: cls }));
    const axes = g("pn-axes"), plot = g("pn-plot");
    const clip = `pn-clip-${OVERLAY_ID}-${++overlays}`;
    root.appendChild(svg("defs")).appendChild(svg("clipPath", { id: clip }))
      .appendChild(svg("rect", { x: b.l, y: b.t, width: b.w, height: b.h }));
    plot.setAttribute("clip-path", `url(#${clip})`);
    this.axes(axes, spec);
    if (spec.heat) this.contours(plot, spec.heat);
    if (spec.hline) this.hline(plot, root, spec.hline);
    for (const s of spec.series || []) this.series(plot, s);
    // the plot area's frame, which also takes the pointer there (a tap on the surface)
    root.appendChild(svg("rect", { class: "pn-frame", x: b.l, y: b.t, width: b.w, height: b.h }));
    this.hint = root.appendChild(svg("text", { class: "pn-hint", x: b.l + b.w, y: H - 4, "text-anchor": "end" }));
    for (const fn of this.afterDraw) fn(b);
  }

  axes(g, spec) {
    const b = this.box, text = (attrs, t) => { const el = g.appendChild(svg("text", attrs)); el.textContent = t; return el; };
    if (!spec.heat) g.appendChild(svg("rect", { x: b.l, y: b.t, width: b.w, height: b.h, class: "pn-bg" }));
    const xt = niceTicks(b.xr[0], b.xr[1], Math.max(2, Math.round(b.w / 80)));
    // the y axis's own ticks when the payload names them (tickvals, and their labels), else round numbers
    const given = spec.y.ticks, labels = new Map();
    if (given) given.tickvals.forEach((v, i) => labels.set(b.logy ? Math.log10(v) : v, given.ticktext[i]));
    const yt = given ? Array.from(labels.keys()).filter((u) => u >= b.yr[0] && u <= b.yr[1])
      : b.logy ? logTicks(b.yr[0], b.yr[1], Math.max(2, Math.round(b.h / 40)))
        : niceTicks(b.yr[0], b.yr[1], Math.max(2, Math.round(b.h / 50)));
    let grid = "";
    for (const v of xt) {
      const x = this.px(v, b.logy ? 1 : 0)[0];
      grid += `M${x.toFixed(1)},${b.t}V${b.t + b.h}`;
      text({ x, y: b.t + b.h + 15, "text-anchor": "middle", class: "pn-tick pn-xtick" }, tickText(v));
    }
    for (const u of yt) {
      const y = b.t + b.h - ((u - b.yr[0]) / (b.yr[1] - b.yr[0])) * b.h;
      grid += `M${b.l},${y.toFixed(1)}H${b.l + b.w}`;
      text({ x: b.l - 5, y: y + 4, "text-anchor": "end", class: "pn-tick pn-ytick" }, labels.get(u) ?? (b.logy ? tickText(10 ** u, true) : tickText(u)));
    }
    if (!spec.heat) g.appendChild(svg("path", { d: grid, class: "pn-grid" }));
    text({ x: b.l, y: 17, class: "pn-title" }, spec.title || "");
    text({ x: b.l + b.w / 2, y: b.t + b.h + 34, "text-anchor": "middle", class: "pn-label pn-xtitle" }, spec.x.title || "");
    const yl = text({ x: 0, y: 0, "text-anchor": "middle", class: "pn-label pn-ytitle" }, spec.y.title || "");
    yl.setAttribute("transform", `translate(14,${b.t + b.h / 2}) rotate(-90)`);
  }

  // the surface's filled bands, on the canvas: z interpolated bilinearly at every pixel, coloured by its band
  heat(h) {
    const c = this.canvas, b = this.box;
    c.hidden = !h;
    if (!h) return;
    const { a, b: bb, z } = h, lo = Math.min(...z.map((r) => Math.min(...r))), hi = Math.max(...z.map((r) => Math.max(...r)));
    h.levels = niceTicks(lo, hi, 18);
    const step = h.levels.length > 1 ? h.levels[1] - h.levels[0] : 1;
    const W = Math.round(b.w), H = Math.round(b.h);
    c.width = W;
    c.height = H;
    Object.assign(c.style, { left: `${b.l}px`, top: `${b.t}px`, width: `${b.w}px`, height: `${b.h}px` });
    const ctx = c.getContext("2d"), img = ctx.createImageData(W, H), px = new Uint32Array(img.data.buffer);
    const na = a.length, nb = bb.length, bands = Math.ceil((hi - lo) / step) + 1;
    const band = (v) => colorAt(YLGNBU, ((Math.floor((v - lo) / step) + 0.5) * step) / (hi - lo || 1));
    const rgba = new Uint32Array(bands); // each band's colour as one little-endian RGBA word
    for (let k = 0; k < bands; k++) { const [r, g, bl] = band(lo + (k + 0.5) * step); rgba[k] = (255 << 24) | (bl << 16) | (g << 8) | r; }
    const frac = (v, arr, n) => { // the grid's index of v, fractional (the grid may be uneven)
      if (v <= arr[0]) return 0;
      if (v >= arr[n - 1]) return n - 1.000001;
      let i = 0;
      while (arr[i + 1] < v) i++;
      return i + (v - arr[i]) / (arr[i + 1] - arr[i]);
    };
    const cj = new Int32Array(W), cv = new Float64Array(W);
    for (let x = 0; x < W; x++) { const f = frac(b.xr[0] + ((x + 0.5) / W) * (b.xr[1] - b.xr[0]), a, na); cj[x] = Math.floor(f); cv[x] = f - cj[x]; }
    const inv = 1 / step;
    for (let y = 0; y < H; y++) {
      const fi = frac(b.yr[1] - ((y + 0.5) / H) * (b.yr[1] - b.yr[0]), bb, nb), i = Math.floor(fi), u = fi - i;
      const r0 = z[i], r1 = z[Math.min(i + 1, nb - 1)], row = y * W;
      for (let x = 0; x < W; x++) {
        const j = cj[x], v = cv[x], j1 = j + 1 < na ? j + 1 : j;
        const zz = (1 - u) * ((1 - v) * r0[j] + v * r0[j1]) + u * ((1 - v) * r1[j] + v * r1[j1]);
        const k = Math.floor((zz - lo) * inv);
        px[row + x] = rgba[k < 0 ? 0 : k >= bands ? bands - 1 : k];
      }
    }
    ctx.putImageData(img, 0, 0);
    if (!h.title) return;
    // the colour bar: the bands and their values
    const g = this.svg.appendChild(svg("g", { class: "pn-colorbar" })), x = b.l + b.w + 12, bw = 10;
    for (let k = 0; k * step + lo < hi; k++) {
      const v0 = lo + k * step, v1 = Math.min(hi, v0 + step);
      const y0 = b.t + b.h - ((v1 - lo) / (hi - lo || 1)) * b.h, y1 = b.t + b.h - ((v0 - lo) / (hi - lo || 1)) * b.h;
      g.appendChild(svg("rect", { x, y: y0, width: bw, height: Math.max(y1 - y0, 0.5), fill: `rgb(${band(v0 + step / 2)})` }));
    }
    for (const v of niceTicks(lo, hi, Math.max(2, Math.round(b.h / 45)))) {
      const y = b.t + b.h - ((v - lo) / (hi - lo || 1)) * b.h;
      g.appendChild(svg("text", { x: x + bw + 4, y: y + 4, class: "pn-tick" })).textContent = tickText(v);
    }
    const t = g.appendChild(svg("text", { class: "pn-label", "text-anchor": "middle",
      transform: `translate(${x + bw + 44},${b.t + b.h / 2}) rotate(90)` }));
    t.textContent = h.title;
  }

  contours(g, h) {
    const X = h.a.map((x) => this.px(x, 1)[0]), Y = h.b.map((y) => this.px(h.a[0], y)[1]);
    let d = "";
    for (const c of h.levels) d += contourPath(X, Y, h.z, c);
    g.appendChild(svg("path", { d, class: "pn-contour" }));
  }

  hline(g, root, { y, text }) {
    const b = this.box, u = b.logy ? Math.log10(y) : y;
    if (!(u >= b.yr[0] && u <= b.yr[1])) return;
    const py = this.px(b.xr[0], y)[1];
    g.appendChild(svg("path", { d: `M${b.l},${py.toFixed(1)}H${b.l + b.w}`, class: "pn-hline" }));
    if (text) root.appendChild(svg("text", { x: b.l + b.w - 4, y: py - 4, "text-anchor": "end", class: "pn-note" })).textContent = text;
  }

  series(g, s) {
    const xs = s.x, ys = s.y, ok = (x, y) => Number.isFinite(x) && Number.isFinite(y) && (!this.box.logy || y > 0);
    if (s.type === "line") {
      const pts = [];
      for (let i = 0; i < xs.length; i++) if (ok(xs[i], ys[i])) pts.push(this.px(xs[i], ys[i]).map((v) => v.toFixed(1)).join(","));
      g.appendChild(svg("polyline", { points: pts.join(" "), fill: "none", stroke: s.color, "stroke-width": s.width || 2,
        "stroke-dasharray": s.dash || "none", opacity: s.opacity ?? 1, "stroke-linejoin": "round", class: s.class || "" }));
      return;
    }
    if (s.type === "band") { // the area between two curves over the same x
      const pts = [];
      for (let i = 0; i < xs.length; i++) if (ok(xs[i], s.low[i])) pts.push(this.px(xs[i], s.low[i]));
      for (let i = xs.length - 1; i >= 0; i--) if (ok(xs[i], s.high[i])) pts.push(this.px(xs[i], s.high[i]));
      g.appendChild(svg("polygon", { points: pts.map((q) => q.map((v) => v.toFixed(1)).join(",")).join(" "), fill: s.fill,
        stroke: "none" }));
      return;
    }
    const r = (s.size || 7) / 2;
    let d = "";
    for (let i = 0; i < xs.length; i++) {
      if (!ok(xs[i], ys[i])) continue;
      const [x, y] = this.px(xs[i], ys[i]);
      if (s.symbol === "star") d += starPath(x, y, r);
      else if (s.symbol === "cross") d += `M${(x - r).toFixed(1)},${(y - r).toFixed(1)}l${2 * r},${2 * r}m0,${-2 * r}l${-2 * r},${2 * r}`;
      else d += `M${(x - r).toFixed(1)},${y.toFixed(1)}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0`;
    }
    const stroke = s.symbol === "cross" || s.symbol === "ring" ? { stroke: s.color, "stroke-width": s.symbol === "ring" ? 3 : 2, fill: "none" }
      : s.symbol === "star" ? { fill: s.fill || "white", stroke: s.color, "stroke-width": 1.5 }
        : { fill: s.color, stroke: "white", "stroke-width": 0.5 };
    g.appendChild(svg("path", { d, ...stroke, opacity: s.opacity ?? 1, class: s.class || "pn-points" }));
  }
}
