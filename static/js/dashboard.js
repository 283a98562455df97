// Dashboard charts (ECharts), filter behaviour and export progress. No inline scripts: chart data
// arrives in <script type="application/json"> blocks written by Django's json_script.
(function () {
  "use strict";

  const PALETTE = ["#a61b1b", "#1f4e79", "#d08a2c", "#3f7f3a", "#6a56a0", "#2f7f86",
    "#8c6d1f", "#b35d87", "#5b6770", "#9aa3ad"];
  const FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif';
  const BASE = {
    color: PALETTE,
    textStyle: { fontFamily: FONT, fontSize: 12, color: "#333" },
    // No animation: figures are read and printed, and a redraw after a filter change is instant.
    animation: false,
  };

  function readData(el) {
    const source = document.getElementById(el.dataset.chart);
    if (!source) return null;
    try { return JSON.parse(source.textContent); } catch (e) { return null; }
  }

  function pct(v) { return v === null || v === undefined ? "—" : v + "%"; }

  const BUILDERS = {
    stages(d) {
      return {
        grid: { left: 110, right: 40, top: 10, bottom: 24 },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
          valueFormatter: (v) => (v === null || v === undefined ? "—" : v + " 天") },
        xAxis: { type: "value", name: "天", nameGap: 4, splitLine: { lineStyle: { color: "#eee" } } },
        yAxis: { type: "category", data: d.labels, inverse: true, axisTick: { show: false } },
        series: [{ type: "bar", data: d.values, barMaxWidth: 22, itemStyle: { color: "#1f4e79" },
          label: { show: true, position: "right", formatter: (p) => (p.value === null ? "—" : p.value) } }],
      };
    },
    results(d) {
      const colors = { substantiated: "#a61b1b", partly: "#d08a2c", unsubstantiated: "#8a96a3",
        cannot_verify: "#c7ced6", pending: "#e9ecef" };
      return {
        tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
        legend: { bottom: 0, type: "scroll", itemWidth: 12, itemHeight: 10 },
        series: [{ type: "pie", radius: ["42%", "68%"], center: ["50%", "44%"],
          label: { formatter: "{b}\n{c}", fontSize: 11 },
          data: d.items.map((i) => ({ name: i.name, value: i.value, itemStyle: { color: colors[i.key] } })) }],
      };
    },
    channels(d) {
      const series = d.series.map((s) => ({ name: s.name, type: "bar", stack: "tips", data: s.data,
        barMaxWidth: 28, emphasis: { focus: "series" } }));
      series.push({ name: d.online_label, type: "line", yAxisIndex: 1, data: d.online_share, smooth: true,
        symbolSize: 5, lineStyle: { width: 2.5, color: "#111" }, itemStyle: { color: "#111" }, z: 5 });
      return {
        grid: { left: 48, right: 52, top: 36, bottom: d.buckets.length > 14 ? 78 : 56 },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { type: "scroll", top: 0, itemWidth: 12, itemHeight: 10 },
        xAxis: { type: "category", data: d.buckets, axisLabel: { hideOverlap: true } },
        yAxis: [
          { type: "value", name: "件", minInterval: 1, splitLine: { lineStyle: { color: "#eee" } } },
          { type: "value", name: "%", min: 0, max: 100, splitLine: { show: false } },
        ],
        dataZoom: d.buckets.length > 14 ? [{ type: "slider", height: 16, bottom: 8 }] : [],
        series,
      };
    },
    matrix(d) {
      const max = Math.max(d.max, 1);
      const step = Math.max(1, Math.ceil(max / 4));
      const ranges = [];
      for (let lo = 1; lo <= max && ranges.length < 4; lo += step) ranges.push([lo, Math.min(max, lo + step - 1)]);
      // The highest range always gets the darkest blue, as in the table below the chart.
      const blues = ["#c6dbef", "#9ecae1", "#4292c6", "#1f4e79"].slice(4 - ranges.length);
      const pieces = [{ value: 0, color: "#f2c4c4", label: "0 " + d.labels.blind }].concat(
        ranges.map(([lo, hi], i) => ({ min: lo, max: hi, color: blues[i] })));
      return {
        grid: { left: 80, right: 16, top: 10, bottom: 64 },
        tooltip: { formatter: (p) => `${d.sectors[p.value[1]]} · ${d.regions[p.value[0]]}<br>` +
          `${d.labels.found}：${p.value[2]} / ${d.labels.registered}：${p.value[3]}` },
        xAxis: { type: "category", data: d.regions, splitArea: { show: true }, axisLabel: { interval: 0, rotate: d.regions.length > 8 ? 30 : 0 } },
        yAxis: { type: "category", data: d.sectors, inverse: true, splitArea: { show: true } },
        visualMap: { type: "piecewise", dimension: 2, pieces, orient: "horizontal", left: "center", bottom: 0,
          itemWidth: 14, itemHeight: 10, textStyle: { fontSize: 11 } },
        series: [{ type: "heatmap", data: d.cells,
          label: { show: true, formatter: (p) => p.value[2], color: "#111", textBorderColor: "#fff", textBorderWidth: 2 },
          itemStyle: { borderColor: "#fff", borderWidth: 1 } }],
      };
    },
    units(d) {
      // Two panels side by side on one unit axis: the rate (0–100 %) and the overdue count.
      const axisY = (gridIndex, labels) => ({ type: "category", gridIndex, data: d.units, inverse: true,
        axisTick: { show: false }, axisLabel: { show: labels } });
      return {
        grid: [{ left: 120, right: "42%", top: 34, bottom: 8 }, { left: "62%", right: 24, top: 34, bottom: 8 }],
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        xAxis: [
          { type: "value", gridIndex: 0, min: 0, max: 100, position: "top", name: d.labels.rate,
            nameLocation: "middle", nameGap: 22, splitLine: { lineStyle: { color: "#eee" } } },
          { type: "value", gridIndex: 1, minInterval: 1, position: "top", name: d.labels.overdue,
            nameLocation: "middle", nameGap: 22, splitLine: { lineStyle: { color: "#eee" } } },
        ],
        yAxis: [axisY(0, true), axisY(1, false)],
        series: [
          { name: d.labels.rate, type: "bar", xAxisIndex: 0, yAxisIndex: 0, data: d.on_time_rate, barMaxWidth: 14,
            itemStyle: { color: "#1f4e79" }, label: { show: true, position: "right", formatter: (p) => pct(p.value), fontSize: 10 } },
          { name: d.labels.overdue, type: "bar", xAxisIndex: 1, yAxisIndex: 1, data: d.overdue, barMaxWidth: 14,
            itemStyle: { color: "#a61b1b" }, label: { show: true, position: "right", fontSize: 10 } },
        ],
      };
    },
  };

  function renderCharts(root) {
    if (typeof window.echarts === "undefined") return;
    (root || document).querySelectorAll("[data-chart]").forEach((el) => {
      const data = readData(el);
      if (!data || !BUILDERS[data.type]) return;
      const existing = window.echarts.getInstanceByDom(el);
      if (existing) existing.dispose();
      // A bar per unit: the chart is as tall as the list it shows.
      if (data.type === "units") el.style.height = Math.max(180, 60 + 30 * data.units.length) + "px";
      const chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(Object.assign({}, BASE, BUILDERS[data.type](data)));
      // Tests and printing look for this: which data the chart was last drawn from.
      el.dataset.rendered = String(Date.now());
      el.dataset.digest = el.dataset.chart + ":" + JSON.stringify(data).length;
    });
  }

  function resizeCharts() {
    if (typeof window.echarts === "undefined") return;
    document.querySelectorAll("[data-chart]").forEach((el) => {
      const chart = window.echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  }

  // The phase select only matters for period=phase, the dates only for a custom period.
  function togglePeriodFields(root) {
    const form = (root || document).querySelector("#dash-filters");
    if (!form) return;
    const period = form.querySelector("[name=period]");
    const value = period ? period.value : "";
    form.querySelectorAll("[data-show-for]").forEach((el) => {
      const show = el.dataset.showFor === value || (el.dataset.showFor === "phase" && value === "");
      el.hidden = !show;
    });
  }

  // --- export jobs: poll the status endpoint until the file is ready --------------------------------
  function pollJob(item) {
    const url = item.dataset.statusUrl;
    const bar = item.querySelector(".progress-bar");
    const label = item.querySelector("[data-job-label]");
    const action = item.querySelector("[data-job-action]");
    const tick = () => {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
        .then((s) => {
          item.dataset.status = s.status;
          if (label) label.textContent = s.status_label;
          if (bar) {
            bar.style.width = s.progress + "%";
            bar.textContent = s.progress + "%";
            bar.parentElement.setAttribute("aria-valuenow", String(s.progress));
          }
          if (s.status === "done") {
            if (bar) bar.parentElement.remove();
            const link = document.createElement("a");
            link.className = "btn btn-sm btn-success";
            link.href = s.download_url;
            link.dataset.download = "";
            link.innerHTML = '<i class="bi bi-download"></i> ';
            link.append(document.createTextNode(item.dataset.downloadLabel || "下载"));
            action.replaceChildren(link);
          } else if (s.status === "failed" || s.status === "expired") {
            if (bar) bar.parentElement.remove();
            const err = document.createElement("span");
            err.className = "text-danger small";
            err.textContent = s.error || s.status_label;
            action.replaceChildren(err);
          } else {
            window.setTimeout(tick, 1200);
          }
        })
        .catch(() => window.setTimeout(tick, 5000));
    };
    tick();
  }

  function startPolling(root) {
    (root || document).querySelectorAll("[data-status-url]").forEach((item) => {
      if (item.dataset.polling) return;
      if (item.dataset.status === "pending" || item.dataset.status === "running") {
        item.dataset.polling = "1";
        pollJob(item);
      }
    });
  }

  function init(root) {
    togglePeriodFields(root);
    renderCharts(root);
    startPolling(root);
  }

  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:afterSettle", () => init(document));
  document.addEventListener("change", (event) => {
    if (event.target.matches("#dash-filters [name=period]")) togglePeriodFields(document);
  });
  // Choosing "custom" (or one of its dates) does not query until both dates are there.
  document.addEventListener("htmx:confirm", (event) => {
    const form = event.detail.elt;
    if (!form || form.id !== "dash-filters") return;
    const period = form.querySelector("[name=period]");
    if (period && period.value === "custom") {
      const from = form.querySelector("[name=date_from]");
      const to = form.querySelector("[name=date_to]");
      if (!from.value || !to.value) event.preventDefault();
    }
  });
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(resizeCharts, 150);
  });
  window.addEventListener("beforeprint", resizeCharts);
})();
