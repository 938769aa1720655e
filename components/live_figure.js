// The playground's live figure: plays runs the engine computed, in the browser (components/live_figure.py).
//
// Three panels (the data with the model, the loss surface with the path and two arrows, the loss per step; drawn by
// panel.js, the plane's data by Plotly.js in 3-D), a Play/Pause button, a step scrubber, a speed choice, and the
// learning-rate, momentum, epochs and noise sliders.
// The first two pick runs out of the two ladders shipped with the data, and fewer epochs are the first steps of the
// same runs (full batch), so a move redraws at once; when a slider comes to rest its value goes back to Python (a
// trigger), and the page catches up without this figure being rebuilt. A noise level (new data) or more epochs than
// shipped is a new run: the figure fetches its payload from the server's route (components/live_route.py) and plays it
// as soon as it comes, without a rerun of the page, which catches up when the slider comes to rest. The sidebar's
// sliders of the same four settings move the figure the same way, as soon as the learner moves them (followSidebar),
// while the page reruns. A tap on the loss surface sends the point back as the new start. Every number drawn was
// computed in Python.

const COLORS = { data: "#4C6A92", model: "#0F766E", optimum: "#1F2933", path: "#E4572E", now: "#C2185B",
  start: "#F2A541", grad: "#2E86AB", mom: "#8E44AD", loss: "#0F766E" };
const SLIDERS = ["lr", "momentum", "epochs", "noise"];
const KEPT = 6; // runs kept in the browser to go back to (keep), each ~0.2-0.7 MB of JSON
const AHEAD_MS = 120; // an option of the sidebar's dataset or method box the learner rests on this long is fetched

// The plane's 3-D scene is the one panel Plotly.js draws: the plotly Python package's own copy, served by Streamlit
// (components/assets.py), loaded the first time a plane is shown.
const PLOTLY_SRC = "app/static/plotly.min.js";
const PLANE_CONFIG = { displayModeBar: false, responsive: true, scrollZoom: false };
const PLANE_LAYOUT = { margin: { l: 0, r: 0, t: 30, b: 0 }, showlegend: false, paper_bgcolor: "rgba(0,0,0,0)",
  font: { size: 12 }, title: { text: "Data and fitted plane", font: { size: 13 } } };

function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__liveFigurePlotly) {
    window.__liveFigurePlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL(PLOTLY_SRC, document.baseURI).href;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { window.__liveFigurePlotly = null; reject(new Error("plotly.js did not load")); };
      document.head.appendChild(script);
    });
  }
  return window.__liveFigurePlotly;
}

// Plotly renders a few HTML tags in titles and hover text; names come from learners' files: shown as typed.
const esc = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

// The DOM, built once per mount and kept on the parent element across reruns.
function buildDom(parent) {
  const { sliders, row } = sliderBoxes(SLIDERS);
  const arrows = html("input", { type: "checkbox", class: "lf-arrows" });
  arrows.checked = true;
  const { play, step, speed, bar } = playBar([html("label", { class: "lf-arrowlabel" }, [arrows, html("span", { text: "Arrows" })])]);
  const readout = html("div", { class: "lf-readout", "aria-live": "off" });
  const summary = html("p", { class: "lf-summary", "aria-live": "polite" });
  const note = html("p", { class: "lf-note" });
  const plane = html("div", { class: "lf-plane" }); // the plane's 3-D scene (Plotly.js), over the data panel
  const panels = { data: html("div", { class: "lf-panel lf-data" }, [plane]), surface: html("div", { class: "lf-panel lf-surface" }),
    loss: html("div", { class: "lf-panel lf-loss" }) };
  const figure = html("div", { class: "lf-panels", role: "img" }, [panels.data, panels.surface, panels.loss]);
  const root = html("div", { class: "lf-root" }, [row, note, summary, bar, readout, figure]);
  parent.appendChild(root);
  return { root, sliders, play, step, speed, arrows, readout, summary, note, panels, plane, figure };
}

