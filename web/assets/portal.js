// Small helpers for every page: copy buttons and confirmations. No inline script anywhere
// (the Content-Security-Policy forbids it): behaviour hangs on data- attributes.
"use strict";
document.addEventListener("click", function (e) {
  var copy = e.target.closest("[data-copy]");
  if (copy) {
    var src = document.getElementById(copy.getAttribute("data-copy"));
    if (src && navigator.clipboard) {
      navigator.clipboard.writeText(src.textContent).then(function () { copy.textContent = "Copied"; });
    }
  }
});
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { e.preventDefault(); }
});
