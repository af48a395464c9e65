// uPlot charts of past epochs: utilization with the stakers' share, and the APR.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { EpochRow } from "./api";

const charts: uPlot[] = [];

function plot(target: HTMLElement, x: number[], series: { label: string; values: (number | null)[]; stroke: string }[]) {
  target.replaceChildren();
  const width = Math.max(320, Math.min(720, target.clientWidth || 640));
  const options: uPlot.Options = {
    width,
    height: 220,
    scales: { x: { time: false } },
    axes: [{ label: "epoch" }, {}],
    series: [{ label: "epoch" }, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, points: { show: x.length < 40 } }))],
    legend: { live: false },
  };
  charts.push(new uPlot(options, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, target));
}

export function drawCharts(rows: EpochRow[], util: HTMLElement, apr: HTMLElement): void {
  charts.splice(0).forEach((c) => c.destroy());
  if (!rows.length) {
    util.textContent = apr.textContent = "No epoch has been reported yet.";
    return;
  }
  const x = rows.map((r) => Number(r.epoch));
  plot(util, x, [
    { label: "utilization %", values: rows.map((r) => Number(r.utilizationBps) / 100), stroke: "#2563eb" },
    { label: "stakers' share %", values: rows.map((r) => Number(r.stakersBps) / 100), stroke: "#d97706" },
  ]);
  plot(apr, x, [
    {
      label: "APR %",
      values: rows.map((r) => (r.aprMicroPercent === null || r.aprMicroPercent === undefined ? null : Number(r.aprMicroPercent) / 1e6)),
      stroke: "#059669",
    },
  ]);
}
