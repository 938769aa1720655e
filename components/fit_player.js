// The Overfitting page's fit player: plays a polynomial fit the engine computed, in the browser
// (components/fit_player.py, charts/fit_player.py).
//
// Two panels (panel.js): the training and held-out points with the fitted curve, and the training and test loss per
// step with the step of the lowest test loss. The curve, the losses so far and the markers that move are SVG over
// the panels (figure_common.js's Overlay). Its Degree and Weight decay sliders pick runs out of two families shipped
// with the data (each trained in one batched engine call), so a move redraws at once and the run replays; when a
// slider comes to rest its value goes back to Python (a trigger) and the page catches up without a replay. The
// sidebar's Degree and Weight decay sliders move it the same way as soon as they move (followSidebar); its other
// sliders the payload names under "fetched" (noise, learning rate, test fraction, ...) need a new run, which the player
// fetches from the server's route (components/live_route.py) and plays as soon as it comes, while the page reruns.
// The browser computes nothing but the curve's y = F·w + b from the features F that Python evaluated on the curve's
// grid.

const FP_COLORS = { train: "#4C6A92", test: "#E4572E", model: "#0F766E", optimum: "#1F2933", loss: "#0F766E",
  testLoss: "#E4572E", stop: "#6B7280", now: "#C2185B" };
const FP_SLIDERS = ["degree", "weight_decay"];
const FP_KEPT = 6; // runs kept in the browser to go back to, each ~0.1-0.3 MB of JSON

function fpDom(parent) {
  const { sliders, row } = sliderBoxes(FP_SLIDERS);
  const { play, step, speed, bar } = playBar();
  const legend = (items) => html("p", { class: "lf-legend", "aria-hidden": "true" }, items.map(([cls, text]) =>
    html("span", { class: "lf-key" }, [html("span", { class: `lf-swatch ${cls}` }), html("span", { text })])));
  const panels = { fit: html("div", { class: "lf-panel fp-fit" }), loss: html("div", { class: "lf-panel fp-loss" }) };
  const legends = {
    fit: legend([["fp-train", "training points"], ["fp-test", "held-out points"], ["fp-model", "model now"],
      ["fp-optimum", "exact optimum of this loss"]]),
    loss: legend([["fp-trainloss", "training loss"], ["fp-testloss", "test loss"], ["fp-stop", "lowest test loss"]]),
  };
  const figure = html("div", { class: "lf-panels fp-panels", role: "img" }, [
    html("div", { class: "fp-cell" }, [panels.fit, legends.fit]),
    html("div", { class: "fp-cell" }, [panels.loss, legends.loss]),
  ]);
  const summary = html("p", { class: "lf-summary", "aria-live": "polite" });
  const readout = html("div", { class: "lf-readout", "aria-live": "off" });
  const root = html("div", { class: "lf-root fp-root" }, [row, summary, bar, readout, figure]);
  parent.appendChild(root);
  return { root, sliders, play, step, speed, summary, readout, panels, legends, figure };
}

// run j of a block {params (K, F, P), loss (K, F), test (K, F) | null, optimum (K, P)}, unpacked for drawing
function fpRun(block, j, degree) {
  const P = block.params, [, F, p] = P.shape, L = block.loss, T = block.test;
  const run = { degree, params: [], loss: [], test: T ? [] : null,
    optimum: Array.from(block.optimum.a.subarray(j * p, (j + 1) * p)) };
  for (let f = 0; f < F; f++) {
    run.params.push(Array.from(P.a.subarray((j * F + f) * p, (j * F + f + 1) * p)));
    run.loss.push(L.a[j * F + f]);
    if (T) run.test.push(T.a[j * F + f]);
  }
  return run;
}

// a setting's value in a payload: the run's own (degree, weight decay), else its query's (a number, or an option of
// a setting the sidebar picks among)
function fpValue(d, key) {
  if (key in d.own) return d.own[key];
  return d.choices && key in d.choices ? d.query[key] : Number(d.query[key]);
}