// One run's arrays, unpacked from a ladder (or the page's own run), for frame-by-frame drawing.
function runOf(block, j) {
  const P = block.params, L = block.loss, G = block.grad, M = block.mom;
  const [, F, p] = P.shape, a = G.shape[2];
  const params = [], loss = [], grad = [], mom = [];
  for (let f = 0; f < F; f++) {
    params.push(Array.from(P.a.subarray((j * F + f) * p, (j * F + f + 1) * p)));
    loss.push(L.a[j * F + f]);
    grad.push(Array.from(G.a.subarray((j * F + f) * a, (j * F + f + 1) * a)));
    mom.push(Array.from(M.a.subarray((j * F + f) * a, (j * F + f + 1) * a)));
  }
  return { params, loss, grad, mom };
}

// the four settings of the figure's sliders, of a run (data.own) or of the selection
const settingsOf = (o) => ({ lr: o.lr, momentum: o.momentum, epochs: o.epochs, noise: o.noise });

// a block's arrays unpacked; a ladder in the first part of a route's answer has its losses only (live_route.py)
function unpackBlock(b) {
  const out = {};
  for (const key of ["params", "loss", "grad", "mom"]) if (b[key]) out[key] = unpack(b[key]);
  return out;
}

const CHOICES = ["dataset", "method"]; // the sidebar's select boxes it follows (followSidebar)

class LiveFigure extends RunPlayer {
  constructor(parent) {
    super(buildDom(parent));
    this.dom.arrows.addEventListener("change", () => this.show(this.k));
    this.runs = new RouteRuns(this, KEPT);
    this.extra = {}; // the sidebar's dataset or method, picked and not yet in the data (follow)
    followSidebar(this, SLIDERS, CHOICES);
    // the figure's own noise slider, about to move: the levels next to the one on screen are fetched ahead
    const noise = this.dom.sliders.noise.input;
    onIntent(this.dom.root, (el) => (el.closest && el.closest('.lf-slider[data-key="noise"]') ? noise : null),
      () => this.noiseAhead());
  }

  // the noise levels either side of the one on screen, fetched ahead
  noiseAhead() {
    const s = this.dom.sliders.noise;
    if (!this.data || s.input.disabled || s.box.hidden) return; // locked or hidden: it cannot move
    const levels = this.choices("noise"), i = levels.indexOf(this.sel.noise);
    for (const level of [levels[i - 1], levels[i + 1]]) if (i >= 0 && level !== undefined) this.prefetchAt("noise", level);
  }

  frameCount() { return this.Fend; }

  ladderOf(ladder) { return { ...ladder, ...unpackBlock(ladder) }; }

  ownOf(own) { return runOf(unpackBlock(own), 0); }

  // New data from Python: keep what is on screen when the page only caught up with this figure, else start over.
  // (Data the figure fetched itself comes through here too, with fromPage false.)
  update(data, setTrigger, fromPage = true) {
    this.setTrigger = setTrigger;
    if (fromPage) this.pageOwn = { ...data.own };
    const has = (d, key) => (key in d.own ? d.own[key] : d.query[key]);
    if (fromPage && this.pending && this.outrun(has(data, this.pending.key))) return; // an older rerun
    const fresh = !this.data || data.surface.a.bdata !== this.data.surface.a.bdata ||
      data.data.y.bdata !== this.data.data.y.bdata || data.frames.length !== this.data.frames.length ||
      data.own.lr !== this.data.own.lr || data.own.momentum !== this.data.own.momentum ||
      data.own.params.bdata !== this.data.own.params.bdata;
    // the page caught up with a slider of this figure (or the sidebar's) whose run the figure shows already; one it
    // did not hold yet (more epochs than were shipped, new data still on its way) is played anew
    const caughtUp = fromPage && this.pending && has(data, this.pending.key) === this.pending.value && this.held();
    const shownStep = this.data ? this.data.frames[Math.min(this.k, this.data.frames.length - 1)] : 0;
    this.data = data;
    this.dom.root.dataset.query = this.runQuery(settingsOf(data.own)); // the run it holds
    this.keep(data);
    for (const key of Object.keys(this.extra)) { // in the data now, or the page says otherwise
      if (data.query[key] === this.extra[key] || (fromPage && !(this.pending && this.pending.key === key))) delete this.extra[key];
    }
    this.F = data.frames.length;
    this.own = this.ownOf(data.own);
    this.ladders = {};
    for (const [key, ladder] of Object.entries(data.ladders)) this.ladders[key] = this.ladderOf(ladder);
    this.sel = { lr: data.own.lr, momentum: data.own.momentum, epochs: data.own.epochs, noise: data.own.noise };
    this.configureSliders();
    const resume = this.interrupted;
    this.interrupted = false;
    if (caughtUp || (!fresh && this.plotted)) { // the page caught up with what is on screen: no replay
      if (fromPage) this.pending = null;
      let k = 0; // the same step as before (new data may sample other steps)
      while (k + 1 < this.F && data.frames[k + 1] <= shownStep) k++;
      this.k = k;
      this.selectRun(false, resume);
      return;
    }
    if (fromPage) this.pending = null;
    this.selectRun(true);
  }

