// Dashboards, live: the header bell counts new notifications; after live.js redraws a dashboard, new rows are
// marked and the change is announced; the dashboard's own forms post with fetch and show the outcome in place.
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

  // --- dashboard body (live.js redraws it; here: mark new rows, follow the bell, say what changed) -----
  var body = document.querySelector("[data-dashboard]");
  var pending = null;
  if (body) {
    body.addEventListener("live:swapped", function (e) {
      var before = {};
      e.detail.previous.querySelectorAll("[data-booking-id]").forEach(function (el) { before[el.dataset.bookingId] = true; });
      var fresh = body.querySelectorAll("[data-booking-id]");
      fresh.forEach(function (el) { if (!before[el.dataset.bookingId]) el.classList.add("dash-new"); });
      window.setTimeout(function () { fresh.forEach(function (el) { el.classList.remove("dash-new"); }); }, 2500);
      var content = body.querySelector("[data-dashboard-content]");
      if (content && content.dataset.unreadNotifications !== undefined) setBell(content.dataset.unreadNotifications);
      if (pending) { announce(pending); pending = null; }
    });
  }
  function refresh(message) {
    if (!body) return;
    if (message) pending = message;
    window.live.refresh(body);
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
    window.live.postForm(form).then(function (r) { return r.text(); })
      .then(function (html) { refresh(showFlashes(window.live.parse(html))); })
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
    document.addEventListener("live:" + type, function () { pending = "Dashboard updated. " + SAY[type]; });
  });
  document.addEventListener("live:notification.created", function (e) {
    setBell(bellCount() + 1);
    if (!body) announce("New notification: " + ((e.detail && e.detail.text) || ""));
  });
  document.addEventListener("live:open", function () {
    // live.js redraws the dashboard on every open; after a reconnect the bell and the announcement follow.
    if (opened) { refreshBell(); pending = "Dashboard updated after reconnecting."; }
    opened = true;
  });
})();
