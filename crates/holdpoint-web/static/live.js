// holdpoint web inbox: live updates. The pages work without this script; with it, the
// inbox list and an open action page follow holds as they change, over server-sent
// events (GET /events). Nothing here is trusted: the server re-renders what is shown.
(function () {
  "use strict";
  if (!window.EventSource) return;
  var list = document.getElementById("holds");
  var action = document.querySelector("[data-action]");
  if (!list && !action) return;
  var pending = false;
  function refreshList() {
    if (pending) return;
    pending = true;
    fetch(list.getAttribute("data-live"), { credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        pending = false;
        if (html !== null && html !== undefined) {
          list.innerHTML = html;
          list.setAttribute("data-updated", String(Date.now()));
        }
      })
      .catch(function () { pending = false; });
  }
  var events = new EventSource("/events");
  function onChange(e) {
    var change = {};
    try { change = JSON.parse(e.data); } catch (err) { change = {}; }
    if (list) refreshList();
    if (action && (e.type === "resync" || change.id === action.getAttribute("data-action"))) {
      var note = document.getElementById("changed");
      if (note) note.hidden = false;
    }
  }
  events.addEventListener("hold", onChange);
  events.addEventListener("resync", onChange);
  events.addEventListener("open", function () { document.body.setAttribute("data-live", "open"); });
})();
