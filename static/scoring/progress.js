// Scoring page: while a bulk rescoring runs, poll its progress and update the bar and counters.
// Without JavaScript the page shows the same figures on each refresh.
(function () {
  "use strict";
  var root = document.getElementById("rescore-run");
  if (!root || root.dataset.finished === "true") {
    return;
  }
  var bar = document.getElementById("rescore-progress");

  function render(progress) {
    bar.value = progress.percent;
    bar.textContent = progress.percent + "%";
    root.querySelectorAll("[data-field]").forEach(function (element) {
      var value = progress[element.dataset.field];
      if (value !== undefined && value !== null) {
        element.textContent = value;
      }
    });
  }

  function poll() {
    fetch(root.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("progress " + response.status);
        }
        return response.json();
      })
      .then(function (progress) {
        render(progress);
        if (progress.finished_at) {
          root.dataset.finished = "true";
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000);
      });
  }

  window.setTimeout(poll, 1000);
})();
