// The board: drag a card to another open stage. The move posts the card's own
// form (CSRF token, expected stage) to the stage service and asks for JSON; a
// conflict (someone moved the lead first) or a missing requirement is shown and
// the card stays where it was. Without this script each card's Move button works.
(function () {
  "use strict";

  var status = document.getElementById("board-status");
  var dragged = null;

  function say(message, isError) {
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  function updateCard(card, stage, targets) {
    card.dataset.stage = stage;
    var form = card.querySelector("form.card-move");
    if (!form) {
      return;
    }
    form.querySelector('input[name="expected_stage"]').value = stage;
    var select = form.querySelector('select[name="to_stage"]');
    select.innerHTML = "";
    targets.forEach(function (target) {
      var option = document.createElement("option");
      option.value = target[0];
      option.textContent = target[1];
      select.appendChild(option);
    });
    form.hidden = targets.length === 0;
  }

  function bump(column, delta) {
    var count = column.querySelector("h2 .count");
    var value = parseInt(count.textContent, 10);
    if (!isNaN(value) && count.textContent.indexOf("+") === -1) {
      count.textContent = String(value + delta);
    }
  }

  function move(card, column) {
    var form = card.querySelector("form.card-move");
    var data = new FormData(form);
    data.set("to_stage", column.dataset.stage);
    say("Moving…", false);
    fetch(card.dataset.moveUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (!result.ok) {
          say(result.body.message || "The move was refused.", true);
          if (result.body.lead_url) {
            status.append(" ");
            var open = document.createElement("a");
            open.href = result.body.lead_url;
            open.textContent = "Open the lead";
            status.append(open);
          }
          return;
        }
        var from = card.closest(".column");
        column.querySelector(".cards-col").prepend(card);
        bump(from, -1);
        bump(column, 1);
        updateCard(card, result.body.stage, result.body.targets);
        say(result.body.message, false);
      })
      .catch(function () {
        say("The move could not be sent. Use the card's Move button.", true);
      });
  }

  document.querySelectorAll('.card[draggable="true"]').forEach(function (card) {
    card.addEventListener("dragstart", function (event) {
      dragged = card;
      card.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.dataset.lead);
    });
    card.addEventListener("dragend", function () {
      card.classList.remove("dragging");
      dragged = null;
    });
  });

  document.querySelectorAll(".board .column").forEach(function (column) {
    column.addEventListener("dragover", function (event) {
      if (dragged && dragged.dataset.stage !== column.dataset.stage) {
        event.preventDefault();
        column.classList.add("drop-target");
      }
    });
    column.addEventListener("dragleave", function () {
      column.classList.remove("drop-target");
    });
    column.addEventListener("drop", function (event) {
      event.preventDefault();
      column.classList.remove("drop-target");
      if (dragged && dragged.dataset.stage !== column.dataset.stage) {
        move(dragged, column);
      }
    });
  });
})();
