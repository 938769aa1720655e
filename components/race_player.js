// The race player: several runs the engine computed, played together in the browser (components/race_player.py,
// charts/race_player.py): the optimizer race and the mini-batch noise runs.
//
// Two Plotly.js panels drawn once per data: the loss surface (or the loss curve of a one-parameter model) with the
// start, the optimum and any faint extra runs; and every run's whole loss per step, faint, with the shaded bands.
// The paths so far and each run's head move over them as SVG (figure_common.js's Overlay). It plays by itself and
// comes to rest on the last step; Play / Pause, the step scrubber and the speed stay. Every number is Python's.

const RP_COLORS = { start: "#F2A541" };

function rpDom(parent) {
  const { play, step, speed, bar } = playBar();
  const summary = html("p", { class: "lf-summary", "aria-live": "polite" });
  const readout = html("div", { class: "lf-readout", "aria-live": "off" });
  const legend = html("p", { class: "lf-legend rp-legend", "aria-hidden": "true" });
  const panels = { surface: html("div", { class: "lf-panel rp-surface" }), loss: html("div", { class: "lf-panel rp-loss" }) };
  const figure = html("div", { class: "lf-panels rp-panels", role: "img" }, [panels.surface, panels.loss]);
  const root = html("div", { class: "lf-root rp-root" }, [summary, bar, readout, legend, figure]);
  parent.appendChild(root);
  return { root, sliders: {}, play, step, speed, summary, readout, legend, panels, figure };
}

