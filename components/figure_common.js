// What the figures that play runs in the browser share (the playground's live figure, the Overfitting page's fit
// player, the Explorer's race player): the payload's packed float32 arrays, small DOM helpers, the SVG overlay that
// draws the marks that move over a panel (panel.js draws the panels), the controls and the playback. Python puts
// this file and panel.js before each figure's own (components/assets.py), so they are one module.

const SPEEDS = [["0.25", "¼×"], ["0.5", "½×"], ["1", "1×"], ["2", "2×"], ["4", "4×"]];
const SETTLE_MS = 350; // a slider at rest this long sends its value to the page
const PENDING_MS = 3000; // a followed sidebar value the page's reruns have not brought back by then is given up

// {dtype: "f4", bdata, shape: "K,F,p"} (charts.common.packed) -> {a: Float32Array, shape: [K, F, p]}
function unpack(spec) {
  const bin = atob(spec.bdata);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const a = new Float32Array(bytes.buffer);
  return { a, shape: spec.shape ? spec.shape.split(",").map(Number) : [a.length] };
}

const fmt = (v, d = 4) => (Number.isFinite(v) ? Number(v.toPrecision(d)).toString() : "—");

function html(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  for (const child of children) el.appendChild(child);
  return el;
}

// The marks that move (the path so far, the point now, the arrows, the model line, the loss so far) are an SVG of
// their own over a panel: a frame, or a run picked by a slider, costs a few attribute writes, not a panel's redraw.
const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

// a point in a panel's axes' units -> its pixel, for a box {l, t, w, h, xr, yr, logy} (a Panel's, which its Overlay
// shares)
function boxPixel(b, x, y) {
  const u = b.logy ? Math.log10(y) : y;
  return [b.l + ((x - b.xr[0]) / (b.xr[1] - b.xr[0])) * b.w, b.t + b.h - ((u - b.yr[0]) / (b.yr[1] - b.yr[0])) * b.h];
}

let overlays = 0;
const OVERLAY_ID = Math.random().toString(36).slice(2, 8); // each figure's module its own clip ids

class Overlay {
  // marks: {name: [tag, attrs]}, drawn in order over the panel's plot area (clipped to it); heads: {name: colour},
  // an arrow head at the end of the mark of that name
  constructor(panel, marks, heads = {}) {
    const id = `lf-clip-${OVERLAY_ID}-${++overlays}`;
    this.root = svg("svg", { class: "lf-overlay", "aria-hidden": "true" });
    const defs = svg("defs");
    for (const [name, color] of Object.entries(heads)) {
      const head = svg("marker", { id: `${id}-${name}`, viewBox: "0 0 10 10", refX: "8", refY: "5", markerWidth: "7",
        markerHeight: "7", orient: "auto-start-reverse" });
      head.appendChild(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: color }));
      defs.appendChild(head);
    }
    this.clip = svg("rect");
    defs.appendChild(svg("clipPath", { id }));
    defs.lastChild.appendChild(this.clip);
    this.root.appendChild(defs);
    const group = svg("g", { "clip-path": `url(#${id})` });
    this.marks = {};
    for (const [name, [tag, attrs]] of Object.entries(marks)) {
      const extra = name in heads ? { "marker-end": `url(#${id}-${name})` } : {};
      this.marks[name] = group.appendChild(svg(tag, { ...attrs, ...extra }));
    }
    this.root.appendChild(group);
    panel.appendChild(this.root);
  }

  // the plot area and the axes' ranges: {l, t, w, h, width, height, xr, yr, logy} (a Panel's box);
  // null hides the marks (a 3-D scene moves its own plane)
  fit(box) {
    this.box = box;
    this.root.style.display = box ? "" : "none";
    if (!box) return;
    this.root.setAttribute("width", box.width);
    this.root.setAttribute("height", box.height);
    for (const [k, v] of Object.entries({ x: box.l, y: box.t, width: box.w, height: box.h })) this.clip.setAttribute(k, v);
  }

  px(x, y) { return boxPixel(this.box, x, y); }

  ok(x, y) { return Number.isFinite(x) && Number.isFinite(y) && (!this.box.logy || y > 0); }

  line(name, xs, ys) {
    if (!this.box) return;
    const pts = [];
    for (let i = 0; i < xs.length; i++) if (this.ok(xs[i], ys[i])) pts.push(this.px(xs[i], ys[i]).map((v) => v.toFixed(1)).join(","));
    this.marks[name].setAttribute("points", pts.join(" "));
  }

  dot(name, x, y) {
    if (!this.box) return;
    const el = this.marks[name];
    el.style.display = this.ok(x, y) ? "" : "none";
    if (!this.ok(x, y)) return;
    const [cx, cy] = this.px(x, y);
    el.setAttribute("cx", cx);
    el.setAttribute("cy", cy);
  }

  segment(name, x0, y0, x1, y1) {
    if (!this.box) return;
    const el = this.marks[name], show = this.ok(x0, y0) && this.ok(x1, y1) && (x0 !== x1 || y0 !== y1);
    el.style.display = show ? "" : "none";
    if (!show) return;
    const [a, b] = this.px(x0, y0), [c, d] = this.px(x1, y1);
    for (const [k, v] of Object.entries({ x1: a, y1: b, x2: c, y2: d })) el.setAttribute(k, v);
  }
}

