/*
 * LeadTrack first-party visit tracking. Served as /t/<site-key>.js with the site's settings
 * filled in below; no third party, no CDN. Paste on every page:
 *
 *   <script async src="https://<leadtrack>/t/<site-key>.js"></script>
 *
 * What it does, on each page view:
 *   - keeps a visitor id in a first-party cookie `lt_vid` (and localStorage) on your site;
 *   - keeps the visit's landing UTM parameters and referrer for 30 minutes of inactivity;
 *   - sends {event_id, visitor_id, url, referrer, utm_*} with navigator.sendBeacon as
 *     text/plain JSON (no CORS preflight), else fetch (keepalive), else an image request;
 *   - fills the hidden inputs lt_vid, utm_source, utm_medium, utm_campaign, utm_term,
 *     utm_content, page_url and referrer of every <form data-leadtrack-form>.
 *
 * It does nothing at all (no cookie, no request) when:
 *   - the site honours Do-Not-Track and the browser says navigator.doNotTrack === "1";
 *   - the site requires consent and the page has not given it. The page gives consent with
 *       window.leadtrack("consent", true)        (false withdraws it and forgets the visitor id)
 *     or the attribute  <html data-leadtrack-consent="granted">  present when the script loads.
 *     Calls made before the script loaded are queued by this stub, placed before the tag:
 *       <script>window.leadtrack=window.leadtrack||function(){(window.leadtrack.q=window.leadtrack.q||[]).push(arguments)};</script>
 *     Consent is remembered in localStorage (`lt_consent`) for the next pages.
 *   - window.leadtrack("pageview") records a page view by hand (single-page applications).
 */
(function () {
  "use strict";
  var config = /*LEADTRACK_CONFIG*/ null;
  if (!config || window.__leadtrackLoaded) return;
  window.__leadtrackLoaded = true;

  var VISITOR_KEY = "lt_vid";
  var VISIT_KEY = "lt_visit";
  var CONSENT_KEY = "lt_consent";
  var VISIT_TIMEOUT_MS = 30 * 60 * 1000;
  var TWO_YEARS_S = 2 * 365 * 24 * 3600;
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];

  function storageGet(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function storageSet(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode: cookie only */ }
  }
  function storageRemove(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* nothing stored */ }
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += ("0" + bytes[i].toString(16)).slice(-2);
    return out;
  }

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return null;
  }

  function writeCookie(name, value, maxAge) {
    var secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie = name + "=" + encodeURIComponent(value) + "; Max-Age=" + maxAge + "; Path=/; SameSite=Lax" + secure;
  }

  var validId = /^[A-Za-z0-9_-]{8,64}$/;

  function visitorId() {
    var id = readCookie(VISITOR_KEY) || storageGet(VISITOR_KEY);
    if (!id || !validId.test(id)) id = randomId();
    writeCookie(VISITOR_KEY, id, TWO_YEARS_S);
    storageSet(VISITOR_KEY, id);
    return id;
  }

  function forgetVisitor() {
    writeCookie(VISITOR_KEY, "", 0);
    storageRemove(VISITOR_KEY);
    storageRemove(VISIT_KEY);
  }

  function doNotTrack() {
    return config.honourDoNotTrack && (navigator.doNotTrack === "1" || window.doNotTrack === "1");
  }

  var consent = null; // true / false once the page said so; null = not said
  function consented() {
    if (!config.requireConsent) return true;
    if (consent !== null) return consent;
    if (storageGet(CONSENT_KEY) === "1") return true;
    return document.documentElement.getAttribute("data-leadtrack-consent") === "granted";
  }

  function landingUtm() {
    var params = new URLSearchParams(window.location.search);
    var utm = {};
    var tagged = false;
    UTM.forEach(function (name) {
      utm[name] = (params.get(name) || "").slice(0, 200);
      if (utm[name]) tagged = true;
    });
    return tagged ? utm : null;
  }

  // The visit: its landing UTM and referrer are kept while pages follow within 30 minutes;
  // a new campaign in the URL starts a new visit (the server applies the same rule).
  function currentVisit() {
    var now = Date.now();
    var visit = null;
    try { visit = JSON.parse(storageGet(VISIT_KEY) || "null"); } catch (e) { visit = null; }
    var utm = landingUtm();
    var sameCampaign = !utm || (visit && visit.utm &&
      visit.utm.utm_source === utm.utm_source && visit.utm.utm_campaign === utm.utm_campaign);
    if (!visit || now - visit.last > VISIT_TIMEOUT_MS || !sameCampaign) {
      visit = { utm: utm || {}, referrer: document.referrer || "" };
    }
    visit.last = now;
    storageSet(VISIT_KEY, JSON.stringify(visit));
    return visit;
  }

  function send(payload) {
    var body = JSON.stringify(payload);
    if (navigator.sendBeacon) {
      try {
        if (navigator.sendBeacon(config.endpoint, body)) return;
      } catch (e) { /* fall through */ }
    }
    if (window.fetch) {
      window.fetch(config.endpoint, {
        method: "POST", body: body, keepalive: true, mode: "no-cors", credentials: "omit",
        headers: { "Content-Type": "text/plain" }
      }).catch(function () { /* nothing more to try */ });
      return;
    }
    new Image().src = config.endpoint + "?d=" + encodeURIComponent(body);
  }

  function fillForm(form, vid, visit) {
    var values = { lt_vid: vid, page_url: window.location.href, referrer: visit.referrer || document.referrer || "" };
    UTM.forEach(function (name) { values[name] = visit.utm[name] || ""; });
    Object.keys(values).forEach(function (name) {
      var input = form.querySelector('input[name="' + name + '"]');
      if (!input) {
        input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        form.appendChild(input);
      }
      input.value = values[name];
    });
  }

  function fillForms() {
    if (doNotTrack() || !consented()) return;
    var vid = visitorId();
    var visit = currentVisit();
    var forms = document.querySelectorAll("form[data-leadtrack-form]");
    for (var i = 0; i < forms.length; i++) fillForm(forms[i], vid, visit);
  }

  var recorded = false;
  function pageView(force) {
    if (doNotTrack() || !consented() || (recorded && !force)) return;
    recorded = true;
    var visit = currentVisit();
    var event = {
      event_id: randomId(),
      visitor_id: visitorId(),
      url: window.location.href,
      referrer: document.referrer || ""
    };
    UTM.forEach(function (name) { event[name] = visit.utm[name] || ""; });
    send(event);
    fillForms();
  }

  function command(name, value) {
    if (name === "consent") {
      consent = value === true;
      if (consent) {
        storageSet(CONSENT_KEY, "1");
        pageView(false);
      } else {
        storageRemove(CONSENT_KEY);
        forgetVisitor();
      }
    } else if (name === "pageview") {
      pageView(true);
    }
  }

  var queued = (window.leadtrack && window.leadtrack.q) || [];
  window.leadtrack = function () { command(arguments[0], arguments[1]); };
  for (var i = 0; i < queued.length; i++) command(queued[i][0], queued[i][1]);

  // Forms rendered after load (the forms script) are filled when they are submitted.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.hasAttribute && form.hasAttribute("data-leadtrack-form") && !doNotTrack() && consented()) {
      fillForm(form, visitorId(), currentVisit());
    }
  }, true);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { pageView(false); });
  } else {
    pageView(false);
  }
})();
