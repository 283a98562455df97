// Linking (串并): the link graph of a lead (ECharts graph series). No inline scripts: the data arrives
// in a <script type="application/json"> block written by Django's json_script.
(function () {
  "use strict";

  const COLORS = ["#a61b1b", "#1f4e79", "#333333", "#d08a2c", "#3f7f3a", "#6a56a0", "#8a96a3"];
  const FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif';

  function readData(el) {
    const source = document.getElementById(el.dataset.chart);
    if (!source) return null;
    try { return JSON.parse(source.textContent); } catch (e) { return null; }
  }

  function drawGraph(el) {
    if (!window.echarts) return;
    const data = readData(el);
    if (!data) return;
    const narrow = el.clientWidth < 576;
    const small = data.nodes.length <= 12;  // a few nodes: spread them out and zoom in
    const chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      color: COLORS,
      textStyle: { fontFamily: FONT, fontSize: 12 },
      tooltip: { formatter: (p) => (p.dataType === "node" ? p.data.tooltip : "") },
      legend: [{ data: data.categories.map((c) => c.name), type: "scroll", top: 0, itemWidth: 12, itemHeight: 10 }],
      animationDuration: 300,
      series: [{
        type: "graph",
        layout: "force",
        data: data.nodes.map((n) => Object.assign({}, n, {
          label: { show: n.symbolSize >= 18 || !narrow },
          cursor: n.url ? "pointer" : "default",
        })),
        links: data.links,
        categories: data.categories,
        roam: true,
        draggable: true,
        top: 36,
        zoom: small ? (narrow ? 1.3 : 1.8) : 1,
        label: { position: "right", fontSize: narrow ? 10 : 12, formatter: "{b}" },
        force: {
          repulsion: small ? 300 : (narrow ? 120 : 220),
          edgeLength: small ? [70, 120] : (narrow ? [40, 90] : [60, 140]),
          gravity: 0.08,
        },
        lineStyle: { color: "source", opacity: 0.6, width: 1.2, curveness: 0.08 },
        emphasis: { focus: "adjacency", lineStyle: { width: 3 } },
      }],
    });
    chart.on("click", (p) => {
      if (p.dataType === "node" && p.data.url) window.location.href = p.data.url;
    });
    window.addEventListener("resize", () => chart.resize());
  }

  function init() {
    document.querySelectorAll(".link-graph[data-chart]").forEach(drawGraph);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