// ----------------------------------------------------------------------------------------------------- controls
// The controls both figures have: sliders that pick runs (one per key), and a bar with Play / Pause, a step
// scrubber and a speed choice (and `extra` labels after them).
function sliderBoxes(keys) {
  const sliders = {};
  for (const key of keys) {
    const input = html("input", { type: "range", min: "0", max: "0", step: "1", class: "lf-range" });
    const output = html("output", { class: "lf-value" });
    const label = html("span", { class: "lf-name" });
    const box = html("label", { class: "lf-slider", "data-key": key }, [label, input, output]);
    sliders[key] = { box, input, output, label };
  }
  return { sliders, row: html("div", { class: "lf-sliders" }, keys.map((key) => sliders[key].box)) };
}

function playBar(extra = []) {
  const play = html("button", { type: "button", class: "lf-play" });
  const step = html("input", { type: "range", min: "0", max: "0", step: "1", class: "lf-range lf-step",
    "aria-label": "Step" });
  const speed = html("select", { class: "lf-speed", "aria-label": "Speed" });
  for (const [value, text] of SPEEDS) speed.appendChild(html("option", { value, text }));
  speed.value = "1";
  const bar = html("div", { class: "lf-bar" }, [
    play,
    html("label", { class: "lf-steplabel" }, [html("span", { text: "Step" }), step]),
    html("label", { class: "lf-speedlabel" }, [html("span", { text: "Speed" }), speed]),
    ...extra,
  ]);
  return { play, step, speed, bar };
}

// Playback, the panels' redraw and the sliders' way back to Python, for a figure whose subclass has this.dom (play,
// step, speed, sliders and summary), show(k), drawPanels(), pick(key, index), this.last (the last frame to play),
// frameCount() (the frames on the scrubber), this.sel (the picked values), this.data.own (the page's run's values)
// and ownOf(own) and ladderOf(ladder) (a payload's run and ladder, unpacked).
class RunPlayer {
  constructor(dom) {
    this.dom = dom;
    this.k = 0;
    this.playing = false;
    this.timer = null;
    this.pending = null; // {key, value} sent to the page, not yet reflected in its data
    this.settleTimers = {}; // a slider's own: two sliders that come to rest together both tell the page
    const d = dom;
    d.play.addEventListener("click", () => (this.playing ? this.pause() : this.play(this.k >= this.last)));
    d.step.addEventListener("input", () => { this.pause(); this.show(Number(d.step.value)); });
    d.speed.addEventListener("change", () => { if (this.playing) this.play(false); });
    for (const [key, s] of Object.entries(d.sliders)) {
      s.input.addEventListener("input", () => this.pick(key, Number(s.input.value)));
      s.input.addEventListener("change", () => this.settle(key));
    }
  }

