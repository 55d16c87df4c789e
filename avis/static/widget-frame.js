/* Inside a widget's iframe: tell the partner page how tall the content is. */
(function () {
  "use strict";
  var frameId = new URLSearchParams(window.location.search).get("cadre");
  if (!frameId || window.parent === window) { return; }
  function report() {
    var height = document.documentElement.scrollHeight;
    window.parent.postMessage({avisWidget: frameId, height: height}, "*");
  }
  window.addEventListener("load", report);
  window.addEventListener("resize", report);
  report();
})();
