/* The iframe page of a LeadTrack form: the embedding page is the page the visitor is on.
   Fills the hidden page and visitor fields when nothing (the tracking script) filled them. */
(function () {
  "use strict";
  var framed = window.parent !== window;
  Array.prototype.forEach.call(document.querySelectorAll("form[data-leadtrack-form]"), function (form) {
    var page = form.querySelector('input[name="page_url"]');
    if (page && !page.value && framed && document.referrer) { page.value = document.referrer; }
    var params = new URLSearchParams(window.location.search);
    ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "lt_vid"].forEach(function (name) {
      var input = form.querySelector('input[name="' + name + '"]');
      if (input && !input.value && params.get(name)) { input.value = params.get(name); }
    });
  });
})();