  play(fromStart) {
    clearTimeout(this.timer);
    if (fromStart) this.show(0);
    this.playing = true;
    this.dom.play.textContent = "❚❚ Pause";
    const fps = Math.min(30, Math.max(8, this.frameCount() / 4)) * Number(this.dom.speed.value);
    const tick = () => {
      if (!this.playing) return;
      if (this.k >= this.last) { this.pause(); return; }
      this.show(this.k + 1);
      this.timer = setTimeout(tick, 1000 / fps);
    };
    this.timer = setTimeout(tick, 1000 / fps);
  }

  pause() {
    this.playing = false;
    clearTimeout(this.timer);
    this.dom.play.textContent = this.k >= this.last ? "↺ Replay" : "▶ Play";
  }

  // The panels drawn anew (the subclass's drawPanels) when `key`, what they show, changed; else only the whole run's
  // faint marks (wholeRun). True when drawn anew; an error is said in words (failed) instead.
  panelsFor(key) {
    if (this.plotted === key) {
      this.wholeRun();
      return false;
    }
    this.plotted = key;
    try {
      this.drawPanels();
      this.warmUp();
      return true;
    } catch (err) {
      this.failed(err);
      return false;
    }
  }

  // V8 compiles the panels' drawing code as it first runs it, and makes it fast only as it runs again: a learner's
  // first move on new data drew in 11-17 ms of script where the next ones took 4-7 (docs/performance.md). So a figure
  // that draws new runs itself (from its route) draws its panels twice more after its first picture, each when the
  // browser is idle, into spare panels off the page: the same code on the same data, and nothing on the page moves.
  warmUp() {
    if (this.warm !== undefined || !this.runs) return;
    this.warm = 2; // the drawings left to make
    const idle = window.requestIdleCallback || ((fn) => setTimeout(fn, 100));
    const again = () => {
      const shown = this.panels;
      if (!shown || !this.data) return;
      this.panels = {};
      for (const [name, p] of Object.entries(shown)) this.panels[name] = new Panel(html("div"), { size: p.drawn });
      try {
        this.drawPanels();
      } catch (err) {
        // only the spare panels were being drawn: the page's are as they were
      } finally {
        this.panels = shown;
      }
      if (--this.warm > 0) idle(again);
    };
    idle(again);
  }

  failed(err) { this.dom.summary.textContent = `The figure cannot be drawn: ${err.message}`; }

  wholeRun() {} // a figure that draws a run's whole path faintly says how

  pageValue(key) { return this.data.own[key]; } // the page's value of a slider's setting (a figure may differ)

  // Whether the page's data comes from a rerun the learner has already moved past: a sidebar control the figure
  // follows (follow() notes when, in `pending`) reruns the page at each step of a quick move, and the figure keeps
  // showing the latest value until the rerun for it comes back, rather than going back through the steps. Not once
  // PENDING_MS have passed, in case that value never comes back as it was sent. `value`: the data's value of the
  // pending setting.
  outrun(value) {
    const p = this.pending;
    return !!(p && p.at && this.data && value !== p.value && performance.now() - p.at < PENDING_MS);
  }

  // Streamlit's clean-up before a re-render (or the end): stop the clock, remember whether to go on playing.
  stop() { this.interrupted = this.playing; this.pause(); }