  // a slider's values: a ladder's, the epochs the figure offers, or the noise levels where the figure may fetch
  // their runs (none: no slider)
  choices(key) {
    if (key === "epochs") return this.data.epochs || [];
    if (key === "noise") return this.data.fetch ? this.data.noise : [];
    return this.ladders[key] ? this.ladders[key].values : [];
  }

  // what the page holds now (a figure's own move is not the page's until the page caught up)
  pageValue(key) { return this.pageOwn[key]; }

  configureSliders() {
    const d = this.dom, data = this.data;
    const hasLadders = Object.keys(this.ladders).length > 0;
    for (const key of SLIDERS) {
      const s = d.sliders[key], values = this.choices(key), state = data.controls[key] || "free";
      s.label.textContent = data.labels[key];
      s.input.setAttribute("aria-label", data.labels[key]);
      s.box.hidden = !values.length || state === "hidden";
      if (!values.length) continue;
      s.input.max = String(values.length - 1);
      s.input.value = String(this.ladders[key] ? this.ladders[key].current : values.indexOf(data.own[key]));
      s.input.disabled = state === "locked";
      s.box.classList.toggle("lf-locked", state === "locked");
    }
    d.note.textContent = hasLadders ? "" : data.labels.no_ladder || "";
    d.note.hidden = hasLadders;
    d.step.max = String(this.F - 1);
  }

  // A slider moved: show that run at once, replaying it from its start.
  pick(key, index) {
    if (key === "noise") {
      this.sel.noise = this.choices("noise")[index];
      const s = this.dom.sliders.noise;
      s.output.textContent = fmt(this.sel.noise, 3);
      s.input.setAttribute("aria-valuetext", fmt(this.sel.noise, 3));
      const before = this.choices("noise").indexOf(this.data.own.noise);
      this.noiseStep = index > before ? 1 : index < before ? -1 : 0; // which way the learner is going
      this.fetchRun();
      return;
    }
    if (key === "epochs") {
      this.sel.epochs = this.choices("epochs")[index];
      this.selectRun(true);
      this.noiseStep = 0; // the learner is on the epochs now: no noise level is fetched ahead
      this.fetchRun(); // more than shipped: the longer run
      return;
    }
    const ladder = this.ladders[key];
    if (!ladder) return;
    this.sel[key] = ladder.values[index];
    const other = key === "lr" ? "momentum" : "lr";
    this.sel[other] = this.data.own[other]; // the ladders cross at the page's run
    this.dom.sliders[other].input.value = String(this.ladders[other] ? this.ladders[other].current : 0);
    this.selectRun(true);
  }

  // The sidebar's slider of `key` shows `value` (the learner moved it, or the page's rerun moved it there): the figure
  // shows that run at once, as if its own slider had moved, and expects the page to catch up with it (the sidebar's
  // slider tells the page itself). A value the figure's data does not hold is fetched from the route.
  follow(key, value) {
    if (!this.data || !this.plotted) return;
    if (CHOICES.includes(key)) { // another dataset or method: a run to fetch
      if (value === (this.extra[key] ?? this.data.query[key])) return;
      this.extra[key] = value;
      this.pending = { key, value, at: performance.now() };
      const [label] = Object.entries(this.data.choices[key]).find(([, v]) => v === value);
      this.dom.summary.textContent = `${label}: computing this run…`;
      this.fetchRun();
      return;
    }
    if (value === this.sel[key]) return;
    const values = this.choices(key), j = indexNear(values, value);
    const picked = j >= 0 ? values[j] : value;
    if (picked === this.sel[key]) return;
    // the page's rerun brings it: a setting this figure has no slider for here, or a learner's own data (the route
    // does not compute it)
    const fetched = ["lr", "momentum"].includes(key) && this.data.fetch && this.data.query.dataset !== "custom";
    if (j < 0 && !fetched) return;
    this.pending = { key, value: picked, at: performance.now() };
    if (j >= 0) {
      this.dom.sliders[key].input.value = String(j);
      this.pick(key, j);
      return;
    }
    this.sel[key] = picked;
    this.sel[key === "lr" ? "momentum" : "lr"] = this.data.own[key === "lr" ? "momentum" : "lr"];
    this.dom.summary.textContent = `${this.data.labels[key]} ${fmt(picked, 3)}: computing this run…`;
    this.fetchRun();
  }

