// Reloads the part of a page marked #inbox every data-refresh-seconds while
// the page is visible, so an open alert inbox shows new alerts. Without
// JavaScript a <noscript> refresh does the same for the whole page.
"use strict";
(function () {
  var seconds = Number(document.body.getAttribute("data-refresh-seconds"));
  var target = document.getElementById("inbox");
  if (!seconds || !target || !window.fetch || !window.DOMParser) {
    return;
  }
  function refresh() {
    if (document.visibilityState !== "visible") {
      return;
    }
    fetch(window.location.href, { credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        // Signed out meanwhile (a redirect to sign-in): show that page.
        if (response.type === "opaqueredirect" || !response.ok) {
          window.location.reload();
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("inbox");
        if (fresh) {
          target.replaceChildren.apply(target, Array.prototype.slice.call(fresh.childNodes));
        }
      })
      .catch(function () {
        // Offline for a moment: the next round tries again.
      });
  }
  window.setInterval(refresh, seconds * 1000);
})();
