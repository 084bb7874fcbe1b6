// Schedule page: select a time range on the week grid (pointer or keyboard) to open the add-window
// dialog, keep the recurring / one-time labels in step with the date, and hold live redraws meanwhile.
(function () {
  "use strict";
  var root = document.getElementById("schedule");
  if (!root) return;
  var instructorId = root.dataset.instructor;
  var dialog = document.getElementById("window-dialog");
  var slot = dialog ? dialog.querySelector("[data-dialog-slot]") : null;
  var liveRegion = document.getElementById("live-region");
  var home = null; // where the add-window form lives when the dialog is closed
  var anchor = null; // first cell of a keyboard or pointer selection
  var dragging = false;

  function announce(text) { if (liveRegion) { liveRegion.textContent = ""; setTimeout(function () { liveRegion.textContent = text; }, 30); } }

  function toMinutes(hhmm) { var p = hhmm.split(":"); return +p[0] * 60 + +p[1]; }
  function toHHMM(m) { return String(Math.floor(m / 60)).padStart(2, "0") + ":" + String(m % 60).padStart(2, "0"); }

  function dateWords(iso) {
    var d = new Date(iso + "T00:00:00Z");
    if (isNaN(d)) return null;
    return {
      weekday: d.toLocaleDateString("en-GB", { weekday: "long", timeZone: "UTC" }),
      label: d.toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).replace(/,/g, "")
    };
  }

  function labelRepeat(form, iso) {
    var words = dateWords(iso);
    if (!words) return;
    form.querySelectorAll("[data-repeat-label]").forEach(function (label) {
      label.textContent = label.dataset.repeatLabel === "weekly"
        ? "Recurring — every " + words.weekday + " from this date on"
        : "One time — only on " + words.label;
    });
  }

  // --- selection on the week grid --------------------------------------------------------------------
  function column(cell) { return cell.closest(".day-col"); }
  function cellsOf(col) { return Array.prototype.slice.call(col.querySelectorAll(".cell")); }

  function clearSelection() {
    root.querySelectorAll(".cell.is-selected, .cell.is-anchor").forEach(function (c) { c.classList.remove("is-selected", "is-anchor"); c.removeAttribute("aria-pressed"); });
  }

  function paint(from, to) {
    clearSelection();
    var cells = cellsOf(column(from));
    var a = cells.indexOf(from), b = cells.indexOf(to);
    var lo = Math.min(a, b), hi = Math.max(a, b);
    for (var i = lo; i <= hi; i++) { cells[i].classList.add("is-selected"); cells[i].setAttribute("aria-pressed", "true"); }
    from.classList.add("is-anchor");
    return [cells[lo], cells[hi]];
  }

  function finish(from, to) {
    var ends = paint(from, to);
    var col = column(from);
    var start = ends[0].dataset.time;
    var end = toHHMM(toMinutes(ends[1].dataset.time) + 30);
    openDialog(col.dataset.date, start, end);
  }

  function focusCell(cell) {
    root.querySelectorAll('.cell[tabindex="0"]').forEach(function (c) { c.setAttribute("tabindex", "-1"); });
    cell.setAttribute("tabindex", "0");
    cell.focus();
  }

  root.addEventListener("pointerdown", function (e) {
    var cell = e.target.closest && e.target.closest(".cell");
    if (!cell || e.button !== 0) return;
    e.preventDefault();
    focusCell(cell);
    anchor = cell;
    dragging = true;
    paint(cell, cell);
  });

  function cellAt(x, y) {
    if (!anchor) return null;
    var cells = cellsOf(column(anchor));
    var top = cells[0].getBoundingClientRect().top;
    var h = cells[0].getBoundingClientRect().height || 1;
    var i = Math.max(0, Math.min(cells.length - 1, Math.floor((y - top) / h)));
    return cells[i];
  }

  document.addEventListener("pointermove", function (e) {
    if (!dragging || !anchor) return;
    var cell = cellAt(e.clientX, e.clientY);
    if (cell) paint(anchor, cell);
  });

  document.addEventListener("pointerup", function (e) {
    if (!dragging || !anchor) return;
    dragging = false;
    var cell = cellAt(e.clientX, e.clientY) || anchor;
    var from = anchor;
    anchor = null;
    finish(from, cell);
  });

  root.addEventListener("keydown", function (e) {
    var cell = e.target.closest && e.target.closest(".cell");
    if (!cell) return;
    var col = column(cell);
    var cells = cellsOf(col);
    var i = cells.indexOf(cell);
    var next = null;
    if (e.key === "ArrowDown") next = cells[i + 1];
    else if (e.key === "ArrowUp") next = cells[i - 1];
    else if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      var sib = e.key === "ArrowLeft" ? col.previousElementSibling : col.nextElementSibling;
      if (sib && sib.classList.contains("day-col")) { next = cellsOf(sib)[i]; if (anchor) { anchor = null; clearSelection(); } }
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      if (anchor && column(anchor) === col) { var from = anchor; anchor = null; finish(from, cell); }
      else { anchor = cell; paint(cell, cell); announce("Selection starts at " + cell.getAttribute("aria-label") + ". Move with the arrow keys and press Enter at the end."); }
      return;
    } else if (e.key === "Escape") {
      anchor = null;
      clearSelection();
      return;
    }
    if (next) {
      e.preventDefault();
      focusCell(next);
      if (anchor) paint(anchor, next);
    }
  });

  // --- the add-window dialog -------------------------------------------------------------------------
  function openDialog(iso, start, end) {
    var form = document.getElementById("window-form");
    if (!form || !dialog || typeof dialog.showModal !== "function") {
      // No <dialog> support: fill the form on the page and bring it into view.
      if (form) { fill(form, iso, start, end); form.scrollIntoView({ block: "center" }); }
      return;
    }
    home = { parent: form.parentNode, next: form.nextSibling, section: form.closest("section") };
    slot.appendChild(form);
    if (home.section) home.section.hidden = true;
    fill(form, iso, start, end);
    dialog.showModal();
    var first = form.querySelector('input[name="repeat"]');
    (first || form.querySelector("select")).focus();
  }

  function fill(form, iso, start, end) {
    form.elements.occurs_on.value = iso;
    if (form.elements.start_time) form.elements.start_time.value = start;
    if (form.elements.end_time) form.elements.end_time.value = end;
    labelRepeat(form, iso);
  }

  if (dialog) {
    dialog.addEventListener("close", function () {
      var form = document.getElementById("window-form");
      if (form && home) home.parent.insertBefore(form, home.next);
      if (home && home.section) home.section.hidden = false;
      home = null;
      clearSelection();
    });
    dialog.addEventListener("click", function (e) { if (e.target.closest("[data-close-dialog]")) dialog.close(); });
  }

  document.addEventListener("change", function (e) {
    if (e.target.name === "occurs_on" && e.target.form && e.target.form.id === "window-form") labelRepeat(e.target.form, e.target.value);
    if (e.target.matches("[data-autosubmit]")) e.target.form.submit();
  });

  // --- live: another tab or person changed this schedule (live.js redraws the region) ---------------
  // Never redraw under the user's hands: the region waits while the dialog is open or a selection is made.
  var region = root.querySelector("[data-live-region]");
  function holdLive() {
    if (!region) return;
    var busy = (dialog && dialog.open) || anchor || dragging;
    if (busy) { region.setAttribute("data-live-paused", ""); return; }
    region.removeAttribute("data-live-paused");
    if (region.dataset.liveStale) window.live.refresh(region);
  }
  ["pointerdown", "pointerup", "keyup", "click"].forEach(function (type) { document.addEventListener(type, holdLive); });
  if (dialog) dialog.addEventListener("close", holdLive);
  if (region) region.addEventListener("live:swapped", function () { announce("The schedule was updated."); });
})();