  // Whether the data the figure holds has the run its selection asks for: the page's own, one of a ladder's (the
  // two ladders cross at the page's run), or the first steps of one of those. Not: another noise level (new data),
  // more epochs than shipped, or a learning rate or momentum off the ladders (a sidebar's move: followSidebar).
  held() {
    const sel = this.sel, own = this.data.own;
    if (sel.noise !== own.noise || sel.epochs > own.epochs) return false;
    if (Object.entries(this.extra).some(([key, value]) => this.data.query[key] !== value)) return false;
    const off = ["lr", "momentum"].filter((key) => sel[key] !== own[key]);
    return !off.length || (off.length === 1 && this.choices(off[0]).includes(sel[off[0]]));
  }

  // The values of a sidebar slider the figure knows (followSidebar reads a step from its key): the noise levels.
  sliderValues(key) { return key === "noise" ? this.choices("noise") : null; }

  // The run at a sidebar slider's value, fetched ahead (followSidebar: the learner rests on that slider).
  prefetchAt(key, value) {
    if (key === "noise" && this.data.fetch && this.data.query.dataset !== "custom") this.runs.prefetch(this.queryFor(value));
  }

  // What the figure's selection needs from the server (the query for its run), or null when the data it holds has it.
  wanted() {
    return !this.data.fetch || this.held() ? null : this.queryFor(this.sel.noise);
  }

  // the route's query for the run at the figure's selection and this noise level
  queryFor(noise) {
    return this.runQuery({ ...this.extra, ...settingsOf(this.sel), noise });
  }

  // the route's query for a run: the page's, with these settings changed
  runQuery(changes) {
    return new URLSearchParams({ ...this.data.query, ...changes }).toString();
  }

  // The last KEPT runs the figure held (the page's or fetched), by their query: a learner going back to a noise level
  // (or a learning rate off the ladders) they just left gets it at once, with no request.
  keep(data) {
    if (data.query && data.fetch) this.runs.keep(this.dom.root.dataset.query, data);
  }

  // After the figure drew a noise level the learner moved to, the next level the same way is fetched in the
  // background (one run: the server caches it too), so stepping through the levels (arrow keys, a slow drag) draws
  // at once. Nothing is fetched ahead for a learner who has not moved the figure's noise slider.
  fetchAhead() {
    const levels = this.choices("noise"), next = levels[levels.indexOf(this.sel.noise) + (this.noiseStep || 0)];
    if (!this.noiseStep || next === undefined) return;
    this.runs.prefetch(this.queryFor(next));
  }

  // The option of the sidebar's dataset or method box the learner is on (the keys or the pointer), before they pick
  // it: once it has stayed there AHEAD_MS (a pointer passing over options asks for none), its run is fetched ahead,
  // so that the pick draws at once.
  aheadChoice(key, value) {
    clearTimeout(this.aheadTimer);
    if (!this.data || !this.data.fetch || value === (this.extra[key] ?? this.data.query[key])) return;
    this.aheadTimer = setTimeout(() => {
      this.runs.prefetch(this.runQuery({ ...this.extra, [key]: value, ...settingsOf(this.sel) }));
    }, AHEAD_MS);
  }

  // The run for the figure's selection, from the server's route (RouteRuns: kept, fetched ahead or asked for now).
  fetchRun() { this.runs.run(); }

