/* Charts of the monthly report (月报) and of a supervisor's landing page, drawn with the vendored
 * Apache ECharts (/static/vendor/echarts/echarts.min.js, loaded before this file).
 *
 * Every element with a data-charts attribute gets charts:
 *   data-charts="figures trend"  what to draw: each figure's breakdown (by its chart kind: bar, pie,
 *                                line) and/or the trend lines of the key figures (one chart per unit)
 *   data-json="ID"               the report as JSON in <script type="application/json" id="ID">
 *   data-report-url="URL"        ... or fetched from this URL (same origin, the page's cookie)
 *   data-keys="k1 k2"            only these figures (optional)
 *   data-lang="zh" | "en"        ECharts' own words (tooltips); the figures' names come in the JSON
 * The report is app.services.reports.model.Report as JSON: figures [{key, name, unit, chart,
 * table: {header, rows}}], trend {key: [[YYYY-MM, value], ...]}.  Each chart is a
 * <div class="report-chart"> holding ECharts' <canvas>; nothing here runs inline (CSP).
 */
(function () {
  "use strict";

  var PALETTE = ["#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452",
                 "#9a60b4", "#ea7ccc"];
  var charts = [];

  function isNumber(v) {
    return typeof v === "number" && isFinite(v);
  }

  function tableOf(figure) {
    var table = figure.table;
    if (!table) { return null; }
    var header = table.header || [];
    var rows = table.rows || [];
    if (!header.length || !rows.length) { return null; }
    return {header: header, rows: rows};
  }

  var TOTALS = ["合计", "总计", "小计", "Total", "total", "All", "all"];

  /* the columns drawn as series: numbers in every row, after the columns naming the row, a
     total column left out where there are others (as app/documents/report_words.py) */
  function numericColumns(table) {
    var out = [];
    for (var i = 1; i < table.header.length; i++) {
      var some = false, all = true;
      for (var r = 0; r < table.rows.length; r++) {
        var v = table.rows[r][i];
        if (isNumber(v)) { some = true; } else if (v !== null && v !== undefined) { all = false; }
      }
      if (some && all) { out.push(i); }
    }
    var parts = out.filter(function (i) { return TOTALS.indexOf(String(table.header[i]).trim()) < 0; });
    return parts.length ? parts : out;
  }

  /* a row's name on the axis: its naming columns (those before the first series) joined */
  function categoryOf(row, labels) {
    return row.slice(0, labels).filter(function (v) { return v !== null && v !== ""; }).join(" ");
  }

  /* a chart's own <div>: the container's full width, or one of data-columns side by side */
  function box(container, key, title) {
    var columns = parseInt(container.getAttribute("data-columns") || "1", 10) || 1;
    var div = document.createElement("div");
    div.className = "report-chart";
    div.setAttribute("data-key", key);
    div.setAttribute("role", "img");
    div.setAttribute("aria-label", title);
    div.style.height = columns > 1 ? "260px" : "320px";
    div.style.marginBottom = "16px";
    if (columns > 1) {
      div.className += " col-md-" + Math.max(1, Math.floor(12 / columns));
    } else {
      div.style.width = "100%";
    }
    container.appendChild(div);
    return div;
  }

  /* title above, legend below: neither covers the other however narrow the chart */
  function grid() {
    return {left: 28, right: 28, top: 48, bottom: 40, containLabel: true};
  }

  function legend() {
    return {type: "scroll", bottom: 0};
  }

  function figureOption(figure, table, columns) {
    var labels = Math.max(1, Math.min.apply(null, columns));
    var categories = table.rows.map(function (r) { return categoryOf(r, labels); });
    var title = {text: figure.name, left: "center", textStyle: {fontSize: 14}};
    if (figure.chart === "pie") {
      var col = columns[0];
      return {
        color: PALETTE, title: title,
        tooltip: {trigger: "item", formatter: "{b}: {c} ({d}%)"},
        legend: {type: "scroll", orient: "vertical", left: "left", top: 32, bottom: 8},
        series: [{type: "pie", radius: ["30%", "62%"], center: ["58%", "56%"],
                  label: {formatter: "{b}: {c}"},
                  data: table.rows.map(function (r) {
                    return {name: categoryOf(r, labels), value: isNumber(r[col]) ? r[col] : 0};
                  })}]
      };
    }
    var kind = figure.chart === "line" ? "line" : "bar";
    return {
      color: PALETTE, title: title, grid: grid(),
      tooltip: {trigger: "axis"},
      legend: legend(),
      xAxis: {type: "category", data: categories, axisLabel: {interval: 0, rotate: categories.length > 8 ? 30 : 0}},
      yAxis: {type: "value", name: figure.unit || ""},
      series: columns.map(function (i) {
        return {name: String(table.header[i]), type: kind,
                data: table.rows.map(function (r) { return isNumber(r[i]) ? r[i] : null; })};
      })
    };
  }

  function trendOption(title, unit, series) {
    var months = [];
    series.forEach(function (s) {
      s.points.forEach(function (p) { if (months.indexOf(p[0]) < 0) { months.push(p[0]); } });
    });
    months.sort();
    return {
      color: PALETTE, title: {text: title, left: "center", textStyle: {fontSize: 14}}, grid: grid(),
      tooltip: {trigger: "axis"},
      legend: legend(),
      xAxis: {type: "category", data: months, boundaryGap: false},
      yAxis: {type: "value", name: unit || ""},
      series: series.map(function (s) {
        var byMonth = {};
        s.points.forEach(function (p) { byMonth[p[0]] = p[1]; });
        return {name: s.name, type: "line", connectNulls: true, symbolSize: 6,
                data: months.map(function (m) { return isNumber(byMonth[m]) ? byMonth[m] : null; })};
      })
    };
  }

  function render(div, option, lang) {
    var chart = window.echarts.init(div, null, {renderer: "canvas", locale: lang === "en" ? "EN" : "ZH"});
    chart.setOption(option);
    charts.push(chart);
    return chart;
  }

  function draw(container, report) {
    var what = (container.getAttribute("data-charts") || "figures trend").split(/\s+/);
    var only = (container.getAttribute("data-keys") || "").split(/\s+/).filter(Boolean);
    var lang = container.getAttribute("data-lang") || "zh";
    var figures = (report.figures || []).filter(function (f) {
      return !only.length || only.indexOf(f.key) >= 0;
    });
    var drawn = 0;
    if (what.indexOf("figures") >= 0) {
      figures.forEach(function (figure) {
        var table = figure.chart ? tableOf(figure) : null;
        var columns = table ? numericColumns(table) : [];
        if (!columns.length) { return; }
        render(box(container, figure.key, figure.name), figureOption(figure, table, columns), lang);
        drawn++;
      });
    }
    if (what.indexOf("trend") >= 0) {
      var trend = report.trend || {};
      var byUnit = {}, units = [];
      figures.forEach(function (figure) {
        var points = trend[figure.key];
        if (!points || !points.length) { return; }
        if (!byUnit[figure.unit]) { byUnit[figure.unit] = []; units.push(figure.unit); }
        byUnit[figure.unit].push({name: figure.name, points: points});
      });
      var word = container.getAttribute("data-trend-title") || (lang === "en" ? "Trend" : "变化趋势");
      units.forEach(function (unit) {
        var title = word + (unit ? "（" + unit + "）" : "");
        render(box(container, "trend-" + unit, title), trendOption(title, unit, byUnit[unit]), lang);
        drawn++;
      });
    }
    container.setAttribute("data-drawn", String(drawn));
  }

  function load(container) {
    var id = container.getAttribute("data-json");
    if (id) {
      var block = document.getElementById(id);
      return Promise.resolve(block ? JSON.parse(block.textContent) : {});
    }
    var url = container.getAttribute("data-report-url");
    if (!url) { return Promise.resolve({}); }
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : {}; });
  }

  function start() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-charts]").forEach(function (container) {
      load(container).then(function (report) { draw(container, report || {}); })
        .catch(function (error) {
          container.setAttribute("data-drawn", "0");
          if (window.console) { window.console.warn("charts not drawn:", error); }
        });
    });
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 100);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