  // The whole of a run whose first part it drew (RouteRuns.request): its ladders' steps too (ladderOf unpacks a
  // ladder), and the page's own run as engine.train computed it where the part had its ladder's (the same path to
  // float32 rounding, live_route.py; ownOf unpacks it). The picture stays; a ladder's run that the learner picked
  // meanwhile, shown as the page's own until now, plays.
  completed(body) {
    const ownChanged = body.own.params.bdata !== this.data.own.params.bdata;
    this.data = { ...this.data, own: body.own, ladders: body.ladders, partial: false };
    if (ownChanged) this.own = this.ownOf(body.own);
    for (const [key, ladder] of Object.entries(body.ladders)) this.ladders[key] = this.ladderOf(ladder);
    if (this.currentRun().run !== this.own) this.selectRun(true);
    else if (ownChanged) this.selectRun(false, this.playing); // on at the same step
  }

  // The slider came to rest: tell the page (a trigger), once, after SETTLE_MS.
  settle(key) {
    clearTimeout(this.settleTimers[key]);
    this.settleTimers[key] = setTimeout(() => {
      const value = this.sel[key];
      if (value === this.pageValue(key)) return;
      this.pending = { key, value };
      this.setTrigger(key, value);
    }, SETTLE_MS);
  }
}

// ------------------------------------------------------------------------------------------- runs from a route
// Runs a figure fetches from its route (components/live_route.py) with a query (the page's, with some settings
// changed): one request at a time, then the figure's latest wish if it moved on meanwhile; the last `size` runs it
// held, to go back to with no request; and up to AHEAD runs asked for ahead. The figure has data.fetch (the route's
// url, the class token and its header), wanted() (the query of the run it needs, or null), fetched(body),
// completed(body) (the whole of a body it had in part, RunPlayer's) and unfetched(err).
const AHEAD = 3; // runs asked ahead at most (a slider's two neighbours, the next step)

// resolved once the next frame is on screen: what can wait for the picture waits for this
const afterFrame = () => new Promise((done) => requestAnimationFrame(() => setTimeout(done)));

class RouteRuns {
  constructor(figure, size) {
    this.figure = figure;
    this.size = size;
    this.kept = new Map();
    this.ahead = new Map(); // query -> the answer's promise (null: it failed), the last AHEAD asked
    this.wholes = new WeakMap(); // the first part of an answer in two -> the promise of the whole (null: it failed)
    this.fetching = false;
  }

  keep(query, data) {
    if (data.partial) return; // kept once whole (RouteRuns.whole)
    this.kept.delete(query);
    this.kept.set(query, data);
    while (this.kept.size > this.size) this.kept.delete(this.kept.keys().next().value);
  }

  // The route's answer (the payload) for a query; an error says the server's sentence. One asked for `now` may come
  // in part (components/live_route.py: "partial", its ladders without their steps, a quarter of the bytes): the
  // figure draws that, and the whole is asked for once that picture is on screen (reading it first delayed the
  // picture); this.wholes holds its promise for the part. Should it fail, the page's rerun brings the whole too.
  request(query, now = false) {
    const f = this.figure.data.fetch, headers = f.token ? { [f.header]: f.token } : {};
    if (now) headers["X-Playground-Now"] = "1";
    return fetch(new URL(`${f.url}?${query}`, document.baseURI), { headers }).then((r) => r.json().then((body) => {
      if (!r.ok) throw new Error(body.error || `the server answered ${r.status}`);
      if (body.partial) this.wholes.set(body, afterFrame().then(() => this.request(query)).catch(() => null));
      return body;
    }));
  }

  // ask for a run before it is wanted (a failure: asked again when it is)
  prefetch(query) {
    if (this.ahead.has(query) || this.kept.has(query)) return;
    this.ahead.set(query, this.request(query).catch(() => null));
    while (this.ahead.size > AHEAD) this.ahead.delete(this.ahead.keys().next().value);
  }