// a block's arrays unpacked; a ladder in the first part of a route's answer has no params yet (live_route.py)
function fpBlock(b) {
  return { ...b, params: b.params ? unpack(b.params) : null, loss: unpack(b.loss), test: b.test ? unpack(b.test) : null,
    optimum: unpack(b.optimum) };
}

class FitPlayer extends RunPlayer {
  constructor(parent) {
    super(fpDom(parent));
    this.runs = new RouteRuns(this, FP_KEPT);
    this.extra = {}; // the sidebar's values the player fetches a run for, not yet in its data (follow)
    this.stepping = null; // {key, value, dir}: the sidebar's slider the learner last stepped, to where and which way
    const among = (part, key) => !!(this.data && this.data[part] && key in this.data[part]);
    followSidebar(this, (key) => FP_SLIDERS.includes(key) || (among("fetched", key) && !among("choices", key)),
      (key) => among("choices", key));
  }

  frameCount() { return this.F; }

  ladderOf(ladder) { return fpBlock(ladder); }

  ownOf(own) { return fpRun(fpBlock(own), 0, own.degree); }

  // New data from Python: keep what is on screen when the page only caught up with this figure, else start over.
  // (A run the player fetched itself comes through here too, with fromPage false.)
  update(data, setTrigger, fromPage = true) {
    this.setTrigger = setTrigger;
    if (fromPage && this.pending && this.outrun(fpValue(data, this.pending.key))) return; // an older rerun
    const same = this.data && data.own.params.bdata === this.data.own.params.bdata && data.y.bdata === this.data.y.bdata;
    // the page caught up with a run on screen (not one the player was still fetching)
    const caughtUp = fromPage && this.pending && fpValue(data, this.pending.key) === this.pending.value &&
      !(this.data && this.wanted());
    this.data = data;
    if (data.query) this.dom.root.dataset.query = new URLSearchParams(data.query).toString(); // the run it holds
    if (data.query && data.fetch) this.runs.keep(this.dom.root.dataset.query, data);
    for (const key of Object.keys(this.extra)) { // in the data now, or the page says otherwise
      if (fpValue(data, key) === this.extra[key] || (fromPage && !(this.pending && this.pending.key === key))) delete this.extra[key];
    }
    this.F = data.frames.length;
    const g = unpack(data.features);
    this.G = g.shape[0];
    this.features = [];
    for (let i = 0; i < this.G; i++) this.features.push(g.a.subarray(i * g.shape[1], (i + 1) * g.shape[1]));
    this.grid = Array.from(unpack(data.grid).a);
    this.own = this.ownOf(data.own);
    this.ladders = {};
    for (const [key, ladder] of Object.entries(data.ladders)) this.ladders[key] = this.ladderOf(ladder);
    this.sel = { degree: data.own.degree, weight_decay: data.own.weight_decay };
    this.configureSliders();
    // without a test set there are no held-out points, test loss or early stop to name
    for (const cls of ["fp-test", "fp-testloss", "fp-stop"]) {
      this.dom.root.querySelector(`.${cls}`).parentElement.hidden = !data.held_out.length;
    }
    const keep = caughtUp || (same && this.plotted);
    if (fromPage) this.pending = null;
    this.selectRun(!keep);
    if (this.stepping && fpValue(data, this.stepping.key) === this.stepping.value) {
      afterFrame().then(() => this.fetchAhead()); // the server's work for it waits for the picture
    }
  }

  configureSliders() {
    const d = this.dom, data = this.data;
    for (const key of FP_SLIDERS) {
      const s = d.sliders[key], ladder = this.ladders[key], state = data.controls[key] || "free";
      s.label.textContent = data.names[key];
      s.input.setAttribute("aria-label", data.names[key]);
      s.box.hidden = !ladder || state === "hidden";
      if (!ladder) continue;
      s.input.max = String(ladder.values.length - 1);
      s.input.value = String(ladder.current);
      s.input.disabled = state === "locked";
      s.box.classList.toggle("lf-locked", state === "locked");
    }
  }

