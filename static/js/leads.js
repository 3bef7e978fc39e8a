// Lead list and lead page: select-all for bulk actions, and logging an activity
// without a page load (the server answers with the refreshed timeline). Without
// this script every form still posts the ordinary way.
(function () {
  "use strict";

  document.querySelectorAll("input.select-all").forEach(function (master) {
    var form = master.closest("form");
    master.addEventListener("change", function () {
      form.querySelectorAll('input[type="checkbox"][name="lead"]').forEach(function (box) {
        box.checked = master.checked;
      });
    });
  });

  var logForm = document.querySelector("form.log-form");
  var timeline = document.getElementById("timeline");
  if (!logForm || !timeline || !window.fetch) {
    return;
  }
  logForm.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || button.name !== "kind") {
      return;
    }
    event.preventDefault();
    var data = new FormData(logForm);
    data.set("kind", button.value);
    button.disabled = true;
    fetch(logForm.getAttribute("action"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Partial": "timeline" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("rejected");
        }
        return response.text();
      })
      .then(function (html) {
        timeline.innerHTML = html;
        logForm.reset();
        button.disabled = false;
      })
      .catch(function () {
        // Let the server render the page with the field errors.
        button.disabled = false;
        var kind = document.createElement("input");
        kind.type = "hidden";
        kind.name = "kind";
        kind.value = button.value;
        logForm.appendChild(kind);
        HTMLFormElement.prototype.submit.call(logForm);
      });
  });
})();