  // the run the figure wants, kept, fetched ahead or asked for now; handed to it only if it still wants it
  run() {
    const figure = this.figure, asked = figure.wanted();
    if (this.fetching || !asked) return;
    this.fetching = true;
    const ahead = this.kept.has(asked) ? Promise.resolve(this.kept.get(asked)) : this.ahead.get(asked);
    (ahead ? ahead.then((body) => body || this.request(asked, true)) : this.request(asked, true))
      .then((body) => {
        this.whole(asked, body);
        if (figure.wanted() === asked) figure.fetched(body);
      })
      .catch((err) => { if (figure.wanted() === asked) figure.unfetched(err); })
      .finally(() => {
        this.fetching = false;
        if (figure.wanted() !== asked) this.run(); // the learner moved on
      });
  }

  // the whole of an answer that came in part (request): kept, and handed to the figure (completed) if it still
  // shows that part
  whole(query, first) {
    const whole = this.wholes.get(first);
    if (!whole) return;
    whole.then((body) => {
      if (!body) return;
      this.keep(query, body);
      const d = this.figure.data;
      if (d && d.partial && d.own === first.own) this.figure.completed(body);
    });
  }
}

// ------------------------------------------------------------------------------------------ following the sidebar
// The sidebar's controls of the same settings as a figure's sliders (Streamlit's own, ui/widgets.py: each in an
// element whose class is "st-key-ctl_<setting>") move the figure as soon as the learner moves them, before the page's
// rerun comes back: a rerun of the whole page costs the browser far more than the figure's drawing
// (docs/performance.md). What a slider shows is read from its range input's accessible value text (aria-valuetext:
// "0.1", "0.80", "60") when it changes on the slider the learner holds (it has the focus, from the keyboard or a
// drag); a select box's, from the label its input shows once an option is picked (the payload's "choices" map labels
// to options), and the option under the keys or the pointer before that (its aria-activedescendant), which a figure
// may fetch ahead (aheadChoice); a radio button's, from the label of the option that becomes selected (its
// data-selected) while its input has the focus (a click or the arrow keys). `sliders` and `choices`: the settings
// followed, or a function that says whether a setting is. A control whose markup is not that is simply not followed,
// and the page's rerun brings its run as before. The figure's follow(key, value) does the rest.
//
// Two moves are read from the learner's own key or pointer, before the control's React update shows them (which
// waits behind the rerun's start on a busy page, docs/performance.md): an arrow key on a slider whose values the figure
// knows (its sliderValues(key)), and a select box's option picked with Enter or the pointer. The control's own update
// then finds the figure there already. A slider the learner is about to move (the focus or the mouse resting on it,
// SLIDER_AHEAD_MS, or a press on it: onIntent) has the runs of its two neighbouring values fetched ahead (the
// figure's prefetchAt), a radio group its other options', so that a first step or pick draws at once.
const SIDEBAR_KEY = "st-key-ctl_";
const SLIDER_AHEAD_MS = 250; // a pass of the Tab key or the mouse over the controls asks for nothing
const STEP_KEYS = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 };

// the index of a value the sidebar shows among a slider's values (what it shows was rounded to text), or -1
const indexNear = (values, value) => values.findIndex((v) => Math.abs(v - value) <= 1e-9 * Math.max(1, Math.abs(v)));

// the setting of a sidebar control's element (its box's "st-key-ctl_<setting>" class), or undefined
function sidebarKey(el) {
  const box = el && el.closest && el.closest(`[class*="${SIDEBAR_KEY}"]`);
  const cls = box && [...box.classList].find((c) => c.startsWith(SIDEBAR_KEY));
  return cls && cls.slice(SIDEBAR_KEY.length);
}