  fetched(body) {
    const d = this.data;
    this.dom.note.hidden = true;
    // what belongs to the page (a teacher's link, the route, the sidebar's labels) stays the page's
    this.update({ ...body, controls: d.controls, fetch: d.fetch, choices: d.choices }, this.setTrigger, false);
    afterFrame().then(() => this.fetchAhead()); // the server's work for it waits for the picture
  }

  unfetched(err) {
    this.dom.note.hidden = false;
    // a sidebar control's move (followed: pending, with its time) reruns the page at once; the figure's own slider
    // only once it rests
    const when = this.pending && this.pending.at ? "as it reruns" : "when the slider comes to rest";
    this.dom.note.textContent = `This run could not be fetched (${err.message}); the page computes it ${when}.`;
  }

  // The summary for the picked epochs: the run's own words for all of them; for fewer, the loss where they end
  // (every number from the shipped run); for more, that the server is computing it.
  epochsLabel(picked) {
    const epochs = this.sel.epochs, own = this.data.own.epochs;
    if (epochs === own || !this.choices("epochs").length) return picked.label;
    const lead = `Learning rate ${fmt(picked.lr, 3)}, momentum ${fmt(picked.momentum, 3)}, ${epochs} epochs`;
    if (epochs > own) return `${lead}: computing the longer run (the figure shows its first ${own})…`;
    const end = this.Fend - 1, steps = this.data.frames[end];
    if (this.last < end) return `${lead}: blew up by step ${this.data.frames[this.last + 1]}`;
    return `${lead}: loss ${fmt(this.run.loss[end])} after ${steps} step${steps === 1 ? "" : "s"}`;
  }

  // The run for the selected (lr, momentum): the page's own, or one of a ladder; the page's own meanwhile when the
  // selection is a run the figure is fetching (held() is false), or one whose steps are on their way (completed).
  currentRun() {
    const { lr, momentum } = this.sel, own = this.data.own;
    const key = lr !== own.lr ? "lr" : momentum !== own.momentum ? "momentum" : null;
    const j = key && this.ladders[key] ? this.ladders[key].values.indexOf(this.sel[key]) : -1;
    const other = key === "lr" ? "momentum" : "lr";
    const steps = j >= 0 && this.ladders[key].params; // not yet, in the first part of a route's answer
    if (!steps || this.sel[other] !== own[other]) return { run: this.own, label: own.label, lr: own.lr, momentum: own.momentum };
    const ladder = this.ladders[key], name = this.data.labels[key];
    return { run: runOf(ladder, j), label: `${name} ${ladder.labels[j]}`, lr, momentum };
  }

  // How many frames the picked number of epochs shows: its first steps (its own last step is a frame), or all
  // of them while the page computes a longer run.
  framesFor(epochs) {
    const own = this.data.own.epochs, frames = this.data.frames;
    if (!(epochs < own)) return this.F;
    const end = epochs * this.data.steps_per_epoch;
    let n = 0;
    while (n < this.F && frames[n] <= end) n++;
    return n;
  }

  selectRun(replay, resume = false) {
    const picked = this.currentRun();
    this.run = picked.run;
    this.Fend = this.framesFor(this.sel.epochs);
    // a run that blew up plays to its last finite frame and rests there
    const ok = (f) => this.run.params[f].every(Number.isFinite) && Number.isFinite(this.run.loss[f]);
    this.last = 0;
    while (this.last + 1 < this.Fend && ok(this.last + 1)) this.last++;
    this.label = this.epochsLabel(picked);
    const d = this.dom;
    for (const key of SLIDERS) {
      const values = this.choices(key);
      if (!values.length) continue;
      const j = values.indexOf(this.sel[key]);
      const words = key === "epochs" ? `${this.sel.epochs} epochs` : this.ladders[key] ? this.ladders[key].labels[j] : "";
      d.sliders[key].output.textContent = fmt(this.sel[key], 3);
      d.sliders[key].input.setAttribute("aria-valuetext", words || fmt(this.sel[key], 3));
    }
    d.step.max = String(this.Fend - 1);
    d.summary.textContent = this.label;
    d.figure.setAttribute("aria-label", `Training figure. ${this.label}`);
    this.plot().then(() => {
      if (replay) this.play(true);
      else {
        this.show(Math.min(this.k, this.Fend - 1));
        if (resume) this.play(false);
      }
    });
  }

