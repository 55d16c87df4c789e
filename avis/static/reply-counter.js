// The characters left in a training body's reply, as it is typed. Without JavaScript the
// textarea's maxlength and the server's check still hold; this only tells how many remain.
(function () {
  "use strict";
  var counter = document.getElementById("reply-counter");
  var field = document.getElementById("text");
  if (!counter || !field) { return; }
  var max = parseInt(counter.getAttribute("data-max"), 10);
  var template = counter.getAttribute("data-template") || "%(num)s / %(max)s";
  var timer = null;
  function show() {
    // Line breaks count as one character, as the server counts them.
    var used = field.value.replace(/\r\n/g, "\n").length;
    counter.textContent = template.replace("%(num)s", String(max - used)).replace("%(max)s", String(max));
  }
  field.setAttribute("aria-describedby",
    ((field.getAttribute("aria-describedby") || "") + " reply-counter").trim());
  counter.hidden = false;
  show();
  // Screen readers hear the count once typing pauses, not at every key.
  field.addEventListener("input", function () {
    counter.setAttribute("aria-live", "off");
    show();
    clearTimeout(timer);
    timer = setTimeout(function () { counter.setAttribute("aria-live", "polite"); show(); }, 800);
  });
}());