// The value a sidebar slider's range input goes to one step `dir` (+1, -1) on, among `values` (the figure's), or
// undefined where that is not certain. A select_slider's input holds the option's index (min 0, step 1); a slider's,
// the value it shows, which moves by its step on its step's grid (off the grid, where a link put it, it snaps to it:
// not guessed).
function nextSliderValue(input, values, dir) {
  const [min, max, step, at] = [input.min, input.max, input.step, input.value].map(Number);
  const j = indexNear(values, Number(input.getAttribute("aria-valuetext")));
  if (j < 0 || ![min, max, step, at].every(Number.isFinite) || !(step > 0)) return undefined;
  if (min === 0 && step === 1 && max === values.length - 1 && at === j) return values[j + dir];
  if (indexNear([at], values[j]) < 0) return undefined; // neither an index nor the value shown: not this slider
  const k = (at - min) / step, next = min + (Math.round(k) + dir) * step;
  if (Math.abs(k - Math.round(k)) > 1e-6 || next < min - 1e-9 * step || next > max + 1e-9 * step) return undefined;
  const i = indexNear(values, next);
  return i < 0 ? undefined : values[i];
}

function followSidebar(figure, sliders, choices = []) {
  const among = (keys) => (typeof keys === "function" ? keys : (key) => keys.includes(key));
  const [slider, choice] = [among(sliders), among(choices)];
  const labelsOf = (key) => (figure.data && figure.data.choices && figure.data.choices[key]) || {};
  const stop = new AbortController(), on = { capture: true, signal: stop.signal };
  const gone = () => {
    if (figure.dom.root.isConnected) return false;
    observer.disconnect();
    stop.abort();
    return true;
  };
  const observer = new MutationObserver((records) => {
    if (gone()) return;
    const moved = new Map();
    for (const r of records) {
      const key = sidebarKey(r.target), text = r.target.getAttribute(r.attributeName), labels = labelsOf(key);
      if (r.attributeName === "data-selected") { // a radio button's option (react-aria): picked, holding the focus
        const picked = text === "true" && r.target.matches("label") && r.target.contains(document.activeElement);
        const value = labels[r.target.textContent.trim()];
        if (picked && choice(key) && value !== undefined) moved.set(key, value);
        continue;
      }
      if (r.target !== document.activeElement || text === r.oldValue) continue; // a rerun drawing it again
      if (slider(key) && r.target.type === "range" && r.attributeName === "aria-valuetext") {
        const value = Number(text);
        if (Number.isFinite(value)) moved.set(key, value); // the last of each
      } else if (choice(key) && r.target.getAttribute("role") === "combobox") {
        if (r.attributeName === "value" && labels[text] !== undefined) moved.set(key, labels[text]); // typing: none
        if (r.attributeName === "aria-activedescendant" && text) { // an option under the keys or the pointer
          const option = document.getElementById(text), value = option && labels[option.textContent.trim()];
          if (value !== undefined && figure.aheadChoice) figure.aheadChoice(key, value);
        }
      }
    }
    for (const [key, value] of moved) figure.follow(key, value);
  });
  observer.observe(document.body, { subtree: true, attributes: true, attributeOldValue: true,
    attributeFilter: ["aria-valuetext", "value", "aria-activedescendant", "data-selected"] });

  // an option of a followed select box picked (Enter on the one under the keys, or the pointer let go on one)
  const pick = (box, option) => {
    const key = sidebarKey(box), value = option && labelsOf(key)[option.textContent.trim()];
    if (choice(key) && value !== undefined) figure.follow(key, value);
  };
  document.addEventListener("keydown", (e) => {
    if (gone() || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const t = e.target, key = sidebarKey(t);
    if (!key) return;
    if (t.type === "range" && slider(key) && STEP_KEYS[e.key] && figure.sliderValues) {
      const values = figure.sliderValues(key), value = values ? nextSliderValue(t, values, STEP_KEYS[e.key]) : undefined;
      if (value !== undefined) figure.follow(key, value);
    } else if (e.key === "Enter" && t.getAttribute("role") === "combobox" && t.getAttribute("aria-expanded") === "true") {
      const id = t.getAttribute("aria-activedescendant");
      pick(t, id && document.getElementById(id));
    }
  }, on);
  document.addEventListener("pointerup", (e) => {
    if (gone()) return;
    const option = e.target.closest && e.target.closest('[role="option"]');
    const list = option && option.closest('[role="listbox"]');
    if (list && list.id) pick(document.querySelector(`[role="combobox"][aria-controls="${CSS.escape(list.id)}"]`), option);
  }, on);
  // the values a control the learner rests on may move to next: a slider's two neighbours, a radio group's other
  // options (a few: powers, the points' curve)
  const nextValues = (t, key) => {
    if (t.type === "range" && slider(key) && figure.sliderValues) {
      const values = figure.sliderValues(key);
      return values ? [1, -1].map((dir) => nextSliderValue(t, values, dir)).filter((v) => v !== undefined) : [];
    }
    if (t.type === "radio" && choice(key)) {
      const labels = labelsOf(key), picked = document.querySelector(`.${SIDEBAR_KEY}${key} label[data-selected="true"]`);
      const now = picked && labels[picked.textContent.trim()];
      return now === undefined ? [] : Object.values(labels).filter((v) => v !== now);
    }
    return [];
  };
  const control = (el) => { // a followed slider's or radio group's input, from any element of its box
    const key = sidebarKey(el), box = key && el.closest(`.${SIDEBAR_KEY}${key}`);
    return box && (slider(key) || choice(key)) ? box.querySelector('input[type="range"], input[type="radio"]') : null;
  };
  onIntent(document, control, (input) => {
    if (gone() || !figure.data || !figure.prefetchAt || input.disabled) return; // locked by a teacher's link: no move
    const key = sidebarKey(input);
    for (const value of nextValues(input, key)) figure.prefetchAt(key, value);
  }, stop.signal);
}

// The learner shows that they are about to move a control: the keyboard's focus rests on it SLIDER_AHEAD_MS, the mouse
// rests over it as long, or a pointer presses on it (a touch or a click: a drag's first step comes next). Then
// `then(control)`, so that a figure fetches the runs that control may move to before it moves. `find(el)`: the
// control an element belongs to, or null; listened to on `target` (the document, or a figure's own sliders).
function onIntent(target, find, then, signal) {
  const on = { capture: true, signal };
  let focusTimer = null, hoverTimer = null, over = null;
  target.addEventListener("focusin", (e) => {
    clearTimeout(focusTimer);
    const c = find(e.target), t = e.target;
    if (c) focusTimer = setTimeout(() => { if (document.activeElement === t) then(c); }, SLIDER_AHEAD_MS);
  }, on);
  target.addEventListener("pointerover", (e) => {
    const c = e.pointerType === "mouse" ? find(e.target) : null;
    if (c === over) return;
    over = c;
    clearTimeout(hoverTimer);
    if (c) hoverTimer = setTimeout(() => { if (over === c) then(c); }, SLIDER_AHEAD_MS);
  }, on);
  target.addEventListener("pointerout", (e) => {
    if (!e.relatedTarget || !target.contains(e.relatedTarget) || find(e.relatedTarget) !== over) {
      over = null;
      clearTimeout(hoverTimer);
    }
  }, on);
  target.addEventListener("pointerdown", (e) => {
    const c = find(e.target);
    if (c) then(c);
  }, on);
}

// ------------------------------------------------------------------------------------------------------ panels
// A loss surface of a payload (charts.live.surface_payload): its axes' values, z as rows along b and the slice words
// (" (slice at b = 0.8)"); or, for a one-parameter model, the curve.
function surfaceGrid(s) {
  const a = Array.from(unpack(s.a).a), b = Array.from(unpack(s.b).a), zz = unpack(s.z), z = [];
  for (let i = 0; i < b.length; i++) z.push(Array.from(zz.a.subarray(i * a.length, (i + 1) * a.length)));
  const fixed = Object.entries(s.fixed).map(([k, v]) => ` (slice at ${k} = ${fmt(v, 3)})`).join("");
  return { a, b, z, fixed };
}

function surfaceCurve(s) {
  return { a: Array.from(unpack(s.a).a), z: Array.from(unpack(s.z).a) };
}
