// Live pages: the server-sent events stream becomes DOM events ("live:booking.confirmed"), and every region a
// template marks is re-rendered by the server when a matching event arrives:
//   <div data-live-region="book_panel" data-refresh-on="booking.* availability.changed open"
//        data-refresh-if="instructor_id=5">{% block book_panel %}…{% endblock %}</div>
// The region's HTML is the named block of the page's own template (fetched as the page's URL with ?region=).
// A refresh keeps what the person was doing: open <details>, typed text, focus, and [data-live-keep] parts;
// it waits while they type in the region or while a page script pauses it (data-live-paused).
(function () {
  "use strict";
  var body = document.body;

  function csrf() { var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ""; }

  // Post a form as the browser would (the answer is HTML); `follow: false` stops at the redirect.
  function postForm(form, options) {
    var follow = !options || options.follow !== false;
    return fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin", redirect: follow ? "follow" : "manual",
      headers: { "Accept": "text/html", "X-CSRFToken": csrf() }
    });
  }
  // Call the JSON API with the session cookie; resolves to { ok, status, data }.
  function postJson(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: data === undefined ? undefined : JSON.stringify(data),
      headers: { "Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": csrf() }
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (d) { return { ok: r.ok, status: r.status, data: d }; });
    });
  }
  function parse(html) { return new DOMParser().parseFromString(html, "text/html"); }

  // --- regions -------------------------------------------------------------------------------------
  function regionUrl(name, base) {
    var url = new URL(base || location.href, location.href);
    url.hash = "";
    url.searchParams.set("region", name);
    return url.toString();
  }
  function fetchRegion(name, base) {
    return fetch(regionUrl(name, base), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); });
  }
  function wants(region, type, detail) {
    var hit = (region.dataset.refreshOn || "").split(/\s+/).some(function (p) {
      return p === type || (p.slice(-2) === ".*" && type.indexOf(p.slice(0, -1)) === 0);
    });
    var cond = region.dataset.refreshIf;
    if (!hit || !cond || type === "open") return hit;
    var kv = cond.split("=");
    return !!detail && String(detail[kv[0]]) === kv[1];
  }
  function typing(region) {
    var a = document.activeElement;
    return !!a && region.contains(a) && a.matches("textarea, input:not([type=hidden]):not([type=submit]):not([type=button])") && !!a.value;
  }
  function swap(region, html) {
    var open = Array.prototype.map.call(region.querySelectorAll("details[open][id]"), function (d) { return d.id; });
    var typed = {};
    region.querySelectorAll("textarea[id], input[id]:not([type=hidden])").forEach(function (f) { if (f.value) typed[f.id] = f.value; });
    var focused = document.activeElement && region.contains(document.activeElement) ? document.activeElement.id : "";
    var previous = document.createElement("div");
    previous.append.apply(previous, Array.prototype.slice.call(region.childNodes));
    var fresh = document.createElement("div");
    fresh.innerHTML = html;
    previous.querySelectorAll("[data-live-keep][id]").forEach(function (kept) {
      var slot = fresh.querySelector("#" + CSS.escape(kept.id));
      if (slot) slot.replaceWith(kept);
    });
    region.append.apply(region, Array.prototype.slice.call(fresh.childNodes));
    open.forEach(function (id) { var d = document.getElementById(id); if (d && region.contains(d)) d.open = true; });
    Object.keys(typed).forEach(function (id) { var f = document.getElementById(id); if (f && region.contains(f)) f.value = typed[id]; });
    if (focused) { var f = document.getElementById(focused); if (f) f.focus(); }
    region.dispatchEvent(new CustomEvent("live:swapped", { bubbles: true, detail: { previous: previous } }));
  }
  // Re-render one region now; a refresh asked for while one is running runs once more after it.
  function refresh(region) {
    if (region.hasAttribute("data-live-paused") || typing(region)) { region.dataset.liveStale = "1"; return Promise.resolve(); }
    if (region.liveBusy) { region.liveAgain = true; return region.liveBusy; }
    delete region.dataset.liveStale;
    region.liveBusy = fetchRegion(region.dataset.liveRegion)
      .then(function (html) {
        if (region.hasAttribute("data-live-paused") || typing(region)) { region.dataset.liveStale = "1"; return; }
        swap(region, html);
      })
      .catch(function () { /* the page still works; the next event or a reload catches up */ })
      .then(function () {
        region.liveBusy = null;
        if (region.liveAgain) { region.liveAgain = false; return refresh(region); }
      });
    return region.liveBusy;
  }
  function later(region) {
    window.clearTimeout(region.liveTimer);
    region.liveTimer = window.setTimeout(function () { refresh(region); }, 100);
  }
  function regions() { return document.querySelectorAll("[data-live-region]"); }
  // A region that waited for the person to finish typing refreshes once they leave the field.
  document.addEventListener("focusout", function (e) {
    var region = e.target.closest && e.target.closest("[data-live-region][data-live-stale]");
    if (region) window.setTimeout(function () { if (!region.contains(document.activeElement)) later(region); }, 0);
  });

  // --- the event stream ----------------------------------------------------------------------------
  var TYPES = ["booking.requested", "booking.confirmed", "booking.declined", "booking.cancelled", "booking.expired",
    "booking.completed", "booking.no_show", "booking.changed", "message.sent", "message.read",
    "availability.changed", "notification.created", "booking.notes"];
  function dispatch(type, data) {
    document.dispatchEvent(new CustomEvent("live:" + type, { detail: data }));
    regions().forEach(function (region) { if (wants(region, type, data)) later(region); });
  }

  window.live = {
    csrf: csrf, postForm: postForm, postJson: postJson, parse: parse, fetchRegion: fetchRegion,
    refresh: function (region) { return refresh(region); }
  };

  if (!window.EventSource) return;
  var calendars = (body.dataset.calendars || "").split(/[ ,]+/).filter(Boolean);
  if (!body.dataset.userId && calendars.length === 0) return;
  var params = new URLSearchParams();
  calendars.forEach(function (id) { params.append("calendar", id); });
  var url = "/events" + (params.toString() ? "?" + params.toString() : "");
  var source = null;
  var lastId = null;
  function connect() {
    // EventSource resends Last-Event-ID itself after a drop; a fresh connect passes it explicitly.
    source = new EventSource(lastId ? url + (url.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + lastId : url);
    // Every (re)open catches up on what changed before the stream connected or while it was down.
    source.onopen = function () { body.dataset.live = "open"; dispatch("open"); };
    source.onerror = function () { body.dataset.live = "reconnecting"; };
    // The server may have lost events (Redis restarted or was away): catch up as on a reconnect.
    source.addEventListener("refetch", function () { dispatch("open"); });
    // A new name or timezone (saved in another tab) changes how every region reads: render them again.
    source.addEventListener("profile.updated", function () { dispatch("open"); });
    TYPES.forEach(function (type) {
      source.addEventListener(type, function (e) {
        lastId = e.lastEventId || lastId;
        dispatch(type, JSON.parse(e.data));
      });
    });
  }
  window.addEventListener("pagehide", function () { if (source) source.close(); });
  connect();
})();
