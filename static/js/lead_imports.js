// Import job page: poll the progress endpoint every second and update the bar and counters.
// Without JavaScript the page shows the same figures on each refresh.
(function () {
  "use strict";
  var root = document.getElementById("import-job");
  if (!root || root.dataset.finished === "true") {
    return;
  }
  var bar = document.getElementById("import-progress");

  function render(progress) {
    bar.value = progress.percent;
    bar.textContent = progress.percent + "%";
    root.querySelectorAll("[data-field]").forEach(function (element) {
      var value = progress[element.dataset.field];
      if (value !== undefined) {
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
        if (progress.finished) {
          // The finished page lists the errors and links the report.
          window.location.reload();
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