  // ------------------------------------------------------------------------------------------------- drawing
  // The panels are drawn anew only when what they show changes (the surface, the data, the steps the loss axis
  // spans); a run picked by a slider, or a frame, only moves the marks over them.
  plot() {
    const key = `${this.data.surface.a.bdata}|${this.data.data.y.bdata}|${this.data.kind}|${this.data.frames[this.F - 1]}`;
    const drawn = this.panelsFor(key);
    return drawn && this.data.kind === "plane" ? this.drawPlane().catch((err) => this.failed(err)) : Promise.resolve();
  }

  failed(err) { this.dom.note.hidden = false; this.dom.note.textContent = `The figure cannot be drawn: ${err.message}`; }

  // the three panels (the plane's data panel: its 2-D panel stays empty under the 3-D scene, drawPlane)
  drawPanels() {
    const data = this.data, s = data.surface, d = this.dom.panels;
    if (!this.panels) this.makePanels();
    const P = this.panels;
    // the data and the model
    const x = Array.from(unpack(data.data.x).a), y = Array.from(unpack(data.data.y).a);
    this.xs = [Math.min(...x), Math.max(...x)];
    // one point (or one value of x): half its size either side, so the line's slope can be seen
    const pad = this.xs[1] > this.xs[0] ? 0.05 * (this.xs[1] - this.xs[0]) : 0.5 * Math.max(Math.abs(this.xs[0]), 1);
    this.xs = [this.xs[0] - pad, this.xs[1] + pad];
    const plane = data.kind === "plane";
    d.data.classList.toggle("lf-3d-on", plane);
    if (plane) P.data.spec = null;
    else {
      const ys = y.concat(this.line(data.optimum), this.line(this.run.params[0]).filter(Number.isFinite));
      const lo = Math.min(...ys), hi = Math.max(...ys), span = hi - lo || 1;
      P.data.draw({ title: "Data and fitted line", x: { title: data.features[0], range: this.xs },
        y: { title: data.target, range: [lo - 0.25 * span, hi + 0.25 * span] },
        series: [{ type: "points", x, y, color: COLORS.data, size: 7, class: "lf-points" },
          { type: "line", x: this.xs, y: this.line(data.optimum), color: COLORS.optimum, dash: "6 4", width: 1.5 }] });
    }
    // the loss surface (or curve) and the path
    if (s.kind === "curve") {
      const { a, z } = surfaceCurve(s);
      P.surface.draw({ title: "Loss curve and path (tap to start there)", x: { title: s.axes[0], range: [a[0], a[a.length - 1]] },
        y: { title: "loss", range: [0, 1.05 * Math.max(...z)] },
        series: [{ type: "line", x: a, y: z, color: COLORS.loss, width: 2 },
          { type: "points", symbol: "star", x: s.optimum, y: [s.min_loss], color: COLORS.optimum, size: 16 }] });
    } else {
      const { a, b, z, fixed } = surfaceGrid(s);
      P.surface.draw({ title: `Loss surface and path${fixed} · tap to start there`,
        x: { title: s.axes[0], range: [a[0], a[a.length - 1]] }, y: { title: s.axes[1], range: [b[0], b[b.length - 1]] },
        heat: { a, b, z, title: "log10 loss" },
        series: [{ type: "points", symbol: "star", x: [s.optimum[0]], y: [s.optimum[1]], color: COLORS.optimum, size: 16 }] });
    }
    // the loss per step
    P.loss.draw({ title: "Loss (mean squared error) per step", x: { title: "step", range: [0, data.frames[this.F - 1] || 1] },
      y: { title: "loss", log: true, range: this.lossRange() },
      // the best possible loss, where the curve flattens (none to draw on a log axis when the fit is exact)
      hline: data.min_loss > 0 ? { y: data.min_loss, text: "best possible loss" } : null });
  }

