// The race player: several runs the engine computed, played together in the browser (components/race_player.py,
// charts/race_player.py): the optimizer race and the mini-batch noise runs.
//
// Two panels (panel.js) drawn once per data: the loss surface (or the loss curve of a one-parameter model) with the
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

  // the panels, drawn anew when the runs change (a new run's marks too)
  plot() {
    const key = `${this.data.surface.z.bdata}|${this.data.pos.bdata}|${this.data.loss.bdata}`;
    this.panelsFor(key);
    return Promise.resolve();
  }

  drawPanels() {
    const data = this.data, s = data.surface, d = this.dom.panels;
    if (!this.panels) {
      this.panels = { surface: new Panel(d.surface), loss: new Panel(d.loss) };
      // after each draw (new data, or a new width) the marks follow the axes
      for (const name of ["surface", "loss"]) {
        this.panels[name].afterDraw.push((box) => { if (this.overlays) { this.overlays[name].fit(box); this.show(this.k); } });
      }
    }
    this.makeOverlays();
    const p0 = [this.pos[0][0], this.pos[0][1]];
    const start = { type: "points", symbol: "ring", x: [p0[0]], y: [p0[1]], color: RP_COLORS.start, size: 13 };
    if (s.kind === "curve") {
      const { a, z } = surfaceCurve(s);
      this.panels.surface.draw({ title: "Loss along w and each run's position", x: { title: s.axes[0], range: [a[0], a[a.length - 1]] },
        y: { title: "loss", range: [0, 1.05 * Math.max(...z)] },
        series: [{ type: "line", x: a, y: z, color: "#0F766E", width: 2 },
          { type: "points", symbol: "star", x: s.optimum, y: [s.min_loss], color: "#1F2933", size: 16 }, start] });
    } else {
      const { a, b, z, fixed } = surfaceGrid(s);
      const ghosts = data.ghosts.map((g) => {
        const xy = unpack(g.xy).a, x = [], y = [];
        for (let i = 0; i < xy.length; i += 2) { x.push(xy[i]); y.push(xy[i + 1]); }
        return { type: "line", x, y, color: g.color, opacity: 0.35, width: 1 };
      });
      this.panels.surface.draw({ title: `Loss surface (darker is lower) and the paths${fixed}`,
        x: { title: s.axes[0], range: [a[0], a[a.length - 1]] }, y: { title: s.axes[1], range: [b[0], b[b.length - 1]] },
        heat: { a, b, z }, series: [...ghosts,
          { type: "points", symbol: "star", x: [s.optimum[0]], y: [s.optimum[1]], color: "#1F2933", size: 16 }, start] });
    }
    const series = data.bands.map((band) => ({ type: "band", x: Array.from(unpack(band.time).a),
      low: Array.from(unpack(band.low).a), high: Array.from(unpack(band.high).a), fill: rgba(band.color, 0.25) }));
    data.curves.forEach((c, k) => series.push({ type: "line", x: Array.from(unpack(c.time).a), y: Array.from(unpack(c.loss).a),
      color: data.tracks[k].color, opacity: 0.35, width: 1.2 }));
    this.panels.loss.draw({ title: "Loss (mean squared error), log scale",
      x: { title: data.time_title, range: [0, this.data.times[this.F - 1] || 1] },
      y: { title: "loss", log: true, range: data.loss_range, ticks: data.loss_ticks }, series });
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
