// Connect to the server-sent events stream and hand each event to page code as a DOM event.
// Page scripts listen with: document.addEventListener("live:booking.confirmed", (e) => e.detail)
(function () {
  "use strict";
  if (!window.EventSource) return;
  var body = document.body;
  var calendars = (body.dataset.calendars || "").split(/[ ,]+/).filter(Boolean);
  if (!body.dataset.userId && calendars.length === 0) return;
  var params = new URLSearchParams();
  calendars.forEach(function (id) { params.append("calendar", id); });
  var url = "/events" + (params.toString() ? "?" + params.toString() : "");
  var source = null;
  var lastId = null;
  function dispatch(type, data, id) {
    document.dispatchEvent(new CustomEvent("live:" + type, { detail: data }));
    document.dispatchEvent(new CustomEvent("live:any", { detail: { type: type, data: data, id: id } }));
  }
  function connect() {
    // EventSource resends Last-Event-ID itself after a drop; a fresh connect passes it explicitly.
    source = new EventSource(lastId ? url + (url.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + lastId : url);
    source.onopen = function () { body.dataset.live = "open"; document.dispatchEvent(new CustomEvent("live:open")); };
    source.onerror = function () { body.dataset.live = "reconnecting"; };
    source.onmessage = function (e) { lastId = e.lastEventId || lastId; dispatch("message", JSON.parse(e.data), e.lastEventId); };
    ["booking.requested", "booking.confirmed", "booking.declined", "booking.cancelled", "booking.expired",
     "booking.completed", "booking.no_show", "booking.changed", "message.sent", "message.read",
     "availability.changed", "notification.created", "profile.updated"].forEach(function (type) {
      source.addEventListener(type, function (e) {
        lastId = e.lastEventId || lastId;
        dispatch(type, JSON.parse(e.data), e.lastEventId);
      });
    });
  }
  window.addEventListener("pagehide", function () { if (source) source.close(); });
  window.live = { csrf: function () { var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ""; } };
  connect();
})();
