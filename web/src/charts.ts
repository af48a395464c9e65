// uPlot charts of past epochs: utilization with the stakers' share, and the APR. The x axis is
// the epoch (a UTC day), labelled with its date at whole epochs only, over the epochs shown plus
// half a day each side (one epoch sits in the middle, never on a 0..40,000 axis). Under each chart
// a legend says the hovered epoch's values (the newest epoch's when nothing is hovered).
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { bpsText } from "./amounts";
import type { EpochRow } from "./api";

const EPOCH = 86_400;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const TICK_PX = 64; // room for one date label on the x axis

interface Series {
  label: string;
  values: (number | null)[];
  text: (i: number) => string; // the value of epoch i, with its unit
  color: string; // a CSS variable of style.css
}

const charts: uPlot[] = [];
let lastDraw: (() => void) | null = null;

const dateOf = (epoch: number) => new Date(epoch * EPOCH * 1000);
/** "Dec 4": the UTC date an epoch covers. */
export const shortDate = (epoch: number) => `${MONTHS[dateOf(epoch).getUTCMonth()]} ${dateOf(epoch).getUTCDate()}`;
/** "2026-12-04 (epoch 20791)". */
export const longDate = (epoch: number) => `${dateOf(epoch).toISOString().slice(0, 10)} (epoch ${epoch})`;

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";

/** Whole epochs in [min, max], every `step`-th so that the labels do not overlap. */
function epochTicks(u: uPlot, min: number, max: number): number[] {
  const first = Math.ceil(min);
  const last = Math.floor(max);
  const count = last - first + 1;
  const fit = Math.max(1, Math.floor(u.bbox.width / devicePixelRatio / TICK_PX));
  const step = Math.max(1, Math.ceil(count / fit));
  const ticks: number[] = [];
  for (let e = last; e >= first; e -= step) ticks.unshift(e); // the newest epoch always has its label
  return ticks;
}

function plot(target: HTMLElement, legend: HTMLElement, x: number[], series: Series[], yRange?: [number, number]) {
  target.replaceChildren();
  const width = Math.max(240, Math.min(720, target.clientWidth || 640));
  const [muted, line] = [css("--muted"), css("--line")];
  const axis = { stroke: muted, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
  const say = (i: number) => {
    legend.replaceChildren(
      Object.assign(document.createElement("b"), { textContent: longDate(x[i]) }),
      ...series.map((s) => {
        const item = document.createElement("span");
        item.className = "legend-item";
        item.style.setProperty("--swatch", css(s.color));
        item.textContent = `${s.label} ${s.text(i)}`;
        return item;
      }),
    );
  };
  const options: uPlot.Options = {
    width,
    height: 200,
    scales: {
      x: { time: false, auto: false, range: [x[0] - 0.5, x[x.length - 1] + 0.5] },
      y: yRange ? { range: () => yRange } : { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      {
        ...axis,
        splits: (u, _i, min, max) => epochTicks(u, min, max),
        values: (_u, ticks) => {
          const labels = ticks.map(shortDate);
          target.dataset.xTicks = labels.join("|"); // what the canvas shows, for tests and tools
          return labels;
        },
      },
      { ...axis, size: 56, values: (_u, ticks) => ticks.map((v) => `${+v.toFixed(2)} %`) },
    ],
    series: [
      { label: "epoch" },
      ...series.map((s) => ({ label: s.label, stroke: css(s.color), width: 2, points: { show: x.length < 40, size: 6 } })),
    ],
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    hooks: {
      setCursor: [(u) => say(u.cursor.idx ?? x.length - 1)],
      draw: [(u) => (target.dataset.xRange = `${u.scales.x.min} ${u.scales.x.max}`)], // the range drawn
    },
  };
  charts.push(new uPlot(options, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, target));
  say(x.length - 1);
}

export function drawCharts(rows: EpochRow[], util: HTMLElement, apr: HTMLElement): void {
  const legendOf = (el: HTMLElement) => document.getElementById(`${el.id}-legend`) as HTMLElement;
  charts.splice(0).forEach((c) => c.destroy());
  lastDraw = () => drawCharts(rows, util, apr);
  if (!rows.length) {
    util.textContent = apr.textContent = "No epoch has been distributed yet.";
    legendOf(util).replaceChildren();
    legendOf(apr).replaceChildren();
    return;
  }
  const x = rows.map((r) => Number(r.epoch));
  const aprs = rows.map((r) => (r.aprMicroPercent === null || r.aprMicroPercent === undefined ? null : BigInt(r.aprMicroPercent)));
  plot(util, legendOf(util), x, [
    { label: "utilization", values: rows.map((r) => Number(r.utilizationBps) / 100), text: (i) => bpsText(rows[i].utilizationBps), color: "--chart-1" },
    { label: "stakers' share", values: rows.map((r) => Number(r.stakersBps) / 100), text: (i) => bpsText(rows[i].stakersBps), color: "--chart-2" },
  ], [0, 100]);
  plot(apr, legendOf(apr), x, [
    {
      label: "APR",
      values: aprs.map((v) => (v === null ? null : Number(v) / 1e6)),
      text: (i) => (aprs[i] === null ? "– (nothing staked)" : `${bpsText(aprs[i]! / 10_000n)}`),
      color: "--chart-3",
    },
  ]);
}

// the scheme follows the system: draw again in its colours when it changes
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => lastDraw?.());
