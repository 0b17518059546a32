// The analytics dashboard (admins): messages and active users per day, volume per bot,
// latency, tokens, feedback and top terms, drawn with uPlot from /api/admin/analytics.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { errorMessage, request } from "./api";
import { h } from "./dom";
import { topbar } from "./layout";

export interface AnalyticsReport {
  search_engine: string;
  messages: number;
  active_users: number;
  tokens: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  feedback_up: number;
  feedback_down: number;
  feedback_ratio: number | null;
  days: { day: string; messages: number; active_users: number }[];
  bots: { bot_id: string; bot_name: string; messages: number }[];
  top_terms: { term: string; messages: number }[];
}

const num = new Intl.NumberFormat();

function stat(label: string, value: string, id: string): HTMLElement {
  return h("div", { class: "stat-card", "data-stat": id }, h("div", { class: "stat-value" }, value), h("div", { class: "stat-label muted" }, label));
}

function ms(value: number | null): string {
  return value === null ? "–" : `${num.format(Math.round(value))} ms`;
}

function dayChart(el: HTMLElement, report: AnalyticsReport): uPlot {
  const xs = report.days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
  return new uPlot(
    {
      width: Math.max(320, el.clientWidth || 640),
      height: 240,
      // A day's point sits in the middle of a span of at least three days.
      scales: { x: { time: true, auto: false, range: () => [xs[0] - 86400, xs[xs.length - 1] + 86400] } },
      series: [
        {},
        { label: "Messages", stroke: "#6366f1", width: 2, points: { show: true } },
        { label: "Active users", stroke: "#10b981", width: 2, points: { show: true } },
      ],
      axes: [{}, {}],
    },
    [xs, report.days.map((d) => d.messages), report.days.map((d) => d.active_users)],
    el,
  );
}

function botChart(el: HTMLElement, report: AnalyticsReport): uPlot {
  const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 64] }) : undefined;
  const names = report.bots.map((b) => b.bot_name || "(none)");
  return new uPlot(
    {
      width: Math.max(320, el.clientWidth || 640),
      height: 240,
      scales: { x: { time: false, auto: false, range: () => [-0.5, names.length - 0.5] } },
      series: [{}, { label: "Messages", fill: "#6366f180", stroke: "#6366f1", paths: bars, points: { show: false } }],
      axes: [{ values: (_u, ticks) => ticks.map((t) => names[t] ?? "") , incrs: [1] }, {}],
    },
    [report.bots.map((_, i) => i), report.bots.map((b) => b.messages)],
    el,
  );
}

export function renderDashboard(main: HTMLElement): () => void {
  let disposed = false;
  const charts: uPlot[] = [];
  const body = h("div", { class: "dashboard", id: "dashboard" }, h("div", { class: "loading" }, h("div", { class: "spinner" }), "Counting…"));
  main.replaceChildren(
    h(
      "section",
      { class: "page" },
      topbar("Analytics", h("a", { class: "btn small", href: "/api/admin/analytics", target: "_blank", rel: "noopener" }, "JSON")),
      h("div", { class: "page-scroll" }, h("div", { class: "page-inner wide" }, h("div", { class: "page-head" }, h("h1", null, "Analytics")), body)),
    ),
  );

  const show = (r: AnalyticsReport) => {
    const ratio = r.feedback_ratio === null ? "–" : `${Math.round(r.feedback_ratio * 100)}% 👍`;
    const perDay = h("div", { class: "chart", id: "chart-days" });
    const perBot = h("div", { class: "chart", id: "chart-bots" });
    body.replaceChildren(
      h(
        "div",
        { class: "stat-grid" },
        stat("messages", num.format(r.messages), "messages"),
        stat("active users", num.format(r.active_users), "active_users"),
        stat("tokens generated", num.format(r.tokens), "tokens"),
        stat("latency p50", ms(r.latency_p50_ms), "p50"),
        stat("latency p95", ms(r.latency_p95_ms), "p95"),
        stat(`feedback (${r.feedback_up} up, ${r.feedback_down} down)`, ratio, "feedback"),
      ),
      h("h2", { class: "section-title" }, "Messages and active users per day"),
      perDay,
      h("h2", { class: "section-title" }, "Messages per bot"),
      perBot,
      h("h2", { class: "section-title" }, "Top terms"),
      h("ol", { class: "term-list", id: "top-terms" }, r.top_terms.map((t) => h("li", null, h("span", null, t.term), h("span", { class: "muted" }, num.format(t.messages))))),
      h("p", { class: "muted" }, `From the ${r.search_engine} search view.`),
    );
    if (r.days.length) charts.push(dayChart(perDay, r));
    if (r.bots.length) charts.push(botChart(perBot, r));
  };

  request<AnalyticsReport>("GET", "/api/admin/analytics")
    .then((r) => !disposed && show(r))
    .catch((err) => {
      if (!disposed) body.replaceChildren(h("div", { class: "inline-error standalone", role: "alert" }, `Couldn't load analytics: ${errorMessage(err)}`));
    });
  return () => {
    disposed = true;
    for (const c of charts) c.destroy();
  };
}
