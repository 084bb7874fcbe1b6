// Messages, live: open threads fill in as messages arrive, unread bookings glow, the banner follows the
// newest unread message, and the thread form sends with fetch (keeping the text when a send fails).
// Server HTML is escaped by Jinja; user text is never assembled into markup here.
(function () {
  "use strict";
  var me = document.body.dataset.userId;
  if (!me || !window.fetch) return;

  var live = window.live;
  function getHtml(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.text();
    });
  }
  function byBooking(id) { return document.querySelectorAll('[data-booking-id="' + String(id).replace(/\D/g, "") + '"]'); }
  function setGlow(id, on) { byBooking(id).forEach(function (el) { el.classList.toggle("glow", on); }); }
  function threadFor(id) { return document.querySelector('[data-thread-booking-id="' + String(id).replace(/\D/g, "") + '"]'); }

  // --- threads -------------------------------------------------------------------------------------
  function scrollToEnd(section) {
    var box = section.querySelector(".thread-body");
    if (box) box.scrollTop = box.scrollHeight;
  }
  function markRead(section) {
    // Only a thread the user can see counts as read (GETs never mark); message.read clears other tabs' glows.
    if (document.visibilityState !== "visible") { section.dataset.unseen = "1"; return Promise.resolve(); }
    delete section.dataset.unseen;
    return live.postJson("/api/bookings/" + section.dataset.threadBookingId + "/messages/read")
      .catch(function () { /* stays unread until the next refresh or page view */ });
  }
  function refreshThread(section) {
    // The page's "thread" block, re-rendered; only messages not shown yet are added (the form stays as typed).
    return live.fetchRegion("thread").then(function (html) {
      var fresh = live.parse(html).querySelector("[data-thread-list]");
      var list = section.querySelector("[data-thread-list]");
      if (!fresh || !list) return;
      var known = {};
      list.querySelectorAll("[data-message-id]").forEach(function (li) { known[li.dataset.messageId] = true; });
      var added = 0;
      Array.prototype.forEach.call(fresh.children, function (li) {
        if (!li.dataset.messageId || known[li.dataset.messageId]) return;
        var empty = list.querySelector("[data-thread-empty]");
        if (empty) empty.remove();
        var node = document.importNode(li, true);
        node.classList.add("msg-new");
        list.appendChild(node);
        added += 1;
      });
      if (added) { scrollToEnd(section); return markRead(section); }
    }).catch(function () { /* the next event, reconnect or reload catches up */ });
  }
  function showError(form, text) {
    var box = form.querySelector("[data-message-error]");
    var area = form.querySelector("textarea");
    if (box) { box.textContent = text; box.classList.toggle("d-none", !text); }
    if (area) {
      area.classList.toggle("is-invalid", !!text);
      if (text) area.setAttribute("aria-invalid", "true"); else area.removeAttribute("aria-invalid");
    }
  }
  function send(form) {
    var area = form.querySelector("textarea");
    var button = form.querySelector("[data-message-send]");
    var section = form.closest("[data-thread-booking-id]");
    if (!area.value.trim()) { showError(form, "Write a message before sending it."); area.focus(); return; }
    if (button) button.disabled = true;
    live.postJson("/api/bookings/" + section.dataset.threadBookingId + "/messages", { body: area.value.replace(/\r\n/g, "\n") }).then(function (res) {
      if (!res.ok) {
        showError(form, (res.data.error && res.data.error.message) || "Your message was not sent. Try again in a moment.");
        return;
      }
      area.value = "";
      showError(form, "");
      if (section) return refreshThread(section);
    }).catch(function () {
      showError(form, "Your message was not sent because the connection failed. Check your connection and try again.");
    }).then(function () {
      if (button) button.disabled = false;
      area.focus();
    });
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.matches("[data-message-form]")) { e.preventDefault(); send(form); }
    else if (form.matches("[data-banner-dismiss]")) { e.preventDefault(); dismiss(form); }
  });
  document.addEventListener("keydown", function (e) {
    // Ctrl+Enter (Cmd+Enter on a Mac) sends from the message box.
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    var form = e.target.closest && e.target.closest("[data-message-form]");
    if (form) { e.preventDefault(); send(form); }
  });

  // --- banner --------------------------------------------------------------------------------------
  function bannerRegion() { return document.getElementById("message-banner"); }
  function refreshBanner() {
    var region = bannerRegion();
    if (!region) return Promise.resolve();
    var url = region.dataset.bannerUrl + "?next=" + encodeURIComponent(location.pathname + location.search);
    return getHtml(url).then(function (html) {
      var fresh = live.parse(html).getElementById("message-banner");
      if (!fresh) return;
      var incoming = fresh.querySelector("[data-banner-message-id]");
      var current = region.querySelector("[data-banner-message-id]");
      if (incoming && current && incoming.dataset.bannerMessageId === current.dataset.bannerMessageId) return;
      region.replaceChildren.apply(region, Array.prototype.map.call(fresh.childNodes, function (n) {
        return document.importNode(n, true);
      }));
    }).catch(function () { /* the next event, reconnect or reload catches up */ });
  }
  function dismiss(form) {
    live.postForm(form, { follow: false }).then(function (r) {
      if (!r.ok && r.type !== "opaqueredirect") throw new Error("HTTP " + r.status);
      return refreshBanner();
    }).catch(function () { form.submit(); });
  }

  // --- live events ---------------------------------------------------------------------------------
  document.addEventListener("live:message.sent", function (e) {
    var d = e.detail || {};
    var section = threadFor(d.booking_id);
    if (section) { refreshThread(section); return; }
    if (String(d.sender_id) === me) return;
    setGlow(d.booking_id, true);
    refreshBanner();
  });
  document.addEventListener("live:message.read", function (e) {
    var d = e.detail || {};
    setGlow(d.booking_id, false);
    var current = document.querySelector("[data-banner-booking-id]");
    if (current && current.dataset.bannerBookingId === String(d.booking_id)) refreshBanner();
  });
  // After (re)connecting, catch up on anything sent while the stream was down.
  document.addEventListener("live:open", function () {
    document.querySelectorAll("[data-thread-booking-id]").forEach(function (s) { refreshThread(s); });
    refreshBanner();
    if (!document.querySelector("[data-booking-id]")) return;
    fetch("/api/bookings/unread", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        var unread = {};
        data.bookings.forEach(function (b) { unread[b.booking_id] = true; });
        document.querySelectorAll("[data-booking-id]").forEach(function (el) {
          el.classList.toggle("glow", !!unread[el.dataset.bookingId]);
        });
      }).catch(function () { /* glows stay as rendered */ });
  });
  // Messages that arrived while the tab was hidden are read once the user comes back to it.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") return;
    document.querySelectorAll("[data-thread-booking-id][data-unseen]").forEach(markRead);
  });
  document.querySelectorAll("[data-thread-booking-id]").forEach(scrollToEnd);
})();