  makePanels() {
    const d = this.dom.panels, line = (color, width, opacity = 1) => ["polyline",
      { fill: "none", stroke: color, "stroke-width": width, opacity, "stroke-linejoin": "round" }];
    this.panels = {
      data: new Panel(d.data),
      surface: new Panel(d.surface, { onTap: (x, y) => this.tapStart(x, y), tapHint: " · tap: start here" }),
      loss: new Panel(d.loss),
    };
    this.overlays = {
      surface: new Overlay(d.surface, {
        whole: line(COLORS.path, 1.5, 0.35),
        sofar: line(COLORS.path, 2.5),
        grad: ["line", { stroke: COLORS.grad, "stroke-width": 2.5 }],
        mom: ["line", { stroke: COLORS.mom, "stroke-width": 2.5 }],
        start: ["circle", { r: 6, fill: "none", stroke: COLORS.start, "stroke-width": 3 }],
        now: ["circle", { r: 6, fill: COLORS.now, stroke: "white", "stroke-width": 1.5 }],
      }, { grad: COLORS.grad, mom: COLORS.mom }),
      loss: new Overlay(d.loss, {
        whole: line(COLORS.loss, 1.5, 0.3),
        sofar: line(COLORS.loss, 2.5),
        now: ["circle", { r: 5.5, fill: COLORS.now }],
      }),
      data: new Overlay(d.data, { model: line(COLORS.model, 3) }),
    };
    // after each draw (new data, or a new width) the marks follow the axes
    for (const name of ["surface", "loss", "data"]) {
      this.panels[name].afterDraw.push((box) => {
        this.overlays[name].fit(this.panels[name].spec ? box : null);
        this.wholeRun();
        if (this.run) this.marks(this.k);
      });
    }
  }

  // the plane's data panel: a Plotly.js 3-D scene (loaded the first time a plane is shown)
  drawPlane() {
    const data = this.data, host = this.dom.plane;
    this.overlays.data.fit(null);
    return loadPlotly().then((Plotly) => {
      this.Plotly = Plotly;
      const x = Array.from(unpack(data.data.x).a), y = Array.from(unpack(data.data.y).a);
      const x2 = Array.from(unpack(data.data.x2).a);
      this.x2s = [Math.min(...x2), Math.max(...x2)];
      const traces = [
        { type: "scatter3d", mode: "markers", x, y: x2, z: y, marker: { size: 3, color: COLORS.data }, name: "data" },
        { type: "surface", x: this.xs, y: this.x2s, z: this.plane(data.optimum), opacity: 0.25, showscale: false,
          colorscale: [[0, "#9aa5b1"], [1, "#9aa5b1"]], name: "least squares", hoverinfo: "skip" },
        { type: "surface", x: this.xs, y: this.x2s, z: this.plane(this.run.params[Math.min(this.k, this.last)]), opacity: 0.6,
          showscale: false, colorscale: [[0, COLORS.model], [1, COLORS.model]], name: "model now", hoverinfo: "skip" },
      ];
      const layout = { ...PLANE_LAYOUT, scene: { xaxis: { title: { text: esc(data.features[0]) } }, yaxis: { title: { text: esc(data.features[1]) } },
          zaxis: { title: { text: esc(data.target) } } } };
      return Plotly.react(host, traces, layout, PLANE_CONFIG);
    });
  }

  // the loss axis covers every run the sliders can show that comes down (another one blowing up leaves through the
  // top)
  lossRange() {
    const runs = [this.own.loss];
    for (const ladder of Object.values(this.ladders)) {
      const [K, F] = ladder.loss.shape;
      for (let j = 0; j < K; j++) runs.push(Array.from(ladder.loss.a.subarray(j * F, (j + 1) * F)));
    }
    // and the page's own run in any case: one that blows up shows its climb (on a log axis the others still show)
    const finite = this.own.loss.filter((v) => Number.isFinite(v) && v > 0);
    for (const loss of runs) {
      if (loss.every(Number.isFinite) && loss[loss.length - 1] <= loss[0]) finite.push(...loss.filter((v) => v > 0));
    }
    if (this.data.min_loss > 0) finite.push(this.data.min_loss);
    const lo = Math.log10(Math.max(Math.min(...finite), 1e-30)), hi = Math.log10(Math.max(...finite));
    const span = Math.max(hi - lo, 0.5);
    return [lo - 0.08 * span, hi + 0.08 * span];
  }

