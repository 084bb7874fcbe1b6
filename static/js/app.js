// Small page helpers: remember the browser's timezone and pre-fill timezone pickers with it.
(function () {
  "use strict";
  var tz = "";
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { tz = ""; }
  if (tz) {
    document.cookie = "tz=" + encodeURIComponent(tz) + "; path=/; max-age=31536000; samesite=lax";
    document.querySelectorAll("select[data-browser-tz]").forEach(function (select) {
      if (select.dataset.userChose) return;
      var option = Array.prototype.find.call(select.options, function (o) { return o.value === tz; });
      if (option) select.value = tz;
    });
  }
})();
