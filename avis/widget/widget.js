/* avis widget: <div class="avis-widget" data-type="organisme|formation|action|session"
   data-format="score|liste" data-identifiant="…" [data-lang="fr|en"] [data-jsonld="true"]>
   becomes an iframe of this server's widget page, resized to its content. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var origin = new URL(script.src).origin;
  var types = ["organisme", "formation", "action", "session"];
  var apiPaths = {organisme: "organismes-formateurs", formation: "formations",
                  action: "actions", session: "sessions"};
  var count = 0;

  function mount(host) {
    if (host.getAttribute("data-avis-mounted")) { return; }
    var type = host.getAttribute("data-type");
    var format = host.getAttribute("data-format") || "score";
    var identifier = host.getAttribute("data-identifiant");
    if (types.indexOf(type) < 0 || !identifier) { return; }
    host.setAttribute("data-avis-mounted", "1");
    count += 1;
    var id = "avis-widget-" + count;
    var params = new URLSearchParams({identifiant: identifier, cadre: id});
    var lang = host.getAttribute("data-lang");
    if (lang) { params.set("lang", lang); }
    var frame = document.createElement("iframe");
    frame.id = id;
    frame.src = origin + "/widget/" + type + "/" + format + "?" + params.toString();
    frame.title = host.getAttribute("data-title") ||
      (lang === "en" ? "Reviews of former trainees" : "Avis des anciens stagiaires");
    frame.loading = "lazy";
    frame.setAttribute("scrolling", "no");
    frame.style.border = "0";
    frame.style.width = "100%";
    frame.style.height = "120px";
    host.appendChild(frame);
    if (host.getAttribute("data-jsonld") === "true") {
      fetch(origin + "/api/v1/" + apiPaths[type] + "/" + encodeURIComponent(identifier),
            {headers: {Accept: "application/ld+json"}})
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (text) {
          if (!text) { return; }
          var data = document.createElement("script");
          data.type = "application/ld+json";
          data.textContent = text;
          document.head.appendChild(data);
        })
        .catch(function () {});
    }
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !event.data || typeof event.data !== "object") { return; }
    var frame = document.getElementById(String(event.data.avisWidget || ""));
    var height = Number(event.data.height);
    if (frame && frame.tagName === "IFRAME" && height > 0 && height < 5000) {
      frame.style.height = Math.ceil(height) + "px";
    }
  });

  function mountAll() {
    var hosts = document.querySelectorAll("div.avis-widget");
    for (var i = 0; i < hosts.length; i += 1) { mount(hosts[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
