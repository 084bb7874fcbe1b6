// Book page: confirm dialog posting by fetch, and live refresh of the calendar, booking page and lists.
(function () {
  "use strict";
  var live = document.getElementById("live-region");
  function say(text) { if (live) { live.textContent = ""; window.setTimeout(function () { live.textContent = text; }, 50); } }

  // Swap new HTML into a region, keeping what the person was doing: open <details>, typed text, focus.
  function swap(region, html) {
    var open = Array.prototype.map.call(region.querySelectorAll("details[open][id]"), function (d) { return d.id; });
    var typed = {};
    region.querySelectorAll("textarea[id], input[id]:not([type=hidden])").forEach(function (f) { if (f.value) typed[f.id] = f.value; });
    var focused = document.activeElement && region.contains(document.activeElement) ? document.activeElement.id : "";
    region.innerHTML = html;
    open.forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
    Object.keys(typed).forEach(function (id) { var f = document.getElementById(id); if (f) f.value = typed[id]; });
    if (focused) { var f = document.getElementById(focused); if (f) f.focus(); }
  }

  // Fetch a region's partial URL and swap it in; a newer refresh supersedes an older one.
  function refresher(region) {
    var seq = 0;
    return function (url) {
      var mine = ++seq;
      return fetch(url || region.dataset.partialUrl, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
        .then(function (html) { if (mine === seq) swap(region, html); })
        .catch(function () { /* the page still works; the next event or a reload catches up */ });
    };
  }

  // Run fn whenever the live stream (re)opens: it covers changes made before it connected or while it was down.
  function onReconnect(fn) {
    document.addEventListener("live:open", function () { fn(); });
  }
  var bookingTypes = ["booking.requested", "booking.confirmed", "booking.declined", "booking.cancelled",
    "booking.expired", "booking.completed", "booking.no_show", "booking.changed"];

  // --- the book page ---
  var panel = document.getElementById("book-panel");
  if (panel) {
    var refreshPanel = refresher(panel);
    var timer = null;
    var later = function () { window.clearTimeout(timer); timer = window.setTimeout(function () { refreshPanel(); }, 100); };
    bookingTypes.concat(["availability.changed"]).forEach(function (type) { document.addEventListener("live:" + type, later); });
    onReconnect(later);  // catch up after a dropped connection

    // Month, day, length and timezone links update the panel in place and keep the address shareable.
    panel.addEventListener("click", function (e) {
      var nav = e.target.closest("a[data-nav]");
      if (nav && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
        e.preventDefault();
        var url = new URL(nav.href, location.href);
        history.pushState(null, "", url);
        var partial = new URL(url); partial.searchParams.set("partial", "1");
        panel.dataset.partialUrl = partial.pathname + partial.search;
        refreshPanel().then(function () { var h = document.getElementById("day-heading"); if (h) say(h.textContent); });
      }
    });
    window.addEventListener("popstate", function () {
      var partial = new URL(location.href); partial.searchParams.set("partial", "1");
      panel.dataset.partialUrl = partial.pathname + partial.search;
      refreshPanel();
    });

    var dialog = document.getElementById("confirm-dialog");
    if (dialog && typeof dialog.showModal === "function") {
      var form = document.getElementById("confirm-form");
      var error = document.getElementById("confirm-error");
      var lastSlot = null;
      var field = function (name) { return form.querySelector('[name="' + name + '"]'); };
      panel.addEventListener("click", function (e) {
        var slot = e.target.closest("a.slot[data-start]");
        if (!slot || e.ctrlKey || e.metaKey || e.shiftKey) return;
        e.preventDefault();
        lastSlot = slot;
        document.getElementById("confirm-question").textContent = slot.dataset.sentence;
        // Named lookups: form.elements.length is the form's element count, not the field.
        field("instructor").value = slot.dataset.instructor;
        field("start").value = slot.dataset.start;
        field("length").value = slot.dataset.length || "";
        error.classList.add("d-none");
        dialog.showModal();
        field("notes").focus();
      });
      dialog.querySelector("[data-close]").addEventListener("click", function () { dialog.close(); });
      dialog.addEventListener("close", function () { if (lastSlot && document.body.contains(lastSlot)) lastSlot.focus(); });
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var button = form.querySelector("button[type=submit]");
        button.disabled = true;
        fetch(form.action, {
          method: "POST", body: new FormData(form), credentials: "same-origin",
          headers: { "Accept": "application/json", "X-CSRFToken": window.live ? window.live.csrf() : "" }
        }).then(function (r) {
          return r.json().then(function (body) { return { ok: r.ok, body: body }; });
        }).then(function (res) {
          button.disabled = false;
          if (!res.ok) {
            error.textContent = (res.body.error && res.body.error.message) || "Something went wrong. Please try again.";
            error.classList.remove("d-none");
            refreshPanel();
            return;
          }
          dialog.close();
          field("notes").value = "";
          var note = document.createElement("div");
          note.className = "alert alert-success";
          note.setAttribute("role", "status");
          note.id = "request-sent";
          note.append(res.body.message + " ");
          var link = document.createElement("a");
          link.href = res.body.url; link.className = "alert-link"; link.textContent = "View your request";
          note.append(link);
          var old = document.getElementById("request-sent");
          if (old) old.remove();
          panel.parentNode.insertBefore(note, panel);
          refreshPanel();
        }).catch(function () {
          button.disabled = false;
          error.textContent = "The request could not be sent. Check your connection and try again.";
          error.classList.remove("d-none");
        });
      });
    }
  }

  // --- the booking page: status, actions and history follow live events ---
  var body = document.getElementById("booking-body");
  if (body) {
    var refreshBody = refresher(body);
    bookingTypes.forEach(function (type) {
      document.addEventListener("live:" + type, function (e) {
        if (!e.detail || String(e.detail.booking_id) !== body.dataset.bookingId) return;
        refreshBody().then(function () {
          var badge = document.getElementById("status-badge");
          if (badge) say("Status: " + badge.textContent);
        });
      });
    });
    onReconnect(function () { refreshBody(); });
  }

  // --- my bookings ---
  var mine = document.getElementById("mine-body");
  if (mine) {
    var refreshMine = refresher(mine);
    bookingTypes.forEach(function (type) { document.addEventListener("live:" + type, function () { refreshMine(); }); });
    onReconnect(function () { refreshMine(); });
  }
})();