  // A slider moved: show that run at once, replaying it from its start (the two families cross at the page's run).
  pick(key, index) {
    const ladder = this.ladders[key];
    if (!ladder) return;
    this.sel[key] = ladder.values[index];
    const other = key === "degree" ? "weight_decay" : "degree";
    this.sel[other] = this.data.own[other];
    if (this.ladders[other]) this.dom.sliders[other].input.value = String(this.ladders[other].current);
    this.selectRun(true);
  }

  // The sidebar's slider of `key` shows `value` (followSidebar): that run at once, if a family holds it (the page's
  // rerun, which the sidebar's slider started, catches up with it without a replay); else the rerun brings it.
  follow(key, value) {
    if (!this.data || !this.plotted) return;
    if (!FP_SLIDERS.includes(key)) { // a new run, from the route
      const before = this.extra[key] ?? fpValue(this.data, key);
      if (!this.data.fetch || value === before) return;
      this.stepping = typeof value === "number" ? { key, value, dir: Math.sign(value - before) } : null;
      this.extra[key] = value;
      this.pending = { key, value, at: performance.now() };
      const choices = this.data.choices && this.data.choices[key];
      const shown = choices ? Object.keys(choices).find((label) => choices[label] === value) : fmt(value, 3);
      this.dom.summary.textContent = `${this.data.fetched[key]}: ${shown}, computing this run…`;
      this.runs.run();
      return;
    }
    this.stepping = null;
    const ladder = this.ladders[key];
    const j = ladder ? indexNear(ladder.values, value) : -1;
    if (j < 0 || ladder.values[j] === this.sel[key]) return;
    this.pending = { key, value: ladder.values[j], at: performance.now() };
    this.dom.sliders[key].input.value = String(j);
    this.pick(key, j);
  }

  // The query of the run the sidebar's values ask for, when the player's data does not hold it (else null): the
  // page's, with those values and the degree and weight decay on screen.
  wanted() {
    const d = this.data, extra = Object.entries(this.extra);
    if (!d.fetch || !extra.some(([key, value]) => fpValue(d, key) !== value)) return null;
    return this.queryWith(this.extra);
  }

  // the route's query for the page's run with these sidebar values and the degree and weight decay on screen
  queryWith(values) {
    const changes = { degree: this.sel.degree, weight_decay: this.sel.weight_decay };
    for (const [key, value] of Object.entries(values)) changes[key] = String(value);
    return new URLSearchParams({ ...this.data.query, ...changes }).toString();
  }

  // The values of a sidebar slider whose runs are fetched (followSidebar reads a step from its key), and the run at
  // one of them fetched ahead (the learner rests on that slider).
  sliderValues(key) { return (this.data.fetch && this.data.steps && this.data.steps[key]) || null; }

  prefetchAt(key, value) { if (this.data.fetch) this.runs.prefetch(this.queryWith({ ...this.extra, [key]: value })); }

  fetched(body) {
    const d = this.data; // what belongs to the page (a teacher's link, the route, the names) stays the page's
    const page = { controls: d.controls, fetch: d.fetch, fetched: d.fetched, steps: d.steps, choices: d.choices };
    this.update({ ...body, ...page }, this.setTrigger, false);
  }

  // Once the player holds the run the learner stepped to on a sidebar slider (fetched, or the page's), the next
  // value the same way is fetched in the background (one run: the server caches it too), so stepping on (the arrow
  // keys) draws at once.
  fetchAhead() {
    const s = this.stepping, d = this.data, values = s && d.steps && d.steps[s.key];
    this.stepping = null; // one run ahead per step
    if (!values || !s.dir) return;
    const j = indexNear(values, s.value), next = j < 0 ? undefined : values[j + s.dir];
    if (next !== undefined) this.prefetchAt(s.key, next);
  }

  unfetched(err) { // only the sidebar's moves are fetched, and each reruns the page at once
    this.dom.summary.textContent = `This run could not be fetched (${err.message}); the page computes it as it reruns.`;
  }