function rgba(hex, alpha) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgba(${r},${g},${b},${alpha})`;
}

class RacePlayer extends RunPlayer {
  constructor(parent) { super(rpDom(parent)); }

  frameCount() { return this.F; }

  update(data) {
    const same = this.data && data.pos.bdata === this.data.pos.bdata && data.surface.z.bdata === this.data.surface.z.bdata;
    this.data = data;
    this.F = data.times.length;
    this.last = this.F - 1;
    const pos = unpack(data.pos), loss = unpack(data.loss), K = data.tracks.length;
    this.pos = [];
    this.loss = [];
    for (let k = 0; k < K; k++) {
      this.pos.push(Array.from(pos.a.subarray(k * this.F * 2, (k + 1) * this.F * 2)));
      this.loss.push(Array.from(loss.a.subarray(k * this.F, (k + 1) * this.F)));
    }
    const d = this.dom;
    d.summary.textContent = data.summary;
    d.figure.setAttribute("aria-label", `${data.title}. ${data.summary}`);
    d.step.max = String(this.F - 1);
    d.legend.replaceChildren(...data.tracks.map((t) => html("span", { class: "lf-key" }, [
      html("span", { class: "lf-swatch", style: `border-color: ${t.color}` }), html("span", { text: t.name })])),
    ...data.bands.map((b) => html("span", { class: "lf-key" }, [
      html("span", { class: "rp-band", style: `background: ${rgba(b.color, 0.25)}` }), html("span", { text: b.name })])));
    this.plot().then(() => {
      if (same && this.plotted) this.show(Math.min(this.k, this.F - 1));
      else this.play(true);
    });
  }

  plot() {
    return loadPlotly().then((Plotly) => {
      this.Plotly = Plotly;
      const key = `${this.data.surface.z.bdata}|${this.data.pos.bdata}|${this.data.loss.bdata}`;
      if (this.plotted === key) return null;
      this.plotted = key;
      return this.newPlots();
    }).catch((err) => { this.dom.summary.textContent = `The figure cannot load: ${err.message}`; });
  }

  newPlots() {
    const P = this.Plotly, data = this.data, s = data.surface, d = this.dom.panels;
    const config = { ...PANEL_CONFIG, staticPlot: true }, base = PANEL_LAYOUT;
    const start = (x, y) => ({ type: "scatter", mode: "markers", x, y, hoverinfo: "skip",
      marker: { symbol: "circle-open", size: 13, color: RP_COLORS.start, line: { width: 3 } } });
    const p0 = [this.pos[0][0], this.pos[0][1]];
    let traces, layout;
    if (s.kind === "curve") {
      const { a, z, axes } = surfaceCurve(s);
      traces = [{ type: "scatter", mode: "lines", x: a, y: z, line: { color: "#0F766E" }, hoverinfo: "skip" },
        optimumStar(s.optimum, [s.min_loss]), start([p0[0]], [p0[1]])];
      layout = { ...base, title: panelTitle("Loss along w and each run's position"), ...axes };
    } else {
      const { a, b, z, fixed, axes } = surfaceGrid(s);
      traces = [
        { type: "contour", x: a, y: b, z, colorscale: "YlGnBu", ncontours: 18, showscale: false, hoverinfo: "skip",
          contours: { coloring: "fill", showlines: true }, line: { width: 0.5, color: "rgba(0,0,0,0.25)" } },
        ...data.ghosts.map((g) => {
          const xy = unpack(g.xy).a, x = [], y = [];
          for (let i = 0; i < xy.length; i += 2) { x.push(xy[i]); y.push(xy[i + 1]); }
          return { type: "scatter", mode: "lines", x, y, hoverinfo: "skip", line: { color: rgba(g.color, 0.35), width: 1 } };
        }),
        optimumStar([s.optimum[0]], [s.optimum[1]]), start([p0[0]], [p0[1]]),
      ];
      layout = { ...base, title: panelTitle(`Loss surface (darker is lower) and the paths${fixed}`), ...axes };
    }
    const lossTraces = [];
    for (const band of data.bands) {
      const t = Array.from(unpack(band.time).a);
      lossTraces.push({ type: "scatter", mode: "lines", x: t, y: Array.from(unpack(band.low).a), line: { width: 0 },
        hoverinfo: "skip" });
      lossTraces.push({ type: "scatter", mode: "lines", x: t, y: Array.from(unpack(band.high).a), line: { width: 0 },
        fill: "tonexty", fillcolor: rgba(band.color, 0.25), hoverinfo: "skip" });
    }
    data.curves.forEach((c, k) => lossTraces.push({ type: "scatter", mode: "lines", x: Array.from(unpack(c.time).a),
      y: Array.from(unpack(c.loss).a), hoverinfo: "skip", line: { color: rgba(data.tracks[k].color, 0.35), width: 1.2 } }));
    const end = this.data.times[this.F - 1] || 1;
    const lossLayout = { ...base, title: panelTitle("Loss (mean squared error), log scale"),
      xaxis: { title: { text: data.time_title }, range: [0, end], fixedrange: true },
      yaxis: { title: { text: "loss" }, type: "log", range: data.loss_range, fixedrange: true, ...data.loss_ticks } };
    return Promise.all([P.react(d.surface, traces, layout, config), P.react(d.loss, lossTraces, lossLayout, config)])
      .then(() => {
        this.makeOverlays();
        for (const [name, overlay] of Object.entries(this.overlays)) overlay.fit(plotlyBox(d[name]));
      });
  }

  // a path so far and a head per run, on both panels (made anew when the runs change)
  makeOverlays() {
    const d = this.dom.panels, marks = { surface: {}, loss: {} };
    this.data.tracks.forEach((t, k) => {
      for (const name of ["surface", "loss"]) {
        marks[name][`line${k}`] = ["polyline", { fill: "none", stroke: t.color, "stroke-width": 2.5, "stroke-linejoin": "round" }];
      }
    });
    this.data.tracks.forEach((t, k) => {
      for (const name of ["surface", "loss"]) {
        marks[name][`head${k}`] = ["circle", { r: 5.5, fill: t.color, stroke: "white", "stroke-width": 1.5 }];
      }
    });
    if (this.overlays) for (const o of Object.values(this.overlays)) o.root.remove();
    this.overlays = { surface: new Overlay(d.surface, marks.surface), loss: new Overlay(d.loss, marks.loss) };
    if (!this.listening) { // after a resize Plotly redraws the axes: the marks follow
      this.listening = true;
      for (const name of ["surface", "loss"]) {
        d[name].on("plotly_afterplot", () => { this.overlays[name].fit(plotlyBox(d[name])); this.show(this.k); });
      }
    }
  }

  show(k) {
    if (!this.overlays) { this.k = k; return; }
    const d = this.dom, data = this.data, o = this.overlays;
    this.k = k;
    d.step.value = String(k);
    const time = data.times[k], times = data.times.slice(0, k + 1);
    d.step.setAttribute("aria-valuetext", `${data.time_title} ${fmt(time)}`);
    const now = data.tracks.map((t, j) => `${t.name} ${fmt(this.loss[j][k])}`).join(" · ");
    d.readout.textContent = `${data.time_title[0].toUpperCase()}${data.time_title.slice(1)} ${fmt(time)} of ` +
      `${fmt(data.times[this.F - 1])} · loss: ${now}`;
    if (!this.playing) d.play.textContent = k >= this.last ? "↺ Replay" : "▶ Play";
    data.tracks.forEach((_, j) => {
      const p = this.pos[j], x = [], y = [];
      for (let f = 0; f <= k; f++) { x.push(p[2 * f]); y.push(p[2 * f + 1]); }
      o.surface.line(`line${j}`, x, y);
      o.surface.dot(`head${j}`, x[k], y[k]);
      o.loss.line(`line${j}`, times, this.loss[j].slice(0, k + 1));
      o.loss.dot(`head${j}`, time, this.loss[j][k]);
    });
  }
}

export default function (component) {
  const { data, parentElement } = component;
  if (!parentElement.__racePlayer) parentElement.__racePlayer = new RacePlayer(parentElement);
  const player = parentElement.__racePlayer;
  if (data) player.update(data);
  return () => player.stop();
}
