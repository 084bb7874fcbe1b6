// Book page and booking page: month, day and length links redraw the calendar in place, the confirm <dialog>
// sends the request as a plain form post, and screen readers hear the new day or status (live.js redraws).
(function () {
  "use strict";
  var said = document.getElementById("live-region");
  function say(text) { if (said && text) { said.textContent = ""; window.setTimeout(function () { said.textContent = text; }, 50); } }

  // --- the booking page: announce the status after a live redraw ---
  var body = document.getElementById("booking-body");
  if (body) {
    body.addEventListener("live:swapped", function () {
      var badge = document.getElementById("status-badge");
      if (badge) say("Status: " + badge.textContent);
    });
  }

  var panel = document.getElementById("book-panel");
  if (!panel) return;

  // Month, day, length and timezone links redraw the panel and keep the address shareable.
  panel.addEventListener("click", function (e) {
    var nav = e.target.closest("a[data-nav]");
    if (!nav || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    history.pushState(null, "", new URL(nav.href, location.href));
    window.live.refresh(panel).then(function () { var h = document.getElementById("day-heading"); if (h) say(h.textContent); });
  });
  window.addEventListener("popstate", function () { window.live.refresh(panel); });

  var dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var form = document.getElementById("confirm-form");
  var error = document.getElementById("confirm-error");
  var lastSlot = null;
  var field = function (name) { return form.querySelector('[name="' + name + '"]'); };
  function showError(text) { error.textContent = text; error.classList.remove("d-none"); }

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
    // "Repeat weekly…" opens the confirm page, where the weeks are chosen and previewed before sending.
    var repeat = document.getElementById("repeat-weekly-link");
    if (repeat) {
      var target = new URL(repeat.getAttribute("href").split("?")[0], location.href);
      ["instructor", "start", "length"].forEach(function (name) {
        if (field(name).value) target.searchParams.set(name, field(name).value);
      });
      repeat.href = target.pathname + target.search;
    }
    dialog.showModal();
    field("notes").focus();
  });
  dialog.querySelector("[data-close]").addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("close", function () { if (lastSlot && document.body.contains(lastSlot)) lastSlot.focus(); });

  // The request page answers as it does without JavaScript: the booking page with a flash, or itself with the refusal.
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    window.live.postForm(form).then(function (r) {
      return r.text().then(function (html) { return { r: r, doc: window.live.parse(html) }; });
    }).then(function (res) {
      button.disabled = false;
      var alert = res.doc.querySelector("main .alert-success, main .alert-danger, main .alert-warning");
      var text = alert ? alert.firstChild.textContent.trim() : "";
      if (!res.r.ok || !alert || !alert.classList.contains("alert-success")) {
        showError(text || "Something went wrong. Please try again.");
        window.live.refresh(panel);
        return;
      }
      dialog.close();
      field("notes").value = "";
      var note = document.createElement("div");
      note.className = "alert alert-success";
      note.setAttribute("role", "status");
      note.id = "request-sent";
      note.append(text + " ");
      var link = document.createElement("a");
      link.href = res.r.url; link.className = "alert-link"; link.textContent = "View your request";
      note.append(link);
      var old = document.getElementById("request-sent");
      if (old) old.remove();
      panel.parentNode.insertBefore(note, panel);
      window.live.refresh(panel);
    }).catch(function () {
      button.disabled = false;
      showError("The request could not be sent. Check your connection and try again.");
    });
  });
})();