  currentRun() {
    const own = this.data.own;
    if (this.sel.degree === own.degree && this.sel.weight_decay === own.weight_decay) {
      return { run: this.own, label: own.label };
    }
    const key = this.sel.degree !== own.degree ? "degree" : "weight_decay";
    const ladder = this.ladders[key], j = ladder.values.indexOf(this.sel[key]);
    if (!ladder.params) return { run: this.own, label: own.label }; // not yet, in the first part of a route's answer
    return { run: fpRun(ladder, j, ladder.degrees[j]), label: ladder.labels[j], stop: ladder.stops[j] };
  }

  selectRun(replay) {
    const picked = this.currentRun();
    this.run = picked.run;
    this.stopStep = picked.stop !== undefined ? picked.stop : this.data.own.stop; // not `stop`: the clean-up method
    const ok = (f) => this.run.params[f].every(Number.isFinite) && Number.isFinite(this.run.loss[f]);
    this.last = 0; // a run that blew up plays to its last finite frame and rests there
    while (this.last + 1 < this.F && ok(this.last + 1)) this.last++;
    const d = this.dom;
    for (const key of FP_SLIDERS) {
      const ladder = this.ladders[key];
      if (!ladder) continue;
      const j = ladder.values.indexOf(this.sel[key]);
      d.sliders[key].output.textContent = fmt(this.sel[key], 3);
      d.sliders[key].input.setAttribute("aria-valuetext", ladder.texts[j]);
    }
    d.step.max = String(this.F - 1);
    d.summary.textContent = picked.label;
    d.figure.setAttribute("aria-label", `Fitted curve and losses. ${picked.label}`);
    this.plot().then(() => {
      if (replay) this.play(true);
      else this.show(Math.min(this.k, this.F - 1));
    });
  }

  // ------------------------------------------------------------------------------------------------- drawing
  // The panels are drawn anew only when what they show changes; a run picked by a slider, or a frame, only moves
  // the marks over them.
  plot() {
    const data = this.data;
    const key = `${data.x.bdata}|${data.y.bdata}|${data.held_out.join(",")}|${data.frames[this.F - 1]}|` +
      `${data.y_range}|${data.loss_range}`;
    this.panelsFor(key);
    return Promise.resolve();
  }

  drawPanels() {
    const data = this.data;
    if (!this.panels) this.makePanels();
    const x = Array.from(unpack(data.x).a), y = Array.from(unpack(data.y).a), held = new Set(data.held_out);
    const pick = (test) => x.map((_, i) => i).filter((i) => held.has(i) === test);
    const points = (rows, extra) => ({ type: "points", x: rows.map((i) => x[i]), y: rows.map((i) => y[i]), ...extra });
    const pad = 0.03 * (this.grid[this.G - 1] - this.grid[0] || 1);
    this.panels.fit.draw({ title: "Fitted curve", x: { title: "x", range: [this.grid[0] - pad, this.grid[this.G - 1] + pad] },
      y: { title: "y", range: data.y_range },
      series: [points(pick(false), { color: FP_COLORS.train, size: 7, class: "fp-train-points" }),
        points(pick(true), { color: FP_COLORS.test, size: 9, symbol: "cross", class: "fp-test-points" })] });
    this.panels.loss.draw({ title: "Loss (MSE) per step", x: { title: "step", range: [0, data.frames[this.F - 1] || 1] },
      y: { title: "loss", log: true, range: data.loss_range, ticks: data.loss_ticks } });
  }

