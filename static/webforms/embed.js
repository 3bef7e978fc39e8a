/* LeadTrack form embed: renders the forms queued in window.LeadTrackForms (one per script tag,
   the definition is prepended by /f/<key>.js) and posts them with fetch. No dependencies, no CDN.
   Hidden fields carry the visit: UTM parameters and the page from location, the referrer from
   document.referrer, the first-party visitor id from the lt_vid cookie of the tracking script. */
(function () {
  "use strict";

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) {
        try { return decodeURIComponent(parts[i].slice(eq + 1)); } catch (e) { return ""; }
      }
    }
    return "";
  }

  function trackingValues() {
    var params = new URLSearchParams(window.location.search);
    var values = { lt_vid: cookie("lt_vid"), page_url: window.location.href, referrer: document.referrer || "" };
    ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"].forEach(function (name) {
      values[name] = params.get(name) || "";
    });
    return values;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function hidden(form, name, value) {
    var input = form.querySelector('input[name="' + name + '"]') || form.appendChild(el("input", { type: "hidden", name: name }));
    if (value && !input.value) { input.value = value; }
  }

  function showErrors(form, errors) {
    Array.prototype.forEach.call(form.querySelectorAll(".lt-error"), function (node) { node.remove(); });
    Object.keys(errors).forEach(function (name) {
      var message = el("span", { "class": "lt-error", role: "alert" }, errors[name].join(" "));
      message.style.color = "#b00020";
      message.style.display = "block";
      var input = form.querySelector('[name="' + name + '"]');
      if (input && input.type !== "hidden") {
        input.setAttribute("aria-invalid", "true");
        (input.closest(".lt-field") || input.parentNode).appendChild(message);
      } else {
        form.insertBefore(message, form.firstChild);
      }
    });
  }

  function render(config, container) {
    var form = el("form", { method: "post", action: config.action, "class": "lt-form", "data-leadtrack-form": config.key, novalidate: "" });
    config.fields.forEach(function (field) {
      var id = "lt-" + config.key + "-" + field.name;
      var row = el("div", { "class": "lt-field" });
      row.appendChild(el("label", { "for": id }, field.label + (field.required ? " *" : "")));
      row.appendChild(document.createElement("br"));
      var input = field.type === "textarea" ? el("textarea", { id: id, name: field.name }) : el("input", { id: id, name: field.name, type: field.type });
      if (field.required) { input.required = true; }
      row.appendChild(input);
      form.appendChild(row);
    });
    if (config.consent) {
      var consentRow = el("div", { "class": "lt-field lt-consent" });
      var label = el("label");
      var box = el("input", { type: "checkbox", name: "consent", value: "yes" });
      if (config.consent.required) { box.required = true; }
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + config.consent.text));
      consentRow.appendChild(label);
      form.appendChild(consentRow);
    }
    var trap = el("div", { "aria-hidden": "true" });
    trap.style.position = "absolute";
    trap.style.left = "-10000px";
    trap.style.width = "1px";
    trap.style.height = "1px";
    trap.style.overflow = "hidden";
    var trapLabel = el("label", {}, "Leave this field empty ");
    trapLabel.appendChild(el("input", { name: config.honeypot, tabindex: "-1", autocomplete: "off" }));
    trap.appendChild(trapLabel);
    form.appendChild(trap);
    form.appendChild(el("input", { type: "hidden", name: config.stampField, value: config.stamp }));
    var values = trackingValues();
    config.tracking.forEach(function (name) { hidden(form, name, values[name]); });
    var button = el("button", { type: "submit" }, config.submit);
    form.appendChild(button);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      fetch(config.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "application/json" },
        mode: "cors",
        credentials: "omit"
      }).then(function (response) {
        return response.json().then(function (body) { return { status: response.status, body: body }; });
      }).then(function (answer) {
        if (answer.status === 200) {
          if (answer.body.redirect_url) { window.location.assign(answer.body.redirect_url); return; }
          var thanks = el("p", { "class": "lt-thanks", role: "status" }, answer.body.message);
          form.parentNode.replaceChild(thanks, form);
          return;
        }
        showErrors(form, answer.body.errors || { __all__: [answer.body.detail || "The form could not be sent."] });
        button.disabled = false;
      }).catch(function () {
        showErrors(form, { __all__: ["The form could not be sent. Please try again."] });
        button.disabled = false;
      });
    });
    container.appendChild(form);
  }

  function start() {
    var queue = window.LeadTrackForms || [];
    while (queue.length) {
      var config = queue.shift();
      var containers = document.querySelectorAll('[data-leadtrack-embed="' + config.key + '"]:not([data-leadtrack-rendered])');
      for (var i = 0; i < containers.length; i++) {
        containers[i].setAttribute("data-leadtrack-rendered", "");
        render(config, containers[i]);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
