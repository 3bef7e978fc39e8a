// Dashboards: draw the chart from the page's JSON (tables stay the source of truth without JS),
// follow a "recompute now" run, and keep the live view of today fresh by polling.
(function () {
  "use strict";

  function drawChart() {
    var holder = document.getElementById("chart");
    var source = document.getElementById("chart-data");
    if (!holder || !source || typeof Plotly === "undefined") return;
    var chart = JSON.parse(source.textContent);
    var traces;
    if (chart.type === "funnel") {
      traces = [{ type: "funnel", y: chart.labels, x: chart.values, textinfo: "value+percent initial" }];
    } else if (chart.type === "lines") {
      traces = chart.series.map(function (s) {
        return { type: "scatter", mode: "lines+markers", name: s.name, x: chart.x, y: s.values };
      });
    } else {
      traces = [{ type: "bar", name: chart.name, x: chart.labels, y: chart.values }];
    }
    // No mode bar: its look comes from CSS that plotly injects at run time, which the CSP refuses.
    Plotly.newPlot(holder, traces, { margin: { t: 20, r: 10, b: 40, l: 110 }, height: 320 },
      { displayModeBar: false, responsive: true });
  }

  function followRun() {
    var status = document.querySelector(".run-status");
    if (!status) return;
    var url = status.getAttribute("data-status-url");
    var progress = status.querySelector(".run-progress");
    function poll() {
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (run) {
        progress.textContent = run.status + " — step " + run.done + " of " + run.total;
        if (run.status === "done") {
          progress.textContent = "done at " + run.finished_at + " (" + run.duration_ms + " ms); reloading…";
          window.location.reload();
        } else if (run.status === "failed") {
          progress.textContent = "failed: " + run.error;
        } else {
          window.setTimeout(poll, 1500);
        }
      });
    }
    poll();
  }

  function fillRows(tbody, rows) {
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      var name = document.createElement("td");
      name.textContent = row[0];
      var count = document.createElement("td");
      count.className = "num";
      count.textContent = row[1];
      tr.appendChild(name);
      tr.appendChild(count);
      tbody.appendChild(tr);
    });
  }

  function followToday() {
    var live = document.getElementById("live");
    if (!live) return;
    var url = live.getAttribute("data-url");
    function poll() {
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
        live.querySelector(".live-new").textContent = data.new_leads;
        live.querySelector(".live-moves").textContent = data.stage_moves;
        live.querySelector(".live-asof").textContent = data.as_of;
        live.querySelectorAll("tbody[data-key]").forEach(function (tbody) {
          fillRows(tbody, data[tbody.getAttribute("data-key")] || []);
        });
      }).finally(function () { window.setTimeout(poll, 15000); });
    }
    window.setTimeout(poll, 15000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawChart();
    followRun();
    followToday();
  });
})();