  makePanels() {
    const d = this.dom.panels, line = (color, width, extra = {}) => ["polyline",
      { fill: "none", stroke: color, "stroke-width": width, "stroke-linejoin": "round", ...extra }];
    this.panels = { fit: new Panel(d.fit), loss: new Panel(d.loss) };
    this.overlays = {
      fit: new Overlay(d.fit, {
        optimum: line(FP_COLORS.optimum, 1.5, { "stroke-dasharray": "6 4", opacity: 0.7 }),
        model: line(FP_COLORS.model, 3),
      }),
      loss: new Overlay(d.loss, {
        stop: ["line", { stroke: FP_COLORS.stop, "stroke-width": 1.5, "stroke-dasharray": "2 3" }],
        trainWhole: line(FP_COLORS.loss, 1.5, { opacity: 0.3 }),
        testWhole: line(FP_COLORS.testLoss, 1.5, { opacity: 0.3, "stroke-dasharray": "5 3" }),
        trainSofar: line(FP_COLORS.loss, 2.5),
        testSofar: line(FP_COLORS.testLoss, 2.5, { "stroke-dasharray": "5 3" }),
        trainNow: ["circle", { r: 5, fill: FP_COLORS.now }],
        testNow: ["circle", { r: 5, fill: "white", stroke: FP_COLORS.now, "stroke-width": 2 }],
      }),
    };
    // after each draw (new data, or a new width) the marks follow the axes
    for (const name of ["fit", "loss"]) {
      this.panels[name].afterDraw.push((box) => { this.overlays[name].fit(box); this.wholeRun(); this.marks(this.k); });
    }
  }

  // y = F[:, :degree] · w + b on the curve's grid
  curve(p, degree) {
    const ys = [];
    for (let i = 0; i < this.G; i++) {
      let v = p[degree];
      for (let j = 0; j < degree; j++) v += this.features[i][j] * p[j];
      ys.push(v);
    }
    return ys;
  }

  // the picked run's optimum, its whole loss curves (faint) and the step of its lowest test loss
  wholeRun() {
    if (!this.overlays || !this.run) return;
    const o = this.overlays, run = this.run, frames = this.data.frames.slice(0, this.last + 1);
    o.fit.line("optimum", this.grid, this.curve(run.optimum, run.degree));
    o.loss.line("trainWhole", frames, run.loss.slice(0, this.last + 1));
    o.loss.line("testWhole", run.test ? frames : [], run.test ? run.test.slice(0, this.last + 1) : []);
    const [lo, hi] = this.data.loss_range;
    if (run.test && this.stopStep >= 0) o.loss.segment("stop", this.stopStep, 10 ** lo, this.stopStep, 10 ** hi);
    else o.loss.segment("stop", 0, 1, 0, 1); // hidden
  }

  show(k) {
    if (!this.panels || !this.run) { this.k = k; return; }
    const d = this.dom, data = this.data, run = this.run;
    this.k = k;
    d.step.value = String(k);
    const step = data.frames[k], finite = run.params[k].every(Number.isFinite);
    d.step.setAttribute("aria-valuetext", `step ${step}`);
    const test = run.test ? ` · test loss ${fmt(run.test[k])}` : "";
    d.readout.textContent = finite
      ? `Step ${step} of ${data.frames[this.F - 1]} · training loss ${fmt(run.loss[k])}${test}`
      : `Step ${step}: the run had blown up before this step`;
    if (!this.playing) d.play.textContent = k >= this.last ? "↺ Replay" : "▶ Play";
    this.marks(k);
  }

  marks(k) {
    const run = this.run;
    if (!this.overlays || !run || !run.params[k] || !run.params[k].every(Number.isFinite)) return;
    const o = this.overlays, frames = this.data.frames.slice(0, k + 1), step = this.data.frames[k];
    o.fit.line("model", this.grid, this.curve(run.params[k], run.degree));
    o.loss.line("trainSofar", frames, run.loss.slice(0, k + 1));
    o.loss.dot("trainNow", step, run.loss[k]);
    o.loss.line("testSofar", run.test ? frames : [], run.test ? run.test.slice(0, k + 1) : []);
    o.loss.dot("testNow", step, run.test ? run.test[k] : NaN);
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!parentElement.__fitPlayer) parentElement.__fitPlayer = new FitPlayer(parentElement);
  const player = parentElement.__fitPlayer;
  if (data) player.update(data, setTriggerValue);
  return () => player.stop();
}
