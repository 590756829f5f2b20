// racer race server: live leaderboard, copy buttons, confirmations, race form, polling.
(function () {
  "use strict";

  function liveBoard(wrap) {
    var url = wrap.getAttribute("data-board-url");
    var busy = false;
    function signatures() {
      var seen = {};
      wrap.querySelectorAll("tr[data-key]").forEach(function (tr) {
        seen[tr.getAttribute("data-key")] = tr.getAttribute("data-sig");
      });
      return seen;
    }
    function refresh() {
      if (busy || document.hidden) return;
      busy = true;
      fetch(url, { cache: "no-store", credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) return;
          var before = signatures();
          var template = document.createElement("template");
          template.innerHTML = html;
          wrap.replaceChildren(template.content);
          wrap.querySelectorAll("tr[data-key]").forEach(function (tr) {
            if (before[tr.getAttribute("data-key")] !== tr.getAttribute("data-sig")) {
              tr.classList.add("flash");
            }
          });
          wrap.setAttribute("data-refreshed", String(Date.now()));
        })
        .catch(function () { /* the server is away for a moment: try again later */ })
        .finally(function () { busy = false; });
    }
    setInterval(refresh, 5000);
    document.addEventListener("visibilitychange", refresh);
  }

  function copyButton(button) {
    button.addEventListener("click", function () {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (!target) return;
      var text = target.textContent.trim();
      var done = function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done);
        return;
      }
      var range = document.createRange();
      range.selectNodeContents(target);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try { if (document.execCommand("copy")) done(); } catch (e) { /* left selected */ }
    });
  }

  function pollSubmission(element) {
    var url = element.getAttribute("data-poll-submission");
    var state = element.getAttribute("data-state");
    var waitVideo = element.hasAttribute("data-wait-video");
    setInterval(function () {
      if (document.hidden) return;
      fetch(url, { cache: "no-store", credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (!body) return;
          if (body.state !== state || (waitVideo && body.files && body.files.video)) location.reload();
        })
        .catch(function () {});
    }, 3000);
  }

  function raceTypeGroups(select) {
    var show = function () {
      document.querySelectorAll("[data-race-type]").forEach(function (group) {
        group.hidden = group.getAttribute("data-race-type") !== select.value;
      });
    };
    select.addEventListener("change", show);
    show();
  }

  document.querySelectorAll("[data-board-url]").forEach(liveBoard);
  document.querySelectorAll("[data-copy]").forEach(copyButton);
  document.querySelectorAll("[data-poll-submission]").forEach(pollSubmission);
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  var raceType = document.querySelector(".race-form select[name=race_type]");
  if (raceType) raceTypeGroups(raceType);
})();