  // the path over the surface's axes (the loss curve's: w against the loss) up to frame k
  pathXY(k) {
    const cols = this.data.surface.columns, x = [], y = [];
    for (let f = 0; f <= k; f++) {
      const p = this.run.params[f];
      if (!p.every(Number.isFinite)) break;
      x.push(p[cols[0]]);
      y.push(this.data.surface.kind === "curve" ? this.run.loss[f] : p[cols[1]]);
    }
    return { x, y };
  }

  // the picked run's whole path and loss curve, faint, and its start
  wholeRun() {
    if (!this.overlays || !this.run) return;
    const end = this.Fend, whole = this.pathXY(end - 1), o = this.overlays;
    o.surface.line("whole", whole.x, whole.y);
    o.surface.dot("start", whole.x[0], whole.y[0]);
    o.loss.line("whole", this.data.frames.slice(0, end), this.run.loss.slice(0, end));
  }

  line(p) { const b = this.data.fit_bias ? p[p.length - 1] : 0; return this.xs.map((x) => p[0] * x + b); }

  plane(p) {
    const b = this.data.fit_bias ? p[2] : 0;
    return this.x2s.map((x2) => this.xs.map((x1) => p[0] * x1 + p[1] * x2 + b));
  }

  // Frame k on every panel, and the readouts.
  show(k) {
    if (!this.panels || !this.run) { this.k = k; return; }
    const d = this.dom, data = this.data, run = this.run;
    this.k = k;
    d.step.value = String(k);
    const step = data.frames[k], p = run.params[k], finite = p.every(Number.isFinite);
    const epoch = step / data.steps_per_epoch;
    d.step.setAttribute("aria-valuetext", `step ${step}`);
    const names = data.names.map((name, i) => `${name} = ${fmt(p[i])}`).join(", ");
    const blown = this.last < this.Fend - 1 && k === this.last ? " · blown up here: it goes no further" : "";
    d.readout.textContent = finite
      ? `Step ${step} of ${data.frames[this.Fend - 1]} (epoch ${fmt(epoch, 4)}) · loss ${fmt(run.loss[k])} · ${names}${blown}`
      : `Step ${step}: the run had blown up before this step`;
    if (!this.playing) d.play.textContent = k >= this.last ? "↺ Replay" : "▶ Play";
    if (!finite) return;
    this.marks(k);
    if (data.kind === "plane" && this.Plotly && this.dom.plane.data) this.Plotly.restyle(this.dom.plane, { z: [this.plane(p)] }, [2]);
  }

  // frame k's moving marks over the panels (SVG only)
  marks(k) {
    const d = this.dom, data = this.data, run = this.run;
    if (!this.overlays || !run || !run.params[k] || !run.params[k].every(Number.isFinite)) return;
    const p = run.params[k], step = data.frames[k];
    const xy = this.pathXY(k), cols = data.surface.columns, o = this.overlays;
    const last = xy.x.length - 1;
    o.surface.line("sofar", xy.x, xy.y);
    o.surface.dot("now", xy.x[last], xy.y[last]);
    const arrows = d.arrows.checked && data.arrows && k < this.Fend - 1 && data.surface.kind !== "curve";
    const g = arrows ? run.grad[k] : [0, 0], m = arrows ? run.mom[k] : [0, 0], at = [p[cols[0]], p[cols[1]]];
    o.surface.segment("grad", at[0], at[1], at[0] + g[0], at[1] + g[1]);
    o.surface.segment("mom", at[0] + g[0], at[1] + g[1], at[0] + g[0] + m[0], at[1] + g[1] + m[1]);
    o.loss.line("sofar", data.frames.slice(0, k + 1), run.loss.slice(0, k + 1));
    o.loss.dot("now", step, run.loss[k]);
    if (data.kind !== "plane") o.data.line("model", this.xs, this.line(p));
  }

  // a tap on the surface (or the curve: its w) is the new start
  tapStart(x, y) {
    if (this.data.controls.start === "locked") return;
    const value = this.data.surface.kind === "curve" ? [x] : [x, y];
    if (!value.every(Number.isFinite)) return;
    this.setTrigger("start", value);
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!parentElement.__liveFigure) parentElement.__liveFigure = new LiveFigure(parentElement);
  const figure = parentElement.__liveFigure;
  if (data) figure.update(data, setTriggerValue);
  return () => figure.stop();
}
