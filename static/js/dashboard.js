// Dashboards, live: the header bell counts new notifications; dashboards refetch their body when a booking
// changes (and after a reconnect), and the dashboard's own forms post with fetch and show the outcome in place.
// Server HTML is escaped by Jinja; user text is never assembled into markup here.
(function () {
  "use strict";
  if (!document.body.dataset.userId || !window.fetch) return;
  var liveRegion = document.getElementById("live-region");
  var opened = false;

  function announce(text) {
    if (!liveRegion || !text) return;
    liveRegion.textContent = "";
    window.setTimeout(function () { liveRegion.textContent = text; }, 50);
  }
  function parse(html) { return new DOMParser().parseFromString(html, "text/html"); }

  // --- bell ----------------------------------------------------------------------------------------
  function setBell(n) {
    var bell = document.querySelector("[data-bell]");
    if (!bell) return;
    var badge = bell.querySelector("[data-bell-count]");
    n = Math.max(0, parseInt(n, 10) || 0);
    if (badge) { badge.textContent = String(n); badge.hidden = n === 0; }
    bell.setAttribute("aria-label", "Notifications: " + n + " unread");
  }
  function bellCount() {
    var badge = document.querySelector("[data-bell-count]");
    return badge ? parseInt(badge.textContent, 10) || 0 : 0;
  }
  function refreshBell() {
    return fetch("/notifications/count", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) setBell(data.unread); })
      .catch(function () { /* the next event or reload catches up */ });
  }

  // --- dashboard body ------------------------------------------------------------------------------
  var body = document.querySelector("[data-dashboard]");
  var timer = null;
  var inFlight = false;
  var again = false;

  function partialUrl() {
    var url = new URL(body.dataset.partialUrl, location.href);
    url.searchParams.set("partial", "1");
    return url.toString();
  }
  function busyTyping() {
    // Do not replace a form the person is filling in; refetch once they leave it.
    var active = document.activeElement;
    return active && body.contains(active) && active.matches("input, textarea, select") && active.value;
  }
  function ids(root) {
    var out = {};
    root.querySelectorAll("[data-booking-id]").forEach(function (el) { out[el.dataset.bookingId] = el; });
    return out;
  }
  function refresh(message) {
    if (!body) return;
    if (inFlight) { again = true; return; }
    if (busyTyping()) { again = true; return; }
    inFlight = true;
    fetch(partialUrl(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        var fresh = parse(html).querySelector("[data-dashboard-content]");
        var current = body.querySelector("[data-dashboard-content]");
        if (!fresh || !current) return;
        var before = ids(current);
        var openDetails = [];
        current.querySelectorAll("details[open]").forEach(function (d) {
          var row = d.closest("[data-booking-id]");
          if (row) openDetails.push(row.dataset.bookingId);
        });
        var flash = current.querySelector("[data-dash-flash]");
        var node = document.importNode(fresh, true);
        var newFlash = node.querySelector("[data-dash-flash]");
        if (flash && newFlash) newFlash.replaceWith(flash);
        node.querySelectorAll("[data-booking-id]").forEach(function (el) {
          if (!before[el.dataset.bookingId]) el.classList.add("dash-new");
          if (openDetails.indexOf(el.dataset.bookingId) >= 0) {
            var d = el.querySelector("details");
            if (d) d.open = true;
          }
        });
        current.replaceWith(node);
        if (node.dataset.unreadNotifications !== undefined) setBell(node.dataset.unreadNotifications);
        window.setTimeout(function () {
          node.querySelectorAll(".dash-new").forEach(function (el) { el.classList.remove("dash-new"); });
        }, 2500);
        if (message) announce(message);
      })
      .catch(function () { /* the next event, reconnect or reload catches up */ })
      .then(function () {
        inFlight = false;
        if (again) { again = false; schedule(); }
      });
  }
  function schedule(message) {
    if (!body) return;
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { refresh(message); }, 120);
  }
  if (body) {
    body.addEventListener("focusout", function () { if (again && !inFlight) { again = false; schedule(); } });
  }

  // The dashboard's Accept / Decline / Withdraw / Cancel forms: post, show the server's message here, refetch.
  function showFlashes(doc) {
    var box = body && body.querySelector("[data-dash-flash]");
    if (!box) return "";
    var texts = [];
    box.replaceChildren();
    doc.querySelectorAll("main .alert").forEach(function (alert) {
      if (alert.closest("#message-banner")) return;
      var node = document.importNode(alert, true);
      box.appendChild(node);
      texts.push(alert.textContent.trim());
    });
    return texts.join(" ");
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!body || !form.matches("[data-dash-action]") || !body.contains(form)) return;
    e.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "text/html", "X-CSRFToken": window.live ? window.live.csrf() : "" }
    }).then(function (r) { return r.text(); })
      .then(function (html) {
        var text = showFlashes(parse(html));
        refresh(text);
      })
      .catch(function () {
        // The request may or may not have reached the server: never resend it; show where things stand.
        if (button) button.disabled = false;
        showNetworkError();
        refresh();
      });
  });
  function showNetworkError() {
    var text = "Could not reach the server; reload to see where it stands.";
    var box = body.querySelector("[data-dash-flash]");
    if (box) {
      var alert = document.createElement("div");
      alert.className = "alert alert-warning";
      alert.setAttribute("role", "alert");
      alert.textContent = text;
      box.replaceChildren(alert);
    } else {
      announce(text);
    }
  }

  // --- live events ---------------------------------------------------------------------------------
  var SAY = {
    "booking.requested": "New lesson request.", "booking.confirmed": "A lesson was confirmed.",
    "booking.declined": "A request was declined.", "booking.cancelled": "A booking was cancelled.",
    "booking.expired": "A request expired.", "booking.completed": "A lesson was completed.",
    "booking.no_show": "A lesson was marked as a no-show.", "booking.changed": "A lesson was moved."
  };
  Object.keys(SAY).forEach(function (type) {
    document.addEventListener("live:" + type, function () { schedule("Dashboard updated. " + SAY[type]); });
  });
  document.addEventListener("live:message.sent", function () { schedule(); });
  document.addEventListener("live:message.read", function () { schedule(); });
  document.addEventListener("live:notification.created", function (e) {
    setBell(bellCount() + 1);
    if (!body) announce("New notification: " + ((e.detail && e.detail.text) || ""));
  });
  document.addEventListener("live:open", function () {
    // The first open also catches anything that happened between rendering the page and subscribing.
    var reconnect = opened;
    opened = true;
    if (reconnect) refreshBell();
    schedule(reconnect ? "Dashboard updated after reconnecting." : undefined);
  });
})();
